// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "lcore_worker.hpp"
#include "sipfast/core/net_address.hpp"
#include "sipfast/loadgen/outbox.hpp"
#include "sipfast/loadgen/stats.hpp"
#include "sipfast/loadgen/uac.hpp"
#include "sipfast/loadgen/uas.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::dpdk {

/// The traffic of the kernel-bypass benchmark (bench/RESULTS.md): a caller (alice) and a callee
/// (bob) making calls through the proxy as fast as it answers, with `window` calls in flight.
struct generator_config {
    core::net_address proxy;  ///< where alice and bob send (the proxy's UDP listen point)
    core::net_address alice;  ///< port: the first of `alice_ports`, one per call slot
    core::net_address bob;
    std::string_view domain;  ///< bob@domain must be in the proxy's location service
    unsigned window = 64;
    /// Calls started per second, on schedule whatever the answers (open loop, for latency at a
    /// chosen share of the worker's rate); `window` still caps those in flight. 0: closed loop.
    std::uint32_t rate = 0;
    std::uint64_t timeout_ns = 2'000'000'000;  ///< of the INVITE, then of the BYE
    /// Alice's calls take these ports in turn, so RSS spreads her calls over the worker queues as it
    /// would the flows of many phones.
    std::uint16_t alice_ports = 1000;
};

/// The benchmark's traffic source (`--generate CALLS`): an lcore of its own that plays alice and bob
/// on the far side of a port made of rte_rings, so the workers poll it as they would a NIC and no
/// kernel is in the loop. Alice and bob are sipfast-loadgen's call model (loadgen::uac and
/// loadgen::uas, docs/loadgen.md): the same calls, measured the same way, as the kernel-socket
/// generator makes; this lcore only frames their datagrams. Frames from an agent go to the queue its
/// address hashes to, as RSS would spread them.
///
/// Closed loop by default: a call starts whenever fewer than `window` are in flight; with `rate`, on
/// a schedule instead (a call that finds the window full is late, not lost: it starts when one
/// ends). Nothing is sent again (a ring port loses nothing): both agents run with T1 equal to the
/// timeout, so a call whose INVITE or BYE goes `timeout_ns` unanswered (alice's Timer B, Timer F)
/// fails and frees its slot.
class generator_lcore {
public:
    generator_lcore(const shared_state& s, const generator_config& c, std::vector<rte_ring*> to_port,
                    std::vector<rte_ring*> from_port);

    void run();
    /// Alice's counts: calls started, completed, failed (by why), call setup (INVITE to 200).
    [[nodiscard]] const loadgen::uac_stats& caller() const noexcept { return *alice_stats_; }
    [[nodiscard]] const loadgen::uas_stats& callee() const noexcept { return bob_stats_; }
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }

private:
    static void send_alice(void* self, std::span<const loadgen::datagram> batch) noexcept;
    static void send_bob(void* self, std::span<const loadgen::datagram> batch) noexcept;
    void send(const core::net_address& from, const core::net_address& to, std::string_view text) noexcept;
    void send_arp(const core::net_address& from, const net::mac_address& mac);
    void flush();
    [[nodiscard]] net::mac_address mac_of(const core::net_address& a) const noexcept;

    const shared_state& s_;
    generator_config c_;
    std::array<char, 48> alice_host_{}, bob_host_{};  // the text the agents' configurations view
    std::unique_ptr<loadgen::uac_stats> alice_stats_;  // three histograms: 650 KB, off the stack
    loadgen::uas_stats bob_stats_;
    std::unique_ptr<loadgen::uac> alice_;
    std::unique_ptr<loadgen::uas> bob_;
    loadgen::outbox alice_out_, bob_out_;
    std::vector<rte_ring*> to_port_, from_port_;
    std::vector<std::vector<rte_mbuf*>> pending_;  // per queue, enqueued once a turn
    std::uint64_t dropped_ = 0;
    std::uint16_t ip_id_ = 1;
    std::array<char, 65536 + sip::padding_bytes> scratch_{};  // a datagram whose mbuf has too little tailroom
};

} // namespace sipfast::dpdk
