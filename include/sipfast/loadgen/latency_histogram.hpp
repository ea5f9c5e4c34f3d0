// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "sipfast/core/counter.hpp"

namespace sipfast::loadgen {

/// Latencies in microseconds, as a load generator reports them: every microsecond its own bucket up
/// to 2 ms, then 1024 sub-buckets per power of two (a value placed within 0.1 % of itself) up to
/// 2^36 µs (19 hours; larger values land in the last bucket), and the exact largest value. Where
/// core::histogram (12.5 %, nanoseconds) is what sipfastd exports, this one is fine enough to compare
/// two generators' p99s. Fixed memory (216 KiB); one writer, readers on any thread (relaxed
/// counters), so a reporter reads it live and takes differences between two snapshots.
class latency_histogram {
public:
    static constexpr unsigned sub_bits = 10;
    static constexpr std::uint64_t exact_below = std::uint64_t{2} << sub_bits;  // 2048 µs
    static constexpr unsigned max_exp = 36;
    static constexpr std::size_t buckets = exact_below + (max_exp - (sub_bits + 1)) * (std::size_t{1} << sub_bits);

    [[nodiscard]] static constexpr std::size_t index_of(std::uint64_t us) noexcept {
        if (us < exact_below) return static_cast<std::size_t>(us);
        const unsigned e = static_cast<unsigned>(std::bit_width(us)) - 1;  // us in [2^e, 2^(e+1))
        if (e >= max_exp) return buckets - 1;
        const auto sub = static_cast<std::size_t>((us >> (e - sub_bits)) & ((std::uint64_t{1} << sub_bits) - 1));
        return exact_below + (e - (sub_bits + 1)) * (std::size_t{1} << sub_bits) + sub;
    }
    /// Smallest value a bucket holds: the value itself below 2 ms.
    [[nodiscard]] static constexpr std::uint64_t lower_bound(std::size_t i) noexcept {
        if (i < exact_below) return i;
        const std::size_t k = i - exact_below;
        const unsigned e = sub_bits + 1 + static_cast<unsigned>(k >> sub_bits);
        const std::uint64_t sub = k & ((std::size_t{1} << sub_bits) - 1);
        return (std::uint64_t{1} << e) + (sub << (e - sub_bits));
    }

    /// Writer only.
    void record(std::uint64_t us) noexcept {
        ++counts_[index_of(us)];
        ++total_;
        sum_ += us;
        if (us > max_.get()) max_ = us;
    }
    /// Adds another histogram (a reader's merge of several writers).
    latency_histogram& operator+=(const latency_histogram& o) noexcept {
        for (std::size_t i = 0; i < buckets; ++i)
            if (const std::uint64_t n = o.counts_[i].get()) counts_[i].add(n);
        total_.add(o.total_.get());
        sum_.add(o.sum_.get());
        if (o.max_.get() > max_.get()) max_ = o.max_.get();
        return *this;
    }
    /// What was recorded since `earlier` (a snapshot of this one): for the reports of one second.
    /// The maximum of the difference is the largest bucket's lower bound (the exact one is unknown).
    [[nodiscard]] latency_histogram since(const latency_histogram& earlier) const noexcept {
        latency_histogram d;
        std::uint64_t top = 0;
        for (std::size_t i = 0; i < buckets; ++i) {
            const std::uint64_t n = counts_[i].get() - earlier.counts_[i].get();
            if (n != 0) {
                d.counts_[i] = n;
                top = i;
            }
        }
        d.total_ = total_.get() - earlier.total_.get();
        d.sum_ = sum_.get() - earlier.sum_.get();
        d.max_ = d.total_.get() == 0 ? 0 : (max_.get() < lower_bound(top + 1) ? max_.get() : lower_bound(top));
        return d;
    }

    /// Calls f(lower_bound, count) for every bucket that holds a value, in ascending order.
    template <class F>
    void for_each_bucket(F&& f) const {
        for (std::size_t i = 0; i < buckets; ++i)
            if (const std::uint64_t n = counts_[i].get()) f(lower_bound(i), n);
    }

    [[nodiscard]] std::uint64_t total() const noexcept { return total_.get(); }
    [[nodiscard]] std::uint64_t max() const noexcept { return max_.get(); }
    [[nodiscard]] double mean() const noexcept {
        const std::uint64_t n = total_.get();
        return n == 0 ? 0.0 : static_cast<double>(sum_.get()) / static_cast<double>(n);
    }
    /// The smallest recorded value v (to the bucket) such that at least a fraction q (0..1) of the
    /// values are at most v: quantile(0.5) of 1..1000 is 500, quantile(0.999) is 999; 0 when empty;
    /// quantile(1) is max().
    [[nodiscard]] std::uint64_t quantile(double q) const noexcept {
        const std::uint64_t n = total_.get();
        if (n == 0) return 0;
        if (q >= 1.0) return max_.get();
        const double want = q * static_cast<double>(n);
        auto rank = static_cast<std::uint64_t>(want);
        if (static_cast<double>(rank) < want) ++rank;  // ceil
        if (rank == 0) rank = 1;
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets; ++i) {
            seen += counts_[i].get();
            if (seen >= rank) {
                const std::uint64_t v = lower_bound(i);
                return v > max_.get() ? max_.get() : v;
            }
        }
        return max_.get();
    }

private:
    std::array<core::counter, buckets> counts_{};
    core::counter total_, sum_, max_;
};

/// The quantiles every report prints.
struct latency_summary {
    std::uint64_t count = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
    double mean = 0;
    [[nodiscard]] static latency_summary of(const latency_histogram& h) noexcept {
        return {h.total(), h.quantile(0.5), h.quantile(0.9), h.quantile(0.99), h.quantile(0.999), h.max(), h.mean()};
    }
};

} // namespace sipfast::loadgen
