// SPDX-License-Identifier: Apache-2.0
// One lcore's run-to-completion loop (docs/architecture.md, "The fast path"): rx_burst ->
// Ethernet/ARP/IPv4/IPv6/UDP decode -> the pipeline -> UDP/IP/Ethernet encode -> tx_burst. Messages
// for another lcore's shard go there through the same one-hop SPSC mailboxes as in sipfastd.
#include "lcore_worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include <cstring>

#include "mbuf_frame.hpp"
#include "sipfast/core/clock.hpp"

namespace sipfast::dpdk {

std::uint64_t now_ns() noexcept { return core::monotonic_ns(); }

lcore_worker::lcore_worker(const shared_state& s, std::uint16_t queue)
    : s_(s), queue_(queue),
      shard_(*s.config, queue, s.hub, s.control, now_ns(),
             [](void* self, proxy::outbox&) { static_cast<lcore_worker*>(self)->send_outbox(); }, this),
      neighbours_(*s.neighbour_table),
      frags_(rte_ip_frag_table_create(fragment_table::buckets, fragment_table::bucket_entries, fragment_table::max_datagrams,
                                      rte_get_tsc_hz() * (fragment_table::timeout_ns / 1'000'000) / 1000,
                                      static_cast<int>(rte_socket_id()))) {
    // Forwarded messages are serialized straight into the mbuf that carries them: no copy between
    // the pipeline's edits and the wire.
    const std::size_t data_room = rte_pktmbuf_data_room_size(s_.pool);
    if (data_room > RTE_PKTMBUF_HEADROOM + net::max_udp_headers)
        shard_.out().set_room(&lcore_worker::room, &lcore_worker::release, this,
                              data_room - RTE_PKTMBUF_HEADROOM - net::max_udp_headers);
}

std::span<char> lcore_worker::room(void* self, void*& frame) noexcept {
    auto* w = static_cast<lcore_worker*>(self);
    rte_mbuf* m = rte_pktmbuf_alloc(w->s_.pool);
    frame = m;
    if (m == nullptr) return {};
    m->data_off = static_cast<std::uint16_t>(m->data_off + net::max_udp_headers);  // the headers go in front
    return {rte_pktmbuf_mtod(m, char*), static_cast<std::size_t>(rte_pktmbuf_tailroom(m))};
}

void lcore_worker::release(void*, void* frame) noexcept { rte_pktmbuf_free(static_cast<rte_mbuf*>(frame)); }

bool lcore_worker::send_in_place(const proxy::outgoing& o, const net::l2_header& l2, const core::net_address& from) {
    auto* m = static_cast<rte_mbuf*>(o.frame);
    const std::size_t headers = net::l2_length(l2) + (o.destination.family == 4 ? 20u : 40u) + 8u;
    m->data_off = static_cast<std::uint16_t>(m->data_off - headers);
    m->data_len = static_cast<std::uint16_t>(headers + o.size);
    m->pkt_len = m->data_len;
    const std::size_t n = net::encode_udp({rte_pktmbuf_mtod(m, std::uint8_t*), m->data_len}, l2, from, o.destination,
                                          {o.data, o.size}, ip_id_++,
                                          s_.checksum_offload ? net::checksums::offload : net::checksums::software);
    if (n != m->data_len) {
        rte_pktmbuf_free(m);
        return false;
    }
    return true;
}

lcore_worker::~lcore_worker() {
    if (frags_ != nullptr) {
        rte_ip_frag_free_death_row(&death_row_, 0);
        rte_ip_frag_table_destroy(frags_);
    }
}

void lcore_worker::run() {
    std::uint64_t last_rx = clock_.now();
    bool seen = false;
    proxy::shard_stats& st = shard_.stats();
    std::uint64_t turn = clock_.now();
    while (!s_.stop->load(std::memory_order_relaxed)) {
        shard_.follow_control();
        rte_mbuf* rx[burst];
        // Back-pressure: the queue is read only while every mailbox we hand over to has room for a
        // burst; otherwise the NIC's ring holds what comes.
        const std::uint16_t n =
            shard_.ready_for_input(burst * 4096) ? rte_eth_rx_burst(s_.port, queue_, rx, burst) : std::uint16_t{0};
        const std::uint64_t now = clock_.now();
        // A poll-mode lcore never sleeps: a turn that found nothing is idle time, one that did, busy.
        (n > 0 ? st.busy_ns : st.idle_ns) += now - turn;
        turn = now;
        // The next frame's first line is fetched while this one is parsed: its headers are the
        // first bytes read, and the NIC wrote them by DMA, so they are not in this core's caches.
        if (n > 0) rte_prefetch0(rte_pktmbuf_mtod(rx[0], const void*));
        for (std::uint16_t i = 0; i < n; ++i) {
            if (i + 1 < n) rte_prefetch0(rte_pktmbuf_mtod(rx[i + 1], const void*));
            st.bytes_in += rx[i]->pkt_len;
            handle(rx[i], now);
        }
        if (frags_ != nullptr) reclaim_fragments(now);
        if (n > 0) {
            last_rx = now;
            seen = true;
        }
        from_kernel();
        (void)shard_.on_mail(now);  // bounded: what is left waits for the next turn
        shard_.on_tick(now);
        send_outbox();
        // TX buffering: a partial burst waits for more only while RX hands over full bursts (a
        // backlog to batch with), at most ~100 µs; once the queue is drained it goes at once.
        if (tx_count_ != 0 && (n < burst || (now > tx_oldest_ns_ && now - tx_oldest_ns_ >= 100'000))) flush_tx();
        shard_.end_turn();
        if (s_.exit_when_idle_ms != 0 && seen && now - last_rx > std::uint64_t{s_.exit_when_idle_ms} * 1'000'000) break;
        if (s_.deadline_ns != 0 && now >= s_.deadline_ns) break;
    }
    if (tx_count_ != 0) flush_tx();
    s_.stop->store(true);  // one lcore ending a replay or a timed run ends them all
}

/// Every turn, not only when a fragment arrives: what the burst put on the death row is freed, and so
/// are datagrams that did not complete in time (else first fragments that never complete would keep
/// their mbufs until a later fragment happened to hash to their bucket).
void lcore_worker::reclaim_fragments(std::uint64_t now) {
    rte_ip_frag_free_death_row(&death_row_, 3);
    rte_ip_frag_table_del_expired_entries(frags_, &death_row_, rte_rdtsc());
    if (death_row_.cnt != 0) {
        c_.fragments_expired += death_row_.cnt;
        rte_ip_frag_free_death_row(&death_row_, 3);
    }
    fragment_sources_.sweep(now);
}

void lcore_worker::count(neighbour_news news) noexcept {
    if (news == neighbour_news::unsolicited) ++c_.neighbour_unsolicited;
    else if (news == neighbour_news::conflict) ++c_.neighbour_conflict;
}

/// Whether `ip` is on the link (its frames come from its own MAC, not a router's): on the subnet
/// of our address of its family, or anywhere when we own none of that family (host routes).
bool lcore_worker::on_link(const core::net_address& ip) const noexcept {
    for (const daemon::owned_address& a : s_.dpdk->addresses)
        if (a.ip.family == ip.family) return core::same_subnet(a.ip, ip, a.prefix);
    return true;
}

bool lcore_worker::ours(const core::net_address& ip) const noexcept {
    for (const proxy::listen_point& l : s_.config->listen)
        if (l.address.family == ip.family && l.address.ip == ip.ip) return true;
    return false;
}
const proxy::listen_point* lcore_worker::listener(const core::net_address& dst) const noexcept {
    for (const proxy::listen_point& l : s_.config->listen)
        if (l.transport == sip::transport::udp && l.address == dst) return &l;
    return nullptr;
}

void lcore_worker::handle(rte_mbuf* m, std::uint64_t now) {
    ++c_.rx;
    if (m->nb_segs != 1) {  // jumbo chains are not expected at SIP sizes
        ++c_.exception;
        rte_pktmbuf_free(m);
        return;
    }
    // A port that checks checksums on receive (rx offload on) says which failed: such a frame is
    // noise from the wire, never SIP to act on (the kernel would drop it the same way).
    if ((m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD ||
        (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
        ++c_.bad_checksum;
        rte_pktmbuf_free(m);
        return;
    }
    const auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const net::decoded_frame f = net::decode({data, m->data_len});
    switch (f.kind) {
    // Neighbours are learned from answers to our questions, from requests for our addresses (an
    // address not known yet) and from datagrams the pipeline accepted; never from ARP or ND news
    // nobody asked for, gratuitous ARP included (neighbours.hpp says why).
    case net::frame_kind::arp_request:
        // A request for someone else, or gratuitous (sender = target): nothing for us to learn.
        if (ours(f.dst) && f.src != f.dst) {
            count(neighbours_.introduced(f.src, link_peer{f.src_mac, f.vlan}, now));
            answer([&](std::span<std::uint8_t> out) { return net::encode_arp_reply(out, s_.our_mac, f); });
            ++c_.arp_answered;
        }
        break;
    case net::frame_kind::arp_reply:
        if (!ours(f.dst)) break;
        count(neighbours_.answered(f.src, link_peer{f.src_mac, f.vlan}, now));
        if (to_kernel(m)) return;  // the kernel behind the exception port resolves its own neighbours too
        break;
    case net::frame_kind::neighbor_advertisement:  // the answer to our solicitation, or unsolicited news
        count(neighbours_.answered(f.src, link_peer{f.src_mac, f.vlan}, now));
        break;
    case net::frame_kind::neighbor_solicitation:
        // An unspecified source (::, duplicate address detection) is nobody to learn or answer.
        if (f.src.ip == core::net_address{}.ip) break;
        if (ours(f.dst)) {
            count(neighbours_.introduced(f.src, link_peer{f.src_mac, f.vlan}, now));
            answer([&](std::span<std::uint8_t> out) { return net::encode_neighbor_advertisement(out, s_.our_mac, f); });
            ++c_.nd_answered;
        }
        break;
    case net::frame_kind::udp:
        if (const proxy::listen_point* l = listener(f.dst)) {
            if (s_.framing_only) echo(f);
            else deliver(f, *l, m, now);
        } else if (ours(f.dst) && to_kernel(m)) {
            return;  // UDP to another port of ours: the kernel's
        } else {
            ++c_.not_for_us;
        }
        break;
    case net::frame_kind::fragment:
        if (ours(f.dst) && frags_ != nullptr) {
            reassemble(m, f, now);
            return;  // the table owns the fragment now (or freed it on its death row)
        }
        [[fallthrough]];
    default:
        // TCP, ICMP, fragments ...: the kernel terminates them behind the exception port (SIP over
        // TCP then reaches the TCP thread and comes back to the shards through the mailboxes).
        if ((f.kind == net::frame_kind::other || f.kind == net::frame_kind::fragment) && f.dst.valid() && ours(f.dst) &&
            to_kernel(m))
            return;
        ++c_.exception;
        break;
    }
    rte_pktmbuf_free(m);
}

/// An IPv4 or IPv6 fragment for us: kept until its datagram is whole (rte_ip_frag), which is then
/// copied into scratch in one piece and handled like any datagram.
void lcore_worker::reassemble(rte_mbuf* m, const net::decoded_frame& f, std::uint64_t now) {
    m->l2_len = f.l3_offset;
    // The datagram's Identification: 16 bits in the IPv4 header, 32 in the IPv6 Fragment header.
    const auto* head = rte_pktmbuf_mtod(m, const std::uint8_t*);
    const std::uint8_t* id_at = f.src.family == 4 ? head + f.l3_offset + 4 : head + f.l4_offset + 4;
    const std::uint32_t id = f.src.family == 4 ? std::uint32_t{id_at[0]} << 8 | id_at[1]
                                               : std::uint32_t{id_at[0]} << 24 | std::uint32_t{id_at[1]} << 16 |
                                                     std::uint32_t{id_at[2]} << 8 | id_at[3];
    // One source may keep only so many incomplete datagrams here (fragment_sources.hpp).
    if (!fragment_sources_.admit(f.src, id, now)) {
        ++c_.fragments_refused;
        rte_pktmbuf_free(m);
        return;
    }
    rte_mbuf* whole = nullptr;
    if (f.src.family == 4) {
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
        m->l3_len = static_cast<std::uint16_t>((ip->version_ihl & 15) * 4);
        whole = rte_ipv4_frag_reassemble_packet(frags_, &death_row_, m, rte_rdtsc(), ip);
    } else {
        // The Fragment header right after the fixed header (decode reports nothing else as one).
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv6_hdr*, m->l2_len);
        auto* frag = rte_pktmbuf_mtod_offset(m, rte_ipv6_fragment_ext*, f.l4_offset);
        m->l3_len = static_cast<std::uint16_t>(f.l4_offset - f.l3_offset + sizeof(rte_ipv6_fragment_ext));
        whole = rte_ipv6_frag_reassemble_packet(frags_, &death_row_, m, rte_rdtsc(), ip, frag);
    }
    if (whole == nullptr) return;  // kept for the rest, or dropped on the death row
    fragment_sources_.completed(f.src, id);
    ++c_.reassembled;
    if (whole->pkt_len + sip::padding_bytes <= frame_scratch_.size()) {
        const auto* bytes = static_cast<const std::uint8_t*>(rte_pktmbuf_read(whole, 0, whole->pkt_len, frame_scratch_.data()));
        if (bytes != frame_scratch_.data()) std::memcpy(frame_scratch_.data(), bytes, whole->pkt_len);
        if (f.src.family == 4) {  // the reassembled header's checksum is not ours to trust: set it afresh
            std::uint8_t* hdr = frame_scratch_.data() + whole->l2_len;
            hdr[10] = hdr[11] = 0;
            const std::uint16_t sum = net::checksum_fold(net::checksum_add({hdr, whole->l3_len}));
            hdr[10] = static_cast<std::uint8_t>(sum >> 8);
            hdr[11] = static_cast<std::uint8_t>(sum);
        }
        const net::decoded_frame d = net::decode({frame_scratch_.data(), whole->pkt_len});
        const proxy::listen_point* l = d.kind == net::frame_kind::udp ? listener(d.dst) : nullptr;
        if (l != nullptr) {
            // frame_scratch_ keeps padding_bytes after the largest datagram it holds.
            deliver_payload(d, *l, std::string_view(reinterpret_cast<const char*>(d.payload.data()), d.payload.size()), now);
        } else {
            ++c_.not_for_us;  // a large datagram for the kernel: its interface could not take it whole
        }
    }
    rte_pktmbuf_free(whole);
}

/// Hands a frame to the kernel through the exception port; false (the frame stays ours to free)
/// when there is none or its queue is full.
bool lcore_worker::to_kernel(rte_mbuf* m) {
    if (!s_.have_tap) return false;
    if (rte_eth_tx_burst(s_.tap, queue_, &m, 1) != 1) return false;
    ++c_.to_kernel;
    return true;
}

/// What the kernel sends out through the exception port leaves by the wire (each lcore reads
/// its own queue of it: the kernel spreads flows over them).
void lcore_worker::from_kernel() {
    if (!s_.have_tap) return;
    rte_mbuf* in[burst];
    const std::uint16_t n = rte_eth_rx_burst(s_.tap, queue_, in, burst);
    for (std::uint16_t i = 0; i < n; ++i) {
        ++c_.from_kernel;
        queue_tx(in[i]);
    }
}

// The framing ceiling: what the same loop costs with the pipeline left out.
void lcore_worker::echo(const net::decoded_frame& f) {
    rte_mbuf* m = make_frame(s_.pool, [&](std::span<std::uint8_t> out) {
        return net::encode_udp(out, s_.our_mac, f.src_mac, f.dst, f.src,
                               {reinterpret_cast<const char*>(f.payload.data()), f.payload.size()}, ip_id_++);
    });
    if (m == nullptr) {
        ++c_.tx_dropped;
        return;
    }
    ++c_.echoed;
    queue_tx(m);
}

void lcore_worker::deliver(const net::decoded_frame& f, const proxy::listen_point& l, rte_mbuf* m, std::uint64_t now) {
    // The parser's decoders may load whole vectors up to padding_bytes past the message: zero
    // copy when the mbuf has that much tailroom, else a copy to scratch (the padding contract).
    std::string_view payload(reinterpret_cast<const char*>(f.payload.data()), f.payload.size());
    const auto* end = f.payload.data() + f.payload.size();
    const auto* buf_end = static_cast<const std::uint8_t*>(m->buf_addr) + m->buf_len;
    if (end + sip::padding_bytes > buf_end) {
        if (payload.size() > scratch_.size() - sip::padding_bytes) return;
        std::memcpy(scratch_.data(), payload.data(), payload.size());
        payload = {scratch_.data(), payload.size()};
        ++c_.copied;
    }
    deliver_payload(f, l, payload, now);
}

void lcore_worker::deliver_payload(const net::decoded_frame& f, const proxy::listen_point& l, std::string_view payload, std::uint64_t now) {
    const proxy::shard_stats& st = shard_.stats();
    const std::uint64_t dropped = proxy::shard_stats::sum(st.drops);
    shard_.on_packet(proxy::inbound{payload, f.src, &l, false, now}, now);
    // A datagram the pipeline accepted (no drop counted for it: not malformed, not refused, not an
    // unverified response) tells where its on-link source is; anything else teaches nothing.
    if (proxy::shard_stats::sum(st.drops) == dropped && on_link(f.src))
        count(neighbours_.heard(f.src, link_peer{f.src_mac, f.vlan}, now));
}

template <class F>
void lcore_worker::answer(F&& write) {
    rte_mbuf* m = make_frame(s_.pool, write);
    if (m == nullptr) {
        ++c_.tx_dropped;
        return;
    }
    queue_tx(m);
}

void lcore_worker::send_outbox() {
    proxy::outbox& box = shard_.out();
    for (std::size_t i = 0; i < box.size(); ++i) {
        const proxy::outgoing& o = box[i];
        // A message written in an mbuf of ours that does not leave in it (TCP, fragments, no way out)
        // gives the mbuf back once its bytes are used.
        struct frame_guard {
            void* frame;
            ~frame_guard() {
                if (frame != nullptr) rte_pktmbuf_free(static_cast<rte_mbuf*>(frame));
            }
        } unsent{o.frame};
        if (o.transport != sip::transport::udp) {  // TCP: the TCP thread sends it through the kernel
            if (!shard_.to_stream_thread(o)) shard_.stats().count_drop(proxy::drop_cause::no_route);
            continue;
        }
        const proxy::listen_point* from = nullptr;
        for (const proxy::listen_point& l : s_.config->listen)
            if (l.transport == sip::transport::udp && l.address.family == o.destination.family) from = &l;
        if (from == nullptr) {
            ++c_.tx_dropped;
            continue;
        }
        const core::net_address hop = next_hop(o.destination);
        link_peer peer;
        const std::uint64_t now = clock_.now();
        const neighbour_state state = neighbours_.find(hop, peer, now);
        // Unknown: ask by ARP or neighbour solicitation (once a second per address), and let the
        // sender's retransmission (Timer A/E, or the caller's) find the answer learned. Stale (past
        // the reachable time): send, and ask again so that the answer confirms or corrects it.
        if (state != neighbour_state::fresh && neighbours_.should_ask(hop, now))
            answer([&](std::span<std::uint8_t> out) {
                return hop.family == 4 ? net::encode_arp_request(out, s_.our_mac, from->address, hop)
                                       : net::encode_neighbor_solicitation(out, s_.our_mac, from->address, hop);
            });
        if (state == neighbour_state::none) {
            ++c_.no_neighbour;
            shard_.stats().count_drop(proxy::drop_cause::no_route);
            continue;
        }
        const auto bytes = box.bytes(o);
        const net::l2_header l2{s_.our_mac, peer.mac, peer.vlan};
        const std::size_t frames = net::udp_frame_count(o.destination.family, bytes.size(), s_.mtu);
        if (frames == 1) {
            rte_mbuf* m = nullptr;
            if (o.frame != nullptr) {
                unsent.frame = nullptr;  // sent in it, or freed by send_in_place
                if (send_in_place(o, l2, from->address)) m = static_cast<rte_mbuf*>(o.frame);
            } else {
                m = make_frame(s_.pool, [&](std::span<std::uint8_t> out) {
                    return net::encode_udp(out, l2, from->address, o.destination, bytes, ip_id_++,
                                           s_.checksum_offload ? net::checksums::offload : net::checksums::software);
                });
            }
            if (m == nullptr) {
                ++c_.tx_dropped;
                continue;
            }
            if (s_.checksum_offload) {  // the NIC completes what encode_udp left: see net::checksums
                m->l2_len = peer.vlan != 0 ? 18 : 14;
                m->l3_len = o.destination.family == 4 ? 20 : 40;
                m->ol_flags |= o.destination.family == 4
                                   ? RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM
                                   : RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
            }
            shard_.stats().bytes_out += o.size;
            queue_tx(m, o.latency, o.received_ns);
            continue;
        }
        // Larger than the link takes (a response: requests over 1300 bytes went to TCP where there
        // is TCP, RFC 3261 §18.1.1): IP fragments, each its own mbuf, software checksums.
        const std::uint32_t id = frag_id_++;
        bool sent_all = frames != 0;
        for (std::size_t k = 0; k < frames && sent_all; ++k) {
            rte_mbuf* m = make_frame(s_.pool, [&](std::span<std::uint8_t> out) {
                return net::encode_udp_fragment(out, l2, from->address, o.destination, bytes, id, s_.mtu, k);
            });
            if (m == nullptr) {
                sent_all = false;
                break;
            }
            // The delay is the datagram's: recorded with its last fragment.
            if (k + 1 == frames) queue_tx(m, o.latency, o.received_ns);
            else queue_tx(m);
        }
        if (!sent_all) {
            ++c_.tx_dropped;
            continue;
        }
        ++c_.fragmented;
        shard_.stats().bytes_out += o.size;
    }
    box.clear();
}

/// The neighbour a destination is reached through: itself on our subnet (or with no gateway of its
/// family), else the gateway.
core::net_address lcore_worker::next_hop(const core::net_address& to) const noexcept {
    for (const core::net_address& g : s_.dpdk->gateways) {
        if (g.family != to.family) continue;
        for (const daemon::owned_address& a : s_.dpdk->addresses)
            if (a.ip.family == to.family && !core::same_subnet(a.ip, to, a.prefix)) return g;
    }
    return to;
}

void lcore_worker::queue_tx(rte_mbuf* m, std::uint8_t latency, std::uint64_t received_ns) {
    if (tx_count_ == burst) flush_tx();
    if (tx_count_ == 0) tx_oldest_ns_ = clock_.now();
    tx_latency_[tx_count_] = {latency, received_ns};
    tx_[tx_count_++] = m;
}

void lcore_worker::flush_tx() {
    std::uint16_t sent = 0;
    for (int tries = 0; sent < tx_count_ && tries < 8; ++tries)
        sent = static_cast<std::uint16_t>(sent + rte_eth_tx_burst(s_.port, queue_, tx_ + sent, static_cast<std::uint16_t>(tx_count_ - sent)));
    c_.tx += sent;
    // Each forward's delay from its receipt to the port taking it
    // (the latency histograms of docs/architecture.md, "Operations").
    const std::uint64_t sent_at = clock_.now();
    proxy::shard_stats& st = shard_.stats();
    for (std::uint16_t i = 0; i < sent; ++i)
        if (tx_latency_[i].slot != 0 && sent_at > tx_latency_[i].received_ns)
            proxy::record_latency(st, tx_latency_[i].slot, sent_at - tx_latency_[i].received_ns);
    for (std::uint16_t i = sent; i < tx_count_; ++i) {
        ++c_.tx_dropped;
        rte_pktmbuf_free(tx_[i]);
    }
    tx_count_ = 0;
}

} // namespace sipfast::dpdk
