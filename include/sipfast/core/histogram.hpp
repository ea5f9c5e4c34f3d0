// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "sipfast/core/counter.hpp"

namespace sipfast::core {

/// A latency histogram in nanoseconds with log-linear buckets (HDR-histogram style): every power of
/// two from 1 µs to about 9 minutes is split into 8 equal sub-buckets, so a value is placed within
/// 12.5 % of itself; below 1 µs is one bucket, beyond the last power one overflow bucket. Fixed
/// memory, one writer (the shard's worker), readers on any thread; histograms of several shards
/// merge by adding buckets.
class histogram {
public:
    static constexpr unsigned sub_bits = 3;                 // 8 sub-buckets per power of two
    static constexpr unsigned min_exp = 10;                 // 2^10 ns ≈ 1 µs: the first power bucketed
    static constexpr unsigned max_exp = 39;                 // 2^39 ns ≈ 550 s: larger values overflow
    static constexpr std::size_t buckets = 1 + (max_exp - min_exp) * (1u << sub_bits) + 1;
    static constexpr std::size_t overflow = buckets - 1;     // has no upper bound (Prometheus: +Inf)

    /// Bucket of a value.
    [[nodiscard]] static constexpr std::size_t index_of(std::uint64_t ns) noexcept {
        if (ns < (std::uint64_t{1} << min_exp)) return 0;
        const unsigned e = static_cast<unsigned>(std::bit_width(ns)) - 1;  // ns in [2^e, 2^(e+1))
        if (e >= max_exp) return overflow;
        const auto sub = static_cast<std::size_t>((ns >> (e - sub_bits)) & ((1u << sub_bits) - 1));
        return 1 + (e - min_exp) * (std::size_t{1} << sub_bits) + sub;
    }
    /// Largest value a bucket holds (its upper bound, exclusive of the next); the overflow bucket's
    /// is the largest value there is.
    [[nodiscard]] static constexpr std::uint64_t upper_bound(std::size_t i) noexcept {
        if (i == 0) return (std::uint64_t{1} << min_exp) - 1;
        if (i >= overflow) return ~std::uint64_t{0};
        const std::size_t k = i - 1;
        const unsigned e = min_exp + static_cast<unsigned>(k >> sub_bits);
        const std::uint64_t sub = k & ((1u << sub_bits) - 1);
        return (std::uint64_t{1} << e) + ((sub + 1) << (e - sub_bits)) - 1;
    }

    /// Writer only.
    void record(std::uint64_t ns) noexcept {
#ifndef SIPFAST_STATS_OFF
        ++counts_[index_of(ns)];
        sum_ += ns;
#else
        (void)ns;
#endif
    }

    [[nodiscard]] std::uint64_t count(std::size_t i) const noexcept { return counts_[i].get(); }
    [[nodiscard]] std::uint64_t sum() const noexcept { return sum_.get(); }
    [[nodiscard]] std::uint64_t total() const noexcept {
        std::uint64_t n = 0;
        for (const counter& c : counts_) n += c.get();
        return n;
    }
    /// The value at quantile q (0..1): the upper bound of the bucket it falls in (2^max_exp ns for
    /// the overflow bucket: "at least that"); 0 when empty.
    [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
        const std::uint64_t n = total();
        if (n == 0) return 0;
        auto rank = static_cast<std::uint64_t>(q * static_cast<double>(n));
        if (rank >= n) rank = n - 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets; ++i) {
            seen += counts_[i].get();
            if (seen > rank) return i == overflow ? std::uint64_t{1} << max_exp : upper_bound(i);
        }
        return std::uint64_t{1} << max_exp;
    }

    /// Adds another shard's histogram (a reader's merge).
    histogram& operator+=(const histogram& o) noexcept {
        for (std::size_t i = 0; i < buckets; ++i) counts_[i].add(o.counts_[i].get());
        sum_.add(o.sum_.get());
        return *this;
    }

private:
    std::array<counter, buckets> counts_{};
    counter sum_;
};

} // namespace sipfast::core
