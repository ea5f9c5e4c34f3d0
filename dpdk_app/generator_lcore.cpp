// SPDX-License-Identifier: Apache-2.0
#include "generator_lcore.hpp"

#include <rte_lcore.h>

#include <cstring>

#include "mbuf_frame.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/loadgen/pacer.hpp"

namespace sipfast::dpdk {

namespace {
const net::mac_address alice_mac{0x02, 0, 0, 0, 0, 0x09};
const net::mac_address bob_mac{0x02, 0, 0, 0, 0, 0x20};
// Calls started in one turn at most: a large window fills over a few turns, with the answers to the
// first calls taken in between, instead of as one burst the rings may not hold.
constexpr unsigned starts_per_turn = 64;
// Datagrams the agents queue before their outbox hands them over to be framed.
constexpr std::size_t outbox_batch = 64;
}  // namespace

generator_lcore::generator_lcore(const shared_state& s, const generator_config& c, std::vector<rte_ring*> to_port,
                                 std::vector<rte_ring*> from_port)
    : s_(s), c_(c), alice_stats_(std::make_unique<loadgen::uac_stats>()), alice_out_(outbox_batch, &send_alice, this),
      bob_out_(outbox_batch, &send_bob, this), to_port_(std::move(to_port)), from_port_(std::move(from_port)),
      pending_(to_port_.size()) {
    // What one turn can queue for one queue: two answers to each frame taken from every ring (bob's
    // 180 and 200, alice's ACK and BYE) and the calls started; no growth on the way.
    for (auto& p : pending_) p.reserve(2 * from_port_.size() * burst + starts_per_turn + 64);
    const std::uint64_t now = now_ns();
    loadgen::uac_config a;
    a.local_host = core::format_host(c_.alice, alice_host_);
    a.local_port = c_.alice.port;
    a.local_ports = c_.alice_ports;
    a.target = c_.proxy;
    a.request_host = c_.domain;
    a.user = "bob";
    a.from_user = "alice";
    // T1 as long as the timeout: Timer A and E would first fire when Timer B and F do, so nothing is
    // sent again (the ring port loses nothing) and an unanswered call fails at the timeout.
    a.t1_ns = a.t2_ns = a.timeout_ns = c_.timeout_ns;
    a.capacity = c_.window;
    a.run_id = static_cast<std::uint32_t>(now);  // this run's Call-IDs are not a former run's
    alice_ = std::make_unique<loadgen::uac>(a, *alice_stats_, now);
    loadgen::uas_config b;
    b.local_host = core::format_host(c_.bob, bob_host_);
    b.local_port = c_.bob.port;
    b.user = "bob";
    b.t1_ns = b.t2_ns = c_.timeout_ns;  // a 200 is sent again only if its ACK is that late
    b.capacity = 4 * c_.window;  // 200s awaiting their ACK: at most one per call in flight, and room to hash
    bob_ = std::make_unique<loadgen::uas>(b, bob_stats_, now);
}

net::mac_address generator_lcore::mac_of(const core::net_address& a) const noexcept {
    return a.ip == c_.bob.ip ? bob_mac : alice_mac;
}

void generator_lcore::send_alice(void* self, std::span<const loadgen::datagram> batch) noexcept {
    auto* g = static_cast<generator_lcore*>(self);
    core::net_address from = g->c_.alice;
    for (const loadgen::datagram& d : batch) {
        from.port = d.from_port != 0 ? d.from_port : g->c_.alice.port;  // the call's own port
        g->send(from, d.to, d.text);
    }
}

void generator_lcore::send_bob(void* self, std::span<const loadgen::datagram> batch) noexcept {
    auto* g = static_cast<generator_lcore*>(self);
    for (const loadgen::datagram& d : batch) g->send(g->c_.bob, d.to, d.text);
}

void generator_lcore::send(const core::net_address& from, const core::net_address& to, std::string_view text) noexcept {
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
    alice_out_.flush();
    bob_out_.flush();
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
    loadgen::pacer schedule(c_.rate, now_ns());
    while (!s_.stop->load(std::memory_order_relaxed)) {
        const std::uint64_t now = now_ns();
        for (rte_ring* r : from_port_) {
            rte_mbuf* in[burst];
            const unsigned n = rte_ring_dequeue_burst(r, reinterpret_cast<void**>(in), burst, nullptr);
            for (unsigned i = 0; i < n; ++i) {
                const net::decoded_frame f = net::decode({rte_pktmbuf_mtod(in[i], const std::uint8_t*), in[i]->data_len});
                if (f.kind == net::frame_kind::udp) {
                    std::string_view text(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
                    // The agents parse with sip::parse, whose decoders may load whole vectors up to
                    // padding_bytes past the message: zero copy when the mbuf has that much tailroom.
                    const auto* buf_end = static_cast<const std::uint8_t*>(in[i]->buf_addr) + in[i]->buf_len;
                    if (f.payload.data() + f.payload.size() + sip::padding_bytes > buf_end) {
                        std::memcpy(scratch_.data(), text.data(), text.size());  // a UDP payload fits
                        text = {scratch_.data(), text.size()};
                    }
                    if (f.dst.ip == c_.bob.ip && f.dst.port == c_.bob.port) bob_->on_datagram(text, f.src, now, bob_out_);
                    else if (f.dst.ip == c_.alice.ip) alice_->on_datagram(text, now, alice_out_);
                }
                rte_pktmbuf_free(in[i]);
                // Open loop measures latency: what answers each frame leaves at once, as phones
                // would answer, not batched with the answers to the rest of the burst.
                if (c_.rate != 0) flush();
            }
        }
        // Closed loop: as many as the window has room for. Open loop: those the schedule has due
        // (kept from the start, so a slow turn is caught up, starts_per_turn at a time).
        const std::uint64_t due = c_.rate == 0 ? starts_per_turn : schedule.due(now, starts_per_turn);
        std::uint64_t n = 0;
        while (n < due && alice_->in_progress() < c_.window && alice_->start_call(now, alice_out_)) ++n;
        schedule.take(n);
        alice_->advance(now, alice_out_);  // timeouts
        bob_->advance(now, bob_out_);
        flush();
    }
}

} // namespace sipfast::dpdk
