// SPDX-License-Identifier: Apache-2.0
// Whether a port and the worker lcores given can work together (docs/dpdk.md, "On bare metal"),
// judged before anything is configured, so a layout that cannot work is refused with what to change
// instead of running slowly or failing deep in a queue set-up. Pure: the caller asks DPDK for the
// facts (rte_eth_dev_socket_id, rte_lcore_to_socket_id, the port's queue counts).
#pragma once

#include <span>
#include <string>

namespace sipfast::dpdk {

struct port_layout {
    int socket = -1;            ///< the port's NUMA node; negative when unknown (a virtual device)
    unsigned max_rx_queues = 0;
    unsigned max_tx_queues = 0;
};

/// "" when each worker lcore can have its own RX and TX queue on the port and sits on the port's
/// NUMA node; otherwise why not and what to change. `worker_lcores` and `worker_sockets` go
/// together, one entry per worker. A remote node is refused unless `allow_remote_numa`: every
/// packet would cross the interconnect twice (DMA into the port's node, read from the lcore's), and
/// the mbufs come from the port's node.
[[nodiscard]] inline std::string layout_fault(const port_layout& port, std::span<const unsigned> worker_lcores,
                                              std::span<const unsigned> worker_sockets, bool allow_remote_numa) {
    const std::size_t workers = worker_lcores.size();
    if (workers > port.max_rx_queues || workers > port.max_tx_queues)
        return "the port has " + std::to_string(port.max_rx_queues) + " RX and " + std::to_string(port.max_tx_queues) +
               " TX queues; " + std::to_string(workers) + " worker lcores need one of each: give fewer lcores (-l) or a "
               "port with more queues";
    if (port.socket < 0 || allow_remote_numa) return {};
    for (std::size_t i = 0; i < workers && i < worker_sockets.size(); ++i)
        if (worker_sockets[i] != static_cast<unsigned>(port.socket))
            return "lcore " + std::to_string(worker_lcores[i]) + " is on NUMA node " + std::to_string(worker_sockets[i]) +
                   ", the port on node " + std::to_string(port.socket) + ": take lcores of node " +
                   std::to_string(port.socket) + " (lscpu -e shows each CPU's node), or --allow-remote-numa to run anyway";
    return {};
}

} // namespace sipfast::dpdk
