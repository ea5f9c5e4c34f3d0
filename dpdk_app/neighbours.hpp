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

/// What became of news about a neighbour: taken (new, refreshed or answered), or refused and why.
enum class neighbour_news : std::uint8_t {
    taken,
    unsolicited,  ///< an ARP reply or neighbour advertisement answering nothing we asked
    conflict,     ///< another MAC claimed for an address we know: the known one stays
    no_room,      ///< every slot of its bucket holds a live neighbour: nothing is evicted for it
};

/// How fresh a neighbour found is.
enum class neighbour_state : std::uint8_t {
    none,   ///< unknown (or forgotten): ask, and let the sender retransmit
    fresh,  ///< confirmed within the reachable time: use it
    stale,  ///< past the reachable time but within the probe time: use it and ask again
};

/// Where our neighbours are, shared by every lcore, so the lcore that owns a call can send to a peer
/// another lcore heard from.
///
/// Nobody is believed on their word alone (ARP and ND carry no proof, and a forged one redirects a
/// call's traffic to whoever sent it):
/// - `answered`: an ARP reply or neighbour advertisement is taken only while we have a question out
///   for that address (`should_ask` keeps it open answer_window_ns); the first answer closes it.
///   Unsolicited and gratuitous ones are refused, so they cannot overwrite anything.
/// - `heard`: a datagram the pipeline accepted from an on-link source confirms that source where
///   it is: a new neighbour, or the known one refreshed (RFC 4861 §7.3.1's upper-layer hint). A
///   different MAC for a live neighbour is refused; its answer to our next question settles it.
/// - `introduced`: an ARP request or neighbour solicitation for our address tells us where the
///   asker is (RFC 826's rule for the target; Linux does the same): only an address we do not know.
/// - Aging: an entry is fresh for reachable_ns after its last confirmation (ARP's and RFC 4861's
///   30 s), stale for probe_ns more (used, and asked about again at most once a second), then
///   forgotten.
///
/// Fixed size: buckets of `ways` slots by a hash of the address. What is not live is reused; a live
/// neighbour is never evicted by news about another address. Readers take no lock (a sequence
/// number per bucket, retried while a write is in progress); writers, rare since an unchanged
/// entry is only refreshed, take the bucket's flag. Times are the caller's (nanoseconds, one clock).
class neighbours {
public:
    static constexpr std::uint64_t default_reachable_ns = 30'000'000'000;
    static constexpr std::uint64_t probe_ns = 5'000'000'000;         ///< stale and still used while asked about
    static constexpr std::uint64_t answer_window_ns = 3'000'000'000;  ///< how long a question waits for its answer
    static constexpr std::uint64_t ask_interval_ns = 1'000'000'000;   ///< at most one question a second per address
    /// Traffic confirms a neighbour at most this often: within it, news that changes nothing is
    /// read, not written (every accepted datagram would otherwise write the shared line).
    static constexpr std::uint64_t confirm_interval_ns = 1'000'000'000;
    static constexpr std::size_t ways = 4;

    explicit neighbours(std::uint64_t reachable_ns = default_reachable_ns) noexcept : reachable_ns_(reachable_ns) {}

    /// An ARP reply or neighbour advertisement from `ip` at `peer`.
    neighbour_news answered(const core::net_address& ip, const link_peer& peer, std::uint64_t now_ns) noexcept {
        return update(ip, [&](bucket& b) {
            record* r = b.find(key(ip));
            if (r == nullptr || !r->asking || since(now_ns, r->asked_ns) >= answer_window_ns) return neighbour_news::unsolicited;
            r->peer = peer;
            r->has_peer = true;
            r->confirmed_ns = now_ns;
            r->asking = false;
            return neighbour_news::taken;
        });
    }
    /// A datagram the pipeline accepted came from on-link `ip` at `peer`.
    neighbour_news heard(const core::net_address& ip, const link_peer& peer, std::uint64_t now_ns) noexcept {
        return learn(ip, peer, now_ns, true);
    }
    /// An ARP request or neighbour solicitation for one of our addresses came from `ip` at `peer`.
    neighbour_news introduced(const core::net_address& ip, const link_peer& peer, std::uint64_t now_ns) noexcept {
        return learn(ip, peer, now_ns, false);
    }

    /// Where `ip` is, if known (`peer` set unless none).
    [[nodiscard]] neighbour_state find(const core::net_address& ip, link_peer& peer, std::uint64_t now_ns) const noexcept {
        const bucket& b = table_[index(ip)];
        const core::net_address k = key(ip);
        for (;;) {
            const std::uint32_t before = b.seq.load(std::memory_order_acquire);
            if (before & 1u) continue;
            neighbour_state state = neighbour_state::none;
            link_peer p{};
            for (const record& r : b.slots) {
                if (!r.used || r.ip != k || !r.has_peer) continue;
                state = state_of(r, now_ns);
                p = r.peer;
                break;
            }
            std::atomic_thread_fence(std::memory_order_acquire);
            if (b.seq.load(std::memory_order_relaxed) != before) continue;
            if (state != neighbour_state::none) peer = p;
            return state;
        }
    }

    /// Whether to ask where `ip` is now (at most once a second per address); true opens the question
    /// that `answered` takes the answer to. False also when the bucket has no room to remember it.
    [[nodiscard]] bool should_ask(const core::net_address& ip, std::uint64_t now_ns) noexcept {
        bool ask = false;
        (void)update(ip, [&](bucket& b) {
            const core::net_address k = key(ip);
            record* r = b.find(k);
            if (r == nullptr) {
                r = b.free_slot(*this, now_ns);
                if (r == nullptr) return neighbour_news::no_room;
                *r = record{};
                r->ip = k;
                r->used = true;
            } else if (r->asking && since(now_ns, r->asked_ns) < ask_interval_ns) {
                return neighbour_news::taken;
            }
            r->asking = true;
            r->asked_ns = now_ns;
            ask = true;
            return neighbour_news::taken;
        });
        return ask;
    }

    [[nodiscard]] std::uint64_t reachable_ns() const noexcept { return reachable_ns_; }

private:
    // Lcores' clocks may disagree by a few nanoseconds (tsc_clock): a time from another one read as
    // "just now", never as 2^64 ago.
    static std::uint64_t since(std::uint64_t now_ns, std::uint64_t then_ns) noexcept {
        return now_ns > then_ns ? now_ns - then_ns : 0;
    }
    struct record {
        core::net_address ip;
        link_peer peer;
        std::uint64_t confirmed_ns = 0;
        std::uint64_t asked_ns = 0;
        bool used = false;
        bool has_peer = false;
        bool asking = false;  // a question is out: its answer is awaited
    };
    struct bucket {
        std::atomic<std::uint32_t> seq{0};  // odd while written
        std::atomic<bool> writing{false};
        std::array<record, ways> slots{};

        record* find(const core::net_address& k) noexcept {
            for (record& r : slots)
                if (r.used && r.ip == k) return &r;
            return nullptr;
        }
        // An unused slot, else one whose neighbour is forgotten and whose question (if any) is over.
        record* free_slot(const neighbours& n, std::uint64_t now_ns) noexcept {
            for (record& r : slots)
                if (!r.used) return &r;
            for (record& r : slots)
                if (!n.live(r, now_ns)) return &r;
            return nullptr;
        }
    };

    [[nodiscard]] neighbour_state state_of(const record& r, std::uint64_t now_ns) const noexcept {
        if (!r.has_peer) return neighbour_state::none;
        const std::uint64_t age = since(now_ns, r.confirmed_ns);
        if (age < reachable_ns_) return neighbour_state::fresh;
        return age < reachable_ns_ + probe_ns ? neighbour_state::stale : neighbour_state::none;
    }
    [[nodiscard]] bool live(const record& r, std::uint64_t now_ns) const noexcept {
        return state_of(r, now_ns) != neighbour_state::none || (r.asking && since(now_ns, r.asked_ns) < answer_window_ns);
    }

    neighbour_news learn(const core::net_address& ip, const link_peer& peer, std::uint64_t now_ns, bool confirms) noexcept {
        if (recently_confirmed(ip, peer, now_ns)) return neighbour_news::taken;
        return update(ip, [&](bucket& b) {
            const core::net_address k = key(ip);
            record* r = b.find(k);
            if (r != nullptr && state_of(*r, now_ns) != neighbour_state::none) {
                if (r->peer != peer) return neighbour_news::conflict;
                if (confirms) r->confirmed_ns = now_ns;
                return neighbour_news::taken;
            }
            if (r == nullptr) {
                r = b.free_slot(*this, now_ns);
                if (r == nullptr) return neighbour_news::no_room;
                *r = record{};
                r->ip = k;
                r->used = true;
            }
            r->peer = peer;
            r->has_peer = true;
            r->confirmed_ns = now_ns;
            r->asking = false;  // a question about it is moot now
            return neighbour_news::taken;
        });
    }

    // Whether `ip` is known at `peer`, confirmed within confirm_interval_ns (a read, no lock).
    [[nodiscard]] bool recently_confirmed(const core::net_address& ip, const link_peer& peer, std::uint64_t now_ns) const noexcept {
        const bucket& b = table_[index(ip)];
        const core::net_address k = key(ip);
        for (;;) {
            const std::uint32_t before = b.seq.load(std::memory_order_acquire);
            if (before & 1u) continue;
            bool hit = false;
            for (const record& r : b.slots)
                if (r.used && r.ip == k && r.has_peer && r.peer == peer && since(now_ns, r.confirmed_ns) < confirm_interval_ns &&
                    state_of(r, now_ns) != neighbour_state::none)
                    hit = true;
            std::atomic_thread_fence(std::memory_order_acquire);
            if (b.seq.load(std::memory_order_relaxed) != before) continue;
            return hit;
        }
    }
    static core::net_address key(core::net_address ip) noexcept {
        ip.port = 0;
        return ip;
    }
    std::size_t index(const core::net_address& ip) const noexcept {
        std::uint32_t h = 2166136261u;
        for (std::size_t i = 0; i < (ip.family == 4 ? 4u : 16u); ++i) h = (h ^ ip.ip[i]) * 16777619u;
        return h % table_.size();
    }
    // Runs `f` on the bucket of `ip` as its only writer; readers retry meanwhile.
    template <class F>
    neighbour_news update(const core::net_address& ip, F&& f) noexcept {
        bucket& b = table_[index(ip)];
        bool expected = false;
        while (!b.writing.compare_exchange_weak(expected, true, std::memory_order_acquire)) expected = false;
        b.seq.fetch_add(1, std::memory_order_relaxed);
        std::atomic_thread_fence(std::memory_order_release);
        const neighbour_news news = f(b);
        b.seq.fetch_add(1, std::memory_order_release);
        b.writing.store(false, std::memory_order_release);
        return news;
    }

    std::uint64_t reachable_ns_;
    std::array<bucket, 1024> table_{};
};

} // namespace sipfast::dpdk
