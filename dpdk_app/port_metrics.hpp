// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lcore_worker.hpp"

namespace sipfast::dpdk {

/// Prometheus text for sipfast-dpdk (docs/architecture.md, "Operations"): every shard's `sipfast_*`
/// families as sipfastd writes them, then the port's, its queues' and the lcores' frame counters.
[[nodiscard]] std::string metrics_text(const std::vector<std::unique_ptr<lcore_worker>>& workers, std::uint16_t port,
                                       unsigned queues);

} // namespace sipfast::dpdk
