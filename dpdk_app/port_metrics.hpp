// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lcore_worker.hpp"
#include "sipfast/core/metric.hpp"

namespace sipfast::dpdk {

/// The lcores' statistics for every view: their shards' (as sipfastd's) and their frame counters.
[[nodiscard]] std::vector<core::metric_set> worker_metrics(const std::vector<std::unique_ptr<lcore_worker>>& workers);

/// Prometheus text for sipfast-dpdk (docs/architecture.md, "Operations"): the workers' families,
/// then the port's and its queues' (read from the port, not counted by us).
[[nodiscard]] std::string metrics_text(const std::vector<std::unique_ptr<lcore_worker>>& workers, std::uint16_t port,
                                       unsigned queues);

/// The port's own counters for the end-of-run report: "port rx 10 tx 10 imissed 0 rx_nombuf 0".
[[nodiscard]] std::string port_summary(std::uint16_t port);

} // namespace sipfast::dpdk
