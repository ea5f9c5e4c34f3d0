// SPDX-License-Identifier: Apache-2.0
// What `sipfastctl stats` shows: totals summed over the shards, rates since the previous call, and
// latency quantiles per histogram; as an aligned table or as JSON.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>

#include "sipfast/io/tcp_server.hpp"
#include "sipfast/proxy/stats.hpp"

namespace sipfast::daemon {

struct stats_sources {
    std::span<const proxy::shard_stats* const> shards;
    const io::tcp_counters* tcp = nullptr;
    std::uint64_t uptime_ns = 0;
};

/// Remembers the totals of the previous report, so each report gives rates over the time since.
/// Called from one thread (the ops thread).
class stats_reporter {
public:
    [[nodiscard]] std::string text(const stats_sources& s, std::uint64_t now_ns);
    [[nodiscard]] std::string json(const stats_sources& s, std::uint64_t now_ns);

private:
    struct row {
        std::string name;
        std::uint64_t total = 0;
        bool gauge = false;
    };
    struct latency {
        std::string name;
        std::uint64_t count = 0;
        double p50_us = 0, p99_us = 0, p999_us = 0;
    };
    [[nodiscard]] static std::vector<row> rows(const proxy::shard_stats& total, const stats_sources& s);
    [[nodiscard]] static std::vector<latency> latencies(const proxy::shard_stats& total);
    /// Rate per second of each counter since the previous report (the first: since start).
    [[nodiscard]] std::vector<double> rates(const std::vector<row>& now_rows, const stats_sources& s, std::uint64_t now_ns);

    std::map<std::string, std::uint64_t> previous_;
    std::uint64_t previous_ns_ = 0;
};

} // namespace sipfast::daemon
