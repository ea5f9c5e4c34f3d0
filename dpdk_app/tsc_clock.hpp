// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "sipfast/core/clock.hpp"

namespace sipfast::dpdk {

/// The monotonic clock in nanoseconds as an lcore reads it several times a burst: the TSC scaled,
/// not clock_gettime (5 % of an lcore's time). Anchored to core::monotonic_ns, which the TCP thread
/// stamps its messages with, and re-anchored every ~2^30 cycles so the two never drift apart by
/// more than the TSC's error over a fraction of a second. Never goes back. One per lcore.
class tsc_clock {
public:
    tsc_clock() noexcept : mult_((std::uint64_t{1'000'000'000} << shift) / rte_get_tsc_hz()) { anchor(rte_rdtsc()); }

    [[nodiscard]] std::uint64_t now() noexcept {
        const std::uint64_t t = rte_rdtsc();
        if (t - tsc0_ >= reanchor_cycles) anchor(t);
        last_ = ns0_ + (((t - tsc0_) * mult_) >> shift);
        return last_;
    }

private:
    static constexpr unsigned shift = 24;  // 2^30 cycles * mult stays below 2^64 for any TSC over 1 MHz
    static constexpr std::uint64_t reanchor_cycles = std::uint64_t{1} << 30;

    void anchor(std::uint64_t t) noexcept {
        const std::uint64_t steady = core::monotonic_ns();
        ns0_ = steady > last_ ? steady : last_;
        tsc0_ = t;
    }

    std::uint64_t mult_;  // nanoseconds per cycle, fixed point
    std::uint64_t ns0_ = 0;
    std::uint64_t tsc0_ = 0;
    std::uint64_t last_ = 0;
};

} // namespace sipfast::dpdk
