// SPDX-License-Identifier: Apache-2.0
#include "generator_lcore.hpp"

#include <rte_lcore.h>

#include "mbuf_frame.hpp"

namespace sipfast::dpdk {

namespace {
const net::mac_address alice_mac{0x02, 0, 0, 0, 0, 0x09};
const net::mac_address bob_mac{0x02, 0, 0, 0, 0, 0x20};
}  // namespace

generator_lcore::generator_lcore(const shared_state& s, const call_generator::config& c, std::vector<rte_ring*> to_port,
                                 std::vector<rte_ring*> from_port)
    : s_(s), gen_(c), c_(c), to_port_(std::move(to_port)), from_port_(std::move(from_port)), pending_(to_port_.size()) {
    for (auto& p : pending_) p.reserve(4 * burst + 64);
}

net::mac_address generator_lcore::mac_of(const core::net_address& a) const noexcept {
    return a.ip == c_.bob.ip ? bob_mac : alice_mac;
}

void generator_lcore::send(const core::net_address& from, const core::net_address& to, std::string_view text) {
    rte_mbuf* m = make_frame(s_.pool, [&](std::span<std::uint8_t> out) {
        return net::encode_udp(out, mac_of(from), s_.our_mac, from, to, text, ip_id_++);
    });
    if (m == nullptr) {
        ++dropped_;
        return;
    }
    // As RSS would: one flow (source address and port) always to one queue.
    const std::uint32_t h = (static_cast<std::uint32_t>(from.port) ^ from.ip[3]) * 2654435761u;
    pending_[(h >> 16) % pending_.size()].push_back(m);
}

void generator_lcore::send_arp(const core::net_address& from, const net::mac_address& mac) {
    // A request for the proxy's address: the proxy answers and, above all, learns where we are.
    rte_mbuf* m = make_frame(s_.pool, [&](std::span<std::uint8_t> out) { return net::encode_arp_request(out, mac, from, c_.proxy); });
    if (m != nullptr) pending_[0].push_back(m);
}

void generator_lcore::flush() {
    for (std::size_t q = 0; q < pending_.size(); ++q) {
        auto& p = pending_[q];
        if (p.empty()) continue;
        const unsigned sent = rte_ring_enqueue_burst(to_port_[q], reinterpret_cast<void* const*>(p.data()),
                                                     static_cast<unsigned>(p.size()), nullptr);
        for (std::size_t i = sent; i < p.size(); ++i) {
            ++dropped_;
            rte_pktmbuf_free(p[i]);
        }
        p.clear();
    }
}

void generator_lcore::run() {
    send_arp(c_.alice, alice_mac);
    send_arp(c_.bob, bob_mac);
    flush();
    const std::uint64_t begin = now_ns();
    while (!s_.stop->load(std::memory_order_relaxed) && now_ns() - begin < 10'000'000) rte_pause();  // the ARPs land first
    std::uint64_t last_expiry = begin;
    while (!s_.stop->load(std::memory_order_relaxed)) {
        const std::uint64_t now = now_ns();
        for (rte_ring* r : from_port_) {
            rte_mbuf* in[burst];
            const unsigned n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(in), burst, nullptr);
            for (unsigned i = 0; i < n; ++i) {
                const net::decoded_frame f = net::decode({rte_pktmbuf_mtod(in[i], const std::uint8_t*), in[i]->data_len});
                if (f.kind == net::frame_kind::udp) {
                    const std::string_view text(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
                    for (const call_generator::message& m : gen_.on_message(f.dst, text, now)) send(m.from, c_.proxy, m.text);
                }
                rte_pktmbuf_free(in[i]);
            }
        }
        for (const call_generator::message& m : gen_.start_calls(now)) send(m.from, c_.proxy, m.text);
        flush();
        if (now - last_expiry > 1'000'000) {
            gen_.expire(now);
            last_expiry = now;
        }
    }
}

} // namespace sipfast::dpdk
