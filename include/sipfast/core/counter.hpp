// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>

namespace sipfast::core {

/// A statistic with one writer (the shard's worker) and any number of readers (a scrape, sipfastctl).
/// The writer adds with a relaxed load and store, no locked instruction: it costs what a plain
/// increment costs, and a reader on another thread sees a value that was true at some moment.
/// Summing shards on read is the reader's job (docs/architecture.md, "Operations").
class counter {
public:
    counter() noexcept = default;
    counter(std::uint64_t v) noexcept : v_(v) {}  // NOLINT: counters read and compare as numbers
    counter(const counter& o) noexcept : v_(o.get()) {}
    counter& operator=(const counter& o) noexcept {
        v_.store(o.get(), std::memory_order_relaxed);
        return *this;
    }

#ifndef SIPFAST_STATS_OFF
    /// Writer only.
    void add(std::uint64_t n) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    /// Writer only; for gauges (transactions active).
    void sub(std::uint64_t n) noexcept { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
#else
    // Only for the benchmark that measures what counting costs (bench/pipeline_bench.cpp).
    void add(std::uint64_t) noexcept {}
    void sub(std::uint64_t) noexcept {}
#endif
    counter& operator++() noexcept {
        add(1);
        return *this;
    }
    counter& operator--() noexcept {
        sub(1);
        return *this;
    }
    counter& operator+=(std::uint64_t n) noexcept {
        add(n);
        return *this;
    }

    [[nodiscard]] std::uint64_t get() const noexcept { return v_.load(std::memory_order_relaxed); }
    operator std::uint64_t() const noexcept { return get(); }  // NOLINT

private:
    std::atomic<std::uint64_t> v_{0};
};

} // namespace sipfast::core
