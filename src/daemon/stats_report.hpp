// SPDX-License-Identifier: Apache-2.0
// What `sipfastctl stats` shows: every row of the metric tables summed over the instances, with
// rates since the previous call, and latency quantiles per histogram; as an aligned table or JSON.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "sipfast/core/metric.hpp"

namespace sipfast::daemon {

struct stats_sources {
    std::span<const core::metric_set> sets;
    std::size_t workers = 0;
    std::uint64_t uptime_ns = 0;
};

/// Remembers the totals of the previous report, so each report gives rates over the time since.
/// Called from one thread (the ops thread).
class stats_reporter {
public:
    [[nodiscard]] std::string text(const stats_sources& s, std::uint64_t now_ns);
    [[nodiscard]] std::string json(const stats_sources& s, std::uint64_t now_ns);

    struct row {
        std::string name;  ///< the row's title, or "title label" for one label of a dimension
        std::uint64_t total = 0;
        bool gauge = false;
        bool part = false;  ///< one label's share of the row above
    };
    struct latency {
        std::string name;
        std::uint64_t count = 0;
        double p50_us = 0, p99_us = 0, p999_us = 0;
    };
    [[nodiscard]] static std::vector<row> rows(const stats_sources& s);
    [[nodiscard]] static std::vector<latency> latencies(const stats_sources& s);

private:
    /// Rate per second of each counter since the previous report (the first: since start).
    [[nodiscard]] std::vector<double> rates(const std::vector<row>& now_rows, const stats_sources& s, std::uint64_t now_ns);

    std::map<std::string, std::uint64_t> previous_;
    std::uint64_t previous_ns_ = 0;
};

} // namespace sipfast::daemon
