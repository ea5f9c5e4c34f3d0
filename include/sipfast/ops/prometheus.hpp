// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sipfast/core/metric.hpp"

namespace sipfast::ops {

/// Who is being scraped.
struct build_info {
    std::string_view version;
    std::uint64_t start_time_s = 0;  ///< Unix time the process started
};

/// Renders the Prometheus text exposition format (version 0.0.4) of every row of every set:
/// `sipfast_` names, `_total` counters, `_seconds` for nanosecond rows and histograms (cumulative
/// `le` buckets), a worker label for per-worker sets, a label per dimension. Reads the counters
/// without stopping anyone.
[[nodiscard]] std::string render_prometheus(std::span<const core::metric_set> sets, const build_info& who);

} // namespace sipfast::ops
