// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "sipfast/net/frame.hpp"
#include "sipfast/core/net_address.hpp"

namespace sipfast::dpdk {

/// How a neighbour is reached on the link: its MAC and the VLAN it spoke to us on (0: untagged).
struct link_peer {
    net::mac_address mac{};
    std::uint16_t vlan = 0;
    friend bool operator==(const link_peer&, const link_peer&) = default;
};

/// Where our neighbours are, shared by every lcore: learned from what any of them receives (ARP, ND
/// and IP), so the lcore that owns a call can send to a peer another lcore heard from. Fixed size,
/// open slots by hash, newest wins. Readers take no lock (a sequence number per entry, retried while
/// a write is in progress); writers, rare since an unchanged entry is not rewritten, take the
/// entry's flag. `asked_ns` rate-limits our ARP requests and neighbour solicitations for an address.
class neighbours {
public:
    void learn(const core::net_address& ip, const link_peer& peer) noexcept {
        entry& e = slot(ip);
        link_peer known{};
        if (read(e, ip, known) && known == peer) return;
        write(e, [&] {
            e.ip = key(ip);
            e.peer = peer;
            e.used = true;
        });
    }
    [[nodiscard]] bool find(const core::net_address& ip, link_peer& peer) const noexcept { return read(slot(ip), ip, peer); }
    /// Whether to ask where `ip` is now (at most once a second per address).
    [[nodiscard]] bool should_ask(const core::net_address& ip, std::uint64_t now_ns) noexcept {
        entry& e = slot(ip);
        std::uint64_t last = e.asked_ns.load(std::memory_order_relaxed);
        return now_ns - last >= 1'000'000'000 && e.asked_ns.compare_exchange_strong(last, now_ns);
    }

private:
    struct entry {
        std::atomic<std::uint32_t> seq{0};  // odd while written
        std::atomic<bool> writing{false};
        std::atomic<std::uint64_t> asked_ns{0};
        core::net_address ip;
        link_peer peer;
        bool used = false;
    };
    static core::net_address key(core::net_address ip) noexcept {
        ip.port = 0;
        return ip;
    }
    entry& slot(const core::net_address& ip) const noexcept {
        std::uint32_t h = 2166136261u;
        for (std::size_t i = 0; i < (ip.family == 4 ? 4u : 16u); ++i) h = (h ^ ip.ip[i]) * 16777619u;
        return table_[h % table_.size()];
    }
    static bool read(const entry& e, const core::net_address& ip, link_peer& peer) noexcept {
        for (;;) {
            const std::uint32_t before = e.seq.load(std::memory_order_acquire);
            if (before & 1u) continue;
            const bool hit = e.used && e.ip == key(ip);
            const link_peer p = e.peer;
            std::atomic_thread_fence(std::memory_order_acquire);
            if (e.seq.load(std::memory_order_relaxed) != before) continue;
            if (hit) peer = p;
            return hit;
        }
    }
    template <class F>
    static void write(entry& e, F&& f) noexcept {
        bool expected = false;
        while (!e.writing.compare_exchange_weak(expected, true, std::memory_order_acquire)) expected = false;
        e.seq.fetch_add(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        f();
        e.seq.fetch_add(1, std::memory_order_release);
        e.writing.store(false, std::memory_order_release);
    }
    mutable std::array<entry, 4096> table_{};
};

} // namespace sipfast::dpdk
