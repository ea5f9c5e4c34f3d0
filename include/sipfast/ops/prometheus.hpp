// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sipfast/io/tcp_server.hpp"
#include "sipfast/proxy/stats.hpp"

namespace sipfast::ops {

/// What one scrape shows: every shard's statistics (labelled by worker), the TCP thread's if there
/// is one, and who we are.
struct metrics_view {
    std::span<const proxy::shard_stats* const> shards;
    const io::tcp_counters* tcp = nullptr;
    std::string_view version;
    std::uint64_t start_time_s = 0;  ///< Unix time the daemon started
};

/// Renders the Prometheus text exposition format (version 0.0.4): `sipfast_` names, `_total`
/// counters, `_seconds` histograms with cumulative `le` buckets, labels for worker, method, status
/// class, reason and cause. Reads the counters without stopping anyone.
[[nodiscard]] std::string render_prometheus(const metrics_view& v);

/// The method label of a method index ("INVITE", ..., "OTHER").
[[nodiscard]] std::string_view method_label(std::size_t m) noexcept;

} // namespace sipfast::ops
