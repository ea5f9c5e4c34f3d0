// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <vector>

#include "call_generator.hpp"
#include "lcore_worker.hpp"

namespace sipfast::dpdk {

/// The benchmark's traffic source (`--generate CALLS`): an lcore of its own that plays alice and bob
/// (call_generator) on the far side of a port made of rte_rings, so the workers poll it as they
/// would a NIC and no kernel is in the loop. Frames from an agent go to the queue its address
/// hashes to, as RSS would spread them.
class generator_lcore {
public:
    generator_lcore(const shared_state& s, const call_generator::config& c, std::vector<rte_ring*> to_port,
                    std::vector<rte_ring*> from_port);

    void run();
    [[nodiscard]] const call_generator& calls() const noexcept { return gen_; }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

private:
    void send(const core::net_address& from, const core::net_address& to, std::string_view text);
    void send_arp(const core::net_address& from, const net::mac_address& mac);
    void flush();
    [[nodiscard]] net::mac_address mac_of(const core::net_address& a) const noexcept;

    const shared_state& s_;
    call_generator gen_;
    call_generator::config c_;
    std::vector<rte_ring*> to_port_, from_port_;
    std::vector<std::vector<rte_mbuf*>> pending_;  // per queue, enqueued once a turn
    std::uint64_t dropped_ = 0;
    std::uint16_t ip_id_ = 1;
};

} // namespace sipfast::dpdk
