// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>

namespace sipfast::core {

/// The monotonic clock every thread of a backend reads, in nanoseconds: what the shards' timer
/// wheels, the latency histograms and the TCP thread's deadlines are measured on, so times taken
/// on one thread compare with times taken on another. The library itself never reads it: the
/// pipeline is driven by the `now` its backend passes in.
[[nodiscard]] inline std::uint64_t monotonic_ns() noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

/// The wall clock, in nanoseconds since 1970-01-01 UTC: only for what leaves the process or outlives
/// it (a Date header, an expiry written to disk). It steps; durations are taken on monotonic_ns.
[[nodiscard]] inline std::int64_t unix_ns() noexcept {
    return static_cast<std::int64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

} // namespace sipfast::core
