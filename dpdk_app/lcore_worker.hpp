// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "fragment_sources.hpp"
#include "neighbours.hpp"
#include "tsc_clock.hpp"
#include "sipfast/core/counter.hpp"
#include "sipfast/core/metric.hpp"
#include "sipfast/daemon/daemon_config.hpp"
#include "sipfast/net/frame.hpp"
#include "sipfast/proxy/mail_hub.hpp"
#include "sipfast/proxy/shard.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::dpdk {

constexpr std::uint16_t burst = 32;

/// Each lcore's reassembly table (rte_ip_frag): what it may hold bounds the mbufs it keeps, and the
/// mbuf pool is sized for it (sipfast_dpdk.cpp).
struct fragment_table {
    static constexpr std::uint32_t max_datagrams = 1024;  ///< incomplete datagrams at once
    static constexpr std::uint32_t buckets = 256;
    static constexpr std::uint32_t bucket_entries = 8;    ///< 2048 slots: room to spare for hashing
    static constexpr std::uint32_t fragments_per_datagram = RTE_LIBRTE_IP_FRAG_MAX_FRAG;  ///< more: dropped
    static constexpr std::uint64_t timeout_ns = 2'000'000'000;  ///< to complete (RFC 791 leaves it to us)
    /// The most mbufs one lcore's table holds: every datagram at its most fragments, plus the death
    /// row (freed each turn).
    static constexpr std::uint32_t mbufs = max_datagrams * fragments_per_datagram + RTE_IP_FRAG_DEATH_ROW_MBUF_LEN;
};

/// What every lcore reads and none writes after start (the neighbour table aside, which is built
/// for sharing).
struct shared_state {
    const proxy::proxy_config* config = nullptr;
    const daemon::dpdk_config* dpdk = nullptr;  // our addresses and gateways
    neighbours* neighbour_table = nullptr;
    std::atomic<bool>* stop = nullptr;  // any lcore ending a replay or a timed run ends them all
    std::uint16_t port = 0;
    rte_mempool* pool = nullptr;
    net::mac_address our_mac{};
    proxy::mail_hub* hub = nullptr;
    const proxy::shard_control* control = nullptr;  // reload and drain, as sipfastd's
    std::size_t mtu = 1500;         // the port's: larger IP packets go as fragments
    bool checksum_offload = false;  // the port completes IPv4 header and UDP checksums
    unsigned exit_when_idle_ms = 0;
    std::uint64_t deadline_ns = 0;  // --seconds
    bool framing_only = false;
    bool have_tap = false;          // the exception path: frames for the kernel go out this port
    std::uint16_t tap = 0;
};

/// What an lcore did besides the pipeline's own statistics; single writer, read by the ops thread.
struct lcore_counters {
    core::counter rx, tx, tx_dropped, arp_answered, nd_answered, not_for_us, no_neighbour, exception, copied, echoed,
        to_kernel, from_kernel, reassembled, fragmented, bad_checksum,
        // Fragments of a new datagram refused (its source over fragment_sources::per_source, or the
        // table full), and fragments freed because their datagram did not complete in time.
        fragments_refused, fragments_expired,
        // ARP replies and neighbour advertisements answering no question of ours, and another MAC
        // claimed for a live neighbour: both refused (neighbours.hpp).
        neighbour_unsolicited, neighbour_conflict;

    /// What every view shows of these fields (Prometheus, the end-of-run report).
    [[nodiscard]] static std::span<const core::metric> metrics() noexcept;
};

/// The monotonic clock every lcore and the pipeline run on.
[[nodiscard]] std::uint64_t now_ns() noexcept;

/// One lcore: its RX/TX queue pair, its shard, its fragment table.
class lcore_worker {
public:
    lcore_worker(const shared_state& s, std::uint16_t queue);
    ~lcore_worker();
    lcore_worker(const lcore_worker&) = delete;
    lcore_worker& operator=(const lcore_worker&) = delete;

    /// Polls until the stop flag, the deadline, or (replays) the idle limit.
    void run();

    [[nodiscard]] const lcore_counters& counters() const noexcept { return c_; }
    [[nodiscard]] const proxy::shard_stats& stats() const noexcept { return shard_.stats(); }

private:
    [[nodiscard]] bool ours(const core::net_address& ip) const noexcept;
    [[nodiscard]] const proxy::listen_point* listener(const core::net_address& dst) const noexcept;
    [[nodiscard]] core::net_address next_hop(const core::net_address& to) const noexcept;
    void handle(rte_mbuf* m, std::uint64_t now);
    void reclaim_fragments(std::uint64_t now);
    void count(neighbour_news news) noexcept;
    [[nodiscard]] bool on_link(const core::net_address& ip) const noexcept;
    void reassemble(rte_mbuf* m, const net::decoded_frame& f, std::uint64_t now);
    bool to_kernel(rte_mbuf* m);
    void from_kernel();
    void echo(const net::decoded_frame& f);
    void deliver(const net::decoded_frame& f, const proxy::listen_point& l, rte_mbuf* m, std::uint64_t now);
    void deliver_payload(const net::decoded_frame& f, const proxy::listen_point& l, std::string_view payload, std::uint64_t now);
    template <class F>
    void answer(F&& write);
    void send_outbox();
    /// The outbox's rooms (proxy::outbox::set_room): mbufs a message is written straight into.
    static std::span<char> room(void* self, void*& frame) noexcept;
    static void release(void* self, void* frame) noexcept;
    /// Sends `o`, written in its own mbuf's room, with its headers written in front of it.
    bool send_in_place(const proxy::outgoing& o, const net::l2_header& l2, const core::net_address& from);
    void queue_tx(rte_mbuf* m, std::uint8_t latency = 0, std::uint64_t received_ns = 0);
    void flush_tx();

    const shared_state& s_;
    std::uint16_t queue_;
    tsc_clock clock_;
    proxy::shard shard_;
    neighbours& neighbours_;
    lcore_counters c_;
    struct tx_latency {
        std::uint8_t slot = 0;  // the histogram (stats.hpp), 0: none
        std::uint64_t received_ns = 0;
    };
    rte_mbuf* tx_[burst];
    std::array<tx_latency, burst> tx_latency_{};
    std::uint16_t tx_count_ = 0;
    std::uint64_t tx_oldest_ns_ = 0;  // when the first frame of the partial burst was queued
    std::uint16_t ip_id_ = 1;
    std::uint32_t frag_id_ = 1;  // Identification of the datagrams we fragment (32 bits for IPv6)
    std::array<char, 65536 + sip::padding_bytes> scratch_{};
    std::array<std::uint8_t, 65536 + 18 + sip::padding_bytes> frame_scratch_{};
    rte_ip_frag_tbl* frags_;
    rte_ip_frag_death_row death_row_{};
    fragment_sources fragment_sources_{fragment_table::max_datagrams, fragment_table::timeout_ns};
};

} // namespace sipfast::dpdk
