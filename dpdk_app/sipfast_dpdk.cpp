// SPDX-License-Identifier: Apache-2.0
// sipfast-dpdk: the libsipfast pipeline run to completion on DPDK lcores straight from NIC queues
// (DESIGN §1). Each lcore owns one RX and one TX queue of the port and one shard: rx_burst ->
// Ethernet/ARP/IPv4/IPv6/UDP decode -> pipeline -> UDP/IP/Ethernet encode -> tx_burst. Messages for
// another lcore's shard go there through the same one-hop SPSC mailboxes as in sipfastd.
//
//   sipfast-dpdk [EAL args] -- [--config FILE] [--address IP] [--port NAME] [--gateway IP]
//                [--listen URI]... [--mode stateless|stateful] [--domain NAME]... [--record-route on|off]
//                [--exit-when-idle MS]
//
// Not yet here (the rest of the kernel-bypass issue): the TCP/tap exception path, fragment
// reassembly, hardware checksum offload, RSS configuration beyond the default.
#include <rte_eal.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "daemon_config.hpp"
#include "sipfast/core/counter.hpp"
#include "sipfast/io/mail_hub.hpp"
#include "sipfast/io/tcp_server.hpp"
#include "sipfast/net/frame.hpp"
#include "sipfast/ops/ops_server.hpp"
#include "sipfast/ops/prometheus.hpp"
#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/sip/parser.hpp"

namespace {

using namespace sipfast;

constexpr std::uint16_t burst = 32;
constexpr std::uint16_t ring_size = 1024;

std::atomic<bool> stop{false};
void on_signal(int) { stop.store(true); }

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

struct app_options {
    daemon::command_line cli;  // what sipfastd also takes: --config, --listen, --mode, --domain, --record-route
    std::string address;
    std::string port_name;
    std::string gateway;
    unsigned exit_when_idle_ms = 0;  // for replays: stop once RX has been quiet this long
    unsigned seconds = 0;            // for benchmarks: run this long, then report messages per second
    bool framing_only = false;       // for benchmarks: L2-L4 only, each datagram echoed (the ceiling)
    std::string exception_port;      // a net_tap port: what is not SIP over UDP goes to the kernel there
};

bool parse_options(int argc, char** argv, app_options& o, std::string& error) {
    for (int i = 0; i < argc; ++i) {
        const std::string a = argv[i];
        const auto value = [&](std::string& out) {
            if (i + 1 >= argc) {
                error = a + " needs a value";
                return false;
            }
            out = argv[++i];
            return true;
        };
        std::string v;
        // A count of milliseconds or seconds: digits only, refused by name otherwise.
        const auto count = [&](unsigned& out) {
            if (!value(v)) return false;
            if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
                error = a + " " + v + ": expected a whole number";
                return false;
            }
            out = static_cast<unsigned>(std::stoul(v));
            return true;
        };
        if (a == "--config") {
            if (!value(o.cli.config_file)) return false;
        } else if (a == "--address") {
            if (!value(o.address)) return false;
        } else if (a == "--port") {
            if (!value(o.port_name)) return false;
        } else if (a == "--gateway") {
            if (!value(o.gateway)) return false;
        } else if (a == "--listen") {
            if (!value(v)) return false;
            o.cli.listen.push_back(v);
        } else if (a == "--mode") {
            if (!value(o.cli.mode)) return false;
            if (o.cli.mode != "stateless" && o.cli.mode != "stateful") {
                error = "--mode " + o.cli.mode + ": stateless or stateful";
                return false;
            }
        } else if (a == "--domain") {
            if (!value(v)) return false;
            o.cli.domains.push_back(v);
        } else if (a == "--record-route") {
            if (!value(o.cli.record_route)) return false;
        } else if (a == "--exit-when-idle") {
            if (!count(o.exit_when_idle_ms)) return false;
        } else if (a == "--seconds") {
            if (!count(o.seconds)) return false;
        } else if (a == "--exception-port") {
            if (!value(o.exception_port)) return false;
        } else if (a == "--framing-only") {
            o.framing_only = true;
        } else if (a == "--help" || a == "-h") {
            error = "usage: sipfast-dpdk [EAL args] -- [--config FILE] [--address IP] [--port NAME] [--gateway IP] "
                    "[--listen URI]... [--mode stateless|stateful] [--domain NAME]... [--record-route on|off] "
                    "[--exit-when-idle MS] [--seconds S] [--framing-only] [--exception-port NAME]";
            return false;
        } else {
            error = "unknown option " + a + " (--help lists them)";
            return false;
        }
    }
    return true;
}

/// Where our neighbours are, shared by every lcore: learned from what any of them receives (ARP and
/// IP), so the lcore that owns a call can send to a peer another lcore heard from. Fixed size, open
/// slots by hash, newest wins. Readers take no lock (a sequence number per entry, retried while a
/// write is in progress); writers, rare since an unchanged entry is not rewritten, take the entry's
/// flag. `asked_ns` rate-limits our ARP requests for an address.
class neighbours {
public:
    void learn(const proxy::net_address& ip, const net::mac_address& mac) noexcept {
        entry& e = slot(ip);
        net::mac_address known{};
        if (read(e, ip, known) && known == mac) return;
        write(e, [&] {
            e.ip = key(ip);
            e.mac = mac;
            e.used = true;
        });
    }
    [[nodiscard]] bool find(const proxy::net_address& ip, net::mac_address& mac) const noexcept {
        return read(slot(ip), ip, mac);
    }
    /// Whether to send an ARP request for `ip` now (at most one a second per address).
    [[nodiscard]] bool should_ask(const proxy::net_address& ip, std::uint64_t now_ns) noexcept {
        entry& e = slot(ip);
        std::uint64_t last = e.asked_ns.load(std::memory_order_relaxed);
        return now_ns - last >= 1'000'000'000 && e.asked_ns.compare_exchange_strong(last, now_ns);
    }

private:
    struct entry {
        std::atomic<std::uint32_t> seq{0};  // odd while written
        std::atomic<bool> writing{false};
        std::atomic<std::uint64_t> asked_ns{0};
        proxy::net_address ip;
        net::mac_address mac{};
        bool used = false;
    };
    static proxy::net_address key(proxy::net_address ip) noexcept {
        ip.port = 0;
        return ip;
    }
    entry& slot(const proxy::net_address& ip) const noexcept {
        std::uint32_t h = 2166136261u;
        for (std::size_t i = 0; i < (ip.family == 4 ? 4u : 16u); ++i) h = (h ^ ip.ip[i]) * 16777619u;
        return table_[h % table_.size()];
    }
    static bool read(const entry& e, const proxy::net_address& ip, net::mac_address& mac) noexcept {
        for (;;) {
            const std::uint32_t before = e.seq.load(std::memory_order_acquire);
            if (before & 1u) continue;
            const bool hit = e.used && e.ip == key(ip);
            const net::mac_address m = e.mac;
            std::atomic_thread_fence(std::memory_order_acquire);
            if (e.seq.load(std::memory_order_relaxed) != before) continue;
            if (hit) mac = m;
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

struct shared_state {
    const proxy::proxy_config* config = nullptr;
    neighbours* neighbours_table = nullptr;
    proxy::net_address subnet;       // our address with the prefix's host bits cleared
    unsigned prefix = 32;
    std::uint16_t port = 0;
    rte_mempool* pool = nullptr;
    net::mac_address our_mac{};
    proxy::net_address gateway;      // the next hop for what is off our subnet (family 0: none)
    io::mail_hub* hub = nullptr;
    unsigned exit_when_idle_ms = 0;
    std::uint64_t deadline_ns = 0;  // --seconds
    bool framing_only = false;
    bool have_tap = false;          // the exception path: frames for the kernel go out this port
    std::uint16_t tap = 0;
};

/// What an lcore did besides the pipeline's own statistics; single writer, read by the ops thread.
struct lcore_counters {
    core::counter rx, tx, tx_dropped, arp_answered, nd_answered, not_for_us, no_neighbour, exception, copied, echoed,
        to_kernel, from_kernel, reassembled;
};

/// One lcore: its queue, its shard.
class worker {
public:
    worker(const shared_state& s, std::uint16_t queue)
        : s_(s), queue_(queue), pipeline_(*s.config, queue, now_ns(), s.hub->workers()), outbox_(burst * 4 * 4096, burst * 4),
          // Fragments of one datagram may wait 2 s for the rest (RFC 791 leaves it to us).
          frags_(rte_ip_frag_table_create(1024, 16, 4096, rte_get_tsc_hz() * 2, static_cast<int>(rte_socket_id()))) {}
    ~worker() {
        if (frags_ != nullptr) {
            rte_ip_frag_free_death_row(&death_row_, 0);
            rte_ip_frag_table_destroy(frags_);
        }
    }
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    void run() {
        std::uint64_t last_rx = now_ns();
        bool seen = false;
        proxy::shard_stats& st = pipeline_.stats();
        std::uint64_t turn = now_ns();
        while (!stop.load(std::memory_order_relaxed)) {
            rte_mbuf* rx[burst];
            const std::uint16_t n = rte_eth_rx_burst(s_.port, queue_, rx, burst);
            const std::uint64_t now = now_ns();
            // A poll-mode lcore never sleeps: a turn that found nothing is idle time, one that did, busy.
            (n > 0 ? st.busy_ns : st.idle_ns) += now - turn;
            turn = now;
            for (std::uint16_t i = 0; i < n; ++i) {
                st.bytes_in += rx[i]->pkt_len;
                handle(rx[i], now);
            }
            if (frags_ != nullptr) rte_ip_frag_free_death_row(&death_row_, 3);
            if (n > 0) {
                last_rx = now;
                seen = true;
            }
            from_kernel();
            drain_mail(now);
            pipeline_.on_tick(now, outbox_);
            send_outbox();
            flush_tx();
            publish_mail();
            if (s_.exit_when_idle_ms != 0 && seen && now - last_rx > std::uint64_t{s_.exit_when_idle_ms} * 1'000'000) break;
            if (s_.deadline_ns != 0 && now >= s_.deadline_ns) break;
        }
        stop.store(true);  // one lcore ending a replay or a timed run ends them all
    }

    const lcore_counters& counters() const noexcept { return c_; }
    void set_mtu(std::uint16_t mtu) noexcept { max_frame_ = 14u + mtu; }
    const proxy::shard_stats& stats() const noexcept { return pipeline_.stats(); }

private:
    bool ours(const proxy::net_address& ip) const noexcept {
        for (const proxy::listen_point& l : s_.config->listen)
            if (l.address.family == ip.family && l.address.ip == ip.ip) return true;
        return false;
    }
    const proxy::listen_point* listener(const proxy::net_address& dst) const noexcept {
        for (const proxy::listen_point& l : s_.config->listen)
            if (l.transport == sip::transport::udp && l.address == dst) return &l;
        return nullptr;
    }

    void handle(rte_mbuf* m, std::uint64_t now) {
        ++c_.rx;
        if (m->nb_segs != 1) {  // jumbo chains are not expected at SIP sizes
            ++c_.exception;
            rte_pktmbuf_free(m);
            return;
        }
        const auto* data = rte_pktmbuf_mtod(m, const std::uint8_t*);
        const net::decoded_frame f = net::decode({data, m->data_len});
        switch (f.kind) {
        case net::frame_kind::arp_request:
        case net::frame_kind::arp_reply:
            neighbours_.learn(f.src, f.src_mac);
            if (f.kind == net::frame_kind::arp_request && ours(f.dst)) {
                answer([&](std::span<std::uint8_t> out) { return net::encode_arp_reply(out, s_.our_mac, f); });
                ++c_.arp_answered;
            } else if (f.kind == net::frame_kind::arp_reply && ours(f.dst) && to_kernel(m)) {
                return;  // the kernel behind the exception port resolves its own neighbours too
            }
            break;
        case net::frame_kind::neighbor_solicitation:
            neighbours_.learn(f.src, f.src_mac);
            if (ours(f.dst)) {
                answer([&](std::span<std::uint8_t> out) { return net::encode_neighbor_advertisement(out, s_.our_mac, f); });
                ++c_.nd_answered;
            }
            break;
        case net::frame_kind::udp:
            if (const proxy::listen_point* l = listener(f.dst)) {
                neighbours_.learn(f.src, f.src_mac);
                if (s_.framing_only) echo(f);
                else deliver(f, *l, m, now);
            } else if (ours(f.dst) && to_kernel(m)) {
                return;  // UDP to another port of ours: the kernel's
            } else {
                ++c_.not_for_us;
            }
            break;
        case net::frame_kind::fragment:
            if (f.src.family == 4 && ours(f.dst) && frags_ != nullptr) {
                reassemble(m, data, now);
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

    /// An IPv4 fragment for us: kept until its datagram is whole (rte_ip_frag), which is then copied
    /// into scratch in one piece and handled like any datagram.
    void reassemble(rte_mbuf* m, const std::uint8_t* data, std::uint64_t now) {
        m->l2_len = (data[12] == 0x81 && data[13] == 0x00) ? 18 : 14;
        auto* ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr*, m->l2_len);
        m->l3_len = static_cast<std::uint16_t>((ip->version_ihl & 15) * 4);
        rte_mbuf* whole = rte_ipv4_frag_reassemble_packet(frags_, &death_row_, m, rte_rdtsc(), ip);
        if (whole == nullptr) return;
        ++c_.reassembled;
        if (whole->pkt_len + sip::padding_bytes <= frame_scratch_.size()) {
            const auto* bytes = static_cast<const std::uint8_t*>(rte_pktmbuf_read(whole, 0, whole->pkt_len, frame_scratch_.data()));
            if (bytes != frame_scratch_.data()) std::memcpy(frame_scratch_.data(), bytes, whole->pkt_len);
            // The reassembled header's checksum is not ours to trust: set it afresh.
            std::uint8_t* hdr = frame_scratch_.data() + whole->l2_len;
            hdr[10] = hdr[11] = 0;
            const std::uint16_t sum = net::checksum_fold(net::checksum_add({hdr, whole->l3_len}));
            hdr[10] = static_cast<std::uint8_t>(sum >> 8);
            hdr[11] = static_cast<std::uint8_t>(sum);
            const net::decoded_frame f = net::decode({frame_scratch_.data(), whole->pkt_len});
            if (f.kind == net::frame_kind::udp) {
                if (const proxy::listen_point* l = listener(f.dst)) {
                    neighbours_.learn(f.src, f.src_mac);
                    // frame_scratch_ keeps padding_bytes after the largest datagram it holds.
                    deliver_payload(f, *l, std::string_view(reinterpret_cast<const char*>(f.payload.data()), f.payload.size()), now);
                }
            }
        }
        rte_pktmbuf_free(whole);
    }

    /// Hands a frame to the kernel through the exception port; false (the frame stays ours to free)
    /// when there is none or its queue is full.
    bool to_kernel(rte_mbuf* m) {
        if (!s_.have_tap) return false;
        if (rte_eth_tx_burst(s_.tap, queue_, &m, 1) != 1) return false;
        ++c_.to_kernel;
        return true;
    }

    /// What the kernel sends out through the exception port leaves by the wire (each lcore reads
    /// its own queue of it: the kernel spreads flows over them).
    void from_kernel() {
        if (!s_.have_tap) return;
        rte_mbuf* in[burst];
        const std::uint16_t n = rte_eth_rx_burst(s_.tap, queue_, in, burst);
        for (std::uint16_t i = 0; i < n; ++i) {
            ++c_.from_kernel;
            queue_tx(in[i]);
        }
    }

    // The framing ceiling: what the same loop costs with the pipeline left out.
    void echo(const net::decoded_frame& f) {
        rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
        if (m == nullptr) {
            ++c_.tx_dropped;
            return;
        }
        const std::size_t room = rte_pktmbuf_tailroom(m);
        auto* out = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(room)));
        const std::size_t n = net::encode_udp({out, room}, s_.our_mac, f.src_mac, f.dst, f.src,
                                              {reinterpret_cast<const char*>(f.payload.data()), f.payload.size()}, ip_id_++);
        if (n == 0) {
            rte_pktmbuf_free(m);
            return;
        }
        rte_pktmbuf_trim(m, static_cast<std::uint16_t>(room - n));
        ++c_.echoed;
        queue_tx(m);
    }

    void deliver(const net::decoded_frame& f, const proxy::listen_point& l, rte_mbuf* m, std::uint64_t now) {
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

    void deliver_payload(const net::decoded_frame& f, const proxy::listen_point& l, std::string_view payload, std::uint64_t now) {
        const proxy::inbound in{payload, f.src, &l, false, now};
        const std::uint32_t owner = pipeline_.on_packet(in, now, outbox_);
        if (owner == queue_) return;
        if (!s_.hub->post(queue_, owner, payload, static_cast<std::uint32_t>(&l - s_.config->listen.data()), f.src, now)) {
            pipeline_.stats().count_drop(proxy::drop_cause::mailbox_full);
            return;
        }
        ++pipeline_.stats().mailbox_hops;
        dirty_[owner] = true;
    }

    void drain_mail(std::uint64_t now) {
        for (unsigned from = 0; from < s_.hub->participants(); ++from) {
            if (from == queue_) continue;
            // A bounded batch per ring and turn, so the outbox (4 bursts) never overflows.
            s_.hub->ring(from, queue_).consume(
                [&](const io::mail& mail) {
                    const proxy::inbound in{std::string_view(mail.data, mail.len), mail.peer,
                                            &s_.config->listen[mail.listen_index], true, mail.received_ns};
                    (void)pipeline_.on_packet(in, now, outbox_);
                },
                burst);
            send_outbox();
        }
    }

    void publish_mail() {
        for (unsigned to = 0; to < dirty_.size(); ++to)
            if (dirty_[to]) {
                dirty_[to] = false;
                s_.hub->ring(queue_, to).publish();
                // Lcores poll; the TCP thread sleeps in epoll and is woken.
                if (s_.hub->has_stream_thread() && to == s_.hub->stream_thread()) s_.hub->wake(to);
            }
    }

    bool to_stream_thread(const proxy::outgoing& o) {
        if (!s_.hub->has_stream_thread()) return false;
        const unsigned to = s_.hub->stream_thread();
        if (!s_.hub->post(queue_, to, {outbox_.bytes(o).data(), o.size}, 0, o.destination, o.received_ns)) return false;
        dirty_[to] = true;
        return true;
    }

    template <class F>
    void answer(F&& write) {
        rte_mbuf* m = rte_pktmbuf_alloc(s_.pool);
        if (m == nullptr) {
            ++c_.tx_dropped;
            return;
        }
        auto* out = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, 128));
        const std::size_t n = out ? write(std::span<std::uint8_t>(out, 128)) : 0;
        if (n == 0) {
            rte_pktmbuf_free(m);
            return;
        }
        rte_pktmbuf_trim(m, static_cast<std::uint16_t>(128 - n));
        queue_tx(m);
    }

    void send_outbox() {
        for (std::size_t i = 0; i < outbox_.size(); ++i) {
            const proxy::outgoing& o = outbox_[i];
            if (o.transport != sip::transport::udp) {  // TCP: the TCP thread sends it through the kernel
                if (!to_stream_thread(o)) pipeline_.stats().count_drop(proxy::drop_cause::no_route);
                continue;
            }
            const proxy::listen_point* from = nullptr;
            for (const proxy::listen_point& l : s_.config->listen)
                if (l.transport == sip::transport::udp && l.address.family == o.destination.family) from = &l;
            const proxy::net_address hop = next_hop(o.destination);
            net::mac_address mac{};
            if (!neighbours_.find(hop, mac)) {
                // Not known yet: ask (once a second per address), and let the sender's retransmission
                // (Timer A/E, or the caller's) find the answer learned.
                ++c_.no_neighbour;
                pipeline_.stats().count_drop(proxy::drop_cause::no_route);
                if (from != nullptr && hop.family == 4 && neighbours_.should_ask(hop, now_ns()))
                    answer([&](std::span<std::uint8_t> out) {
                        return net::encode_arp_request(out, s_.our_mac, from->address, hop);
                    });
                continue;
            }
            rte_mbuf* m = from ? rte_pktmbuf_alloc(s_.pool) : nullptr;
            if (m == nullptr) {
                ++c_.tx_dropped;
                continue;
            }
            const std::size_t room = rte_pktmbuf_tailroom(m);
            auto* out = reinterpret_cast<std::uint8_t*>(rte_pktmbuf_append(m, static_cast<std::uint16_t>(room)));
            const auto bytes = outbox_.bytes(o);
            const std::size_t n = net::encode_udp({out, room}, s_.our_mac, mac, from->address, o.destination, bytes, ip_id_++);
            if (n == 0 || n > max_frame_) {  // larger than the MTU: fragmentation is not done here
                ++c_.tx_dropped;
                rte_pktmbuf_free(m);
                continue;
            }
            rte_pktmbuf_trim(m, static_cast<std::uint16_t>(room - n));
            pipeline_.stats().bytes_out += o.size;
            queue_tx(m);
        }
        outbox_.clear();
    }

    /// The neighbour a destination is reached through: itself on our subnet, else the gateway.
    proxy::net_address next_hop(const proxy::net_address& to) const noexcept {
        if (s_.gateway.family != to.family || s_.subnet.family != to.family) return to;
        const unsigned bits = to.family == 4 ? 32 : 128;
        for (unsigned i = 0; i < s_.prefix && i < bits; ++i) {
            const unsigned byte = i / 8, bit = 7 - i % 8;
            if (((to.ip[byte] >> bit) & 1) != ((s_.subnet.ip[byte] >> bit) & 1)) return s_.gateway;
        }
        return to;
    }

    void queue_tx(rte_mbuf* m) {
        if (tx_count_ == burst) flush_tx();
        tx_[tx_count_++] = m;
    }

    void flush_tx() {
        std::uint16_t sent = 0;
        for (int tries = 0; sent < tx_count_ && tries < 8; ++tries)
            sent = static_cast<std::uint16_t>(sent + rte_eth_tx_burst(s_.port, queue_, tx_ + sent, static_cast<std::uint16_t>(tx_count_ - sent)));
        c_.tx += sent;
        for (std::uint16_t i = sent; i < tx_count_; ++i) {
            ++c_.tx_dropped;
            rte_pktmbuf_free(tx_[i]);
        }
        tx_count_ = 0;
    }

    const shared_state& s_;
    std::uint16_t queue_;
    proxy::pipeline pipeline_;
    proxy::outbox outbox_;
    neighbours& neighbours_ = *s_.neighbours_table;
    lcore_counters c_;
    rte_mbuf* tx_[burst];
    std::uint16_t tx_count_ = 0;
    std::uint16_t ip_id_ = 1;
    std::size_t max_frame_ = 1514;  // Ethernet header + the port's MTU (set at start)
    std::vector<bool> dirty_ = std::vector<bool>(s_.hub->participants(), false);
    std::array<char, 65536 + sip::padding_bytes> scratch_{};
    std::array<std::uint8_t, 65536 + 18 + sip::padding_bytes> frame_scratch_{};
    rte_ip_frag_tbl* frags_;
    rte_ip_frag_death_row death_row_{};
};

std::string metrics_text(const std::vector<std::unique_ptr<worker>>& workers, std::uint16_t port, unsigned lcores) {
    std::vector<const proxy::shard_stats*> shards;
    for (const auto& w : workers) shards.push_back(&w->stats());
    std::string out = ops::render_prometheus({shards, nullptr, "dpdk", 0});
    const auto family = [&](const char* name, const char* type, const char* help) {
        out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    };
    const auto sample = [&](const std::string& series, std::uint64_t v) { out += series + " " + std::to_string(v) + "\n"; };
    rte_eth_stats st{};
    (void)rte_eth_stats_get(port, &st);
    const std::string p = "port=\"" + std::to_string(port) + "\"";
    family("sipfast_dpdk_port_packets_total", "counter", "Packets the port received and sent.");
    sample("sipfast_dpdk_port_packets_total{" + p + ",direction=\"rx\"}", st.ipackets);
    sample("sipfast_dpdk_port_packets_total{" + p + ",direction=\"tx\"}", st.opackets);
    family("sipfast_dpdk_port_dropped_total", "counter", "Packets the port lost, by cause.");
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"imissed\"}", st.imissed);
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"rx_nombuf\"}", st.rx_nombuf);
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"ierrors\"}", st.ierrors);
    sample("sipfast_dpdk_port_dropped_total{" + p + ",cause=\"oerrors\"}", st.oerrors);
    family("sipfast_dpdk_queue_packets_total", "counter", "Packets per queue (where the port counts them).");
    for (unsigned q = 0; q < lcores && q < RTE_ETHDEV_QUEUE_STAT_CNTRS; ++q) {
        const std::string l = p + ",queue=\"" + std::to_string(q) + "\"";
        sample("sipfast_dpdk_queue_packets_total{" + l + ",direction=\"rx\"}", st.q_ipackets[q]);
        sample("sipfast_dpdk_queue_packets_total{" + l + ",direction=\"tx\"}", st.q_opackets[q]);
    }
    family("sipfast_dpdk_frames_total", "counter", "Frames an lcore handled, by what became of them.");
    for (std::size_t k = 0; k < workers.size(); ++k) {
        const lcore_counters& c = workers[k]->counters();
        const std::string w = "worker=\"" + std::to_string(k) + "\"";
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"received\"}", c.rx);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"sent\"}", c.tx);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"tx_dropped\"}", c.tx_dropped);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"arp_answered\"}", c.arp_answered);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"nd_answered\"}", c.nd_answered);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"not_for_us\"}", c.not_for_us);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"exception\"}", c.exception);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"no_neighbour\"}", c.no_neighbour);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"to_kernel\"}", c.to_kernel);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"from_kernel\"}", c.from_kernel);
        sample("sipfast_dpdk_frames_total{" + w + ",what=\"reassembled\"}", c.reassembled);
    }
    return out;
}

int fail(const std::string& message, int status = 2) {
    std::fprintf(stderr, "sipfast-dpdk: error: %s\n", message.c_str());
    rte_eal_cleanup();
    return status;
}

} // namespace

int main(int argc, char** argv) {
    const int eal = rte_eal_init(argc, argv);
    if (eal < 0) {
        std::fprintf(stderr, "sipfast-dpdk: error: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 2;
    }
    app_options o;
    std::string error;
    if (!parse_options(argc - eal - 1, argv + eal + 1, o, error)) return fail(error);

    daemon::daemon_config cfg;
    std::string source;
    if (const std::string err = daemon::load_with_command_line(o.cli, cfg, source); !err.empty()) return fail(err);
    proxy::net_address subnet;
    unsigned prefix = 0;
    if (!o.address.empty()) {  // the address we own on the port (IP/PREFIX): every listen point takes it
        proxy::net_address a;
        const std::size_t slash = o.address.find('/');
        if (!proxy::parse_ip(o.address.substr(0, slash), a)) return fail("--address " + o.address + ": not an IP");
        prefix = a.family == 4 ? 32u : 128u;
        if (slash != std::string::npos) {
            const std::string bits = o.address.substr(slash + 1);
            if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos ||
                std::stoul(bits) > prefix)
                return fail("--address " + o.address + ": prefix is not 0.." + std::to_string(prefix));
            prefix = static_cast<unsigned>(std::stoul(bits));
        }
        subnet = a;
        for (proxy::listen_point& l : cfg.proxy.listen) {
            const std::uint16_t port = l.address.port;
            l.address = a;
            l.address.port = port;
        }
    }
    proxy::net_address gateway;
    if (!o.gateway.empty() && !proxy::parse_ip(o.gateway, gateway)) return fail("--gateway " + o.gateway + ": not an IP");
    if (gateway.valid() && (subnet.family != gateway.family || prefix == 0))
        return fail("--gateway needs --address IP/PREFIX of the same family (what is off that subnet goes to the gateway)");

    std::uint16_t port = 0;
    if (!o.port_name.empty()) {
        if (rte_eth_dev_get_port_by_name(o.port_name.c_str(), &port) != 0) return fail("--port " + o.port_name + ": no such port");
    } else if (rte_eth_dev_count_avail() == 0) {
        return fail("no port: give one with --vdev (e.g. net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap) or a PCI device");
    }
    std::uint16_t tap = 0;
    const bool have_tap = !o.exception_port.empty();
    if (have_tap && rte_eth_dev_get_port_by_name(o.exception_port.c_str(), &tap) != 0)
        return fail("--exception-port " + o.exception_port + ": no such port (e.g. --vdev net_tap0,iface=sf0)");
    if (o.port_name.empty() && have_tap && port == tap) port = tap == 0 ? 1 : 0;  // the other one is the NIC
    bool have_tcp = false;
    for (const proxy::listen_point& l : cfg.proxy.listen) have_tcp = have_tcp || l.transport == sip::transport::tcp;
    if (have_tcp && !have_tap) return fail("TCP listen addresses need --exception-port (TCP is terminated by the kernel)");
    const unsigned lcores = rte_lcore_count();
    static neighbours neighbour_table;  // shared by the lcores; static: 4096 entries stay off the stack
    shared_state s;
    s.neighbours_table = &neighbour_table;
    s.subnet = subnet;
    s.prefix = prefix;
    s.gateway = gateway;
    s.have_tap = have_tap;
    s.tap = tap;
    s.config = &cfg.proxy;
    s.port = port;
    s.exit_when_idle_ms = o.exit_when_idle_ms;
    s.framing_only = o.framing_only;
    io::mail_hub hub(lcores, 256, have_tcp);
    s.hub = &hub;
    // Every descriptor of every ring may hold an mbuf (RX and TX, the port's and the tap's), plus
    // each lcore's cache and what is in flight in a burst.
    const unsigned ring_mbufs = lcores * 2u * ring_size * (o.exception_port.empty() ? 1u : 2u);
    const unsigned pool_size = ring_mbufs + lcores * (256u + 4u * burst) + 1024u;
    s.pool = rte_pktmbuf_pool_create("sipfast_mbufs", pool_size, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     static_cast<int>(rte_socket_id()));
    if (s.pool == nullptr) return fail(std::string("mbuf pool: ") + rte_strerror(rte_errno), 1);

    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0) return fail("port info unavailable", 1);
    rte_eth_conf conf{};
    if (lcores > 1 && info.flow_type_rss_offloads != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
    }
    const auto queues = static_cast<std::uint16_t>(lcores);
    if (queues > info.max_rx_queues || queues > info.max_tx_queues)
        return fail("port has " + std::to_string(info.max_rx_queues) + " queues, " + std::to_string(lcores) + " lcores given", 1);
    if (rte_eth_dev_configure(port, queues, queues, &conf) != 0) return fail("rte_eth_dev_configure failed", 1);
    for (std::uint16_t q = 0; q < queues; ++q) {
        if (rte_eth_rx_queue_setup(port, q, ring_size, rte_eth_dev_socket_id(port), nullptr, s.pool) != 0 ||
            rte_eth_tx_queue_setup(port, q, ring_size, rte_eth_dev_socket_id(port), nullptr) != 0)
            return fail("queue setup failed", 1);
    }
    rte_ether_addr mac{};
    (void)rte_eth_macaddr_get(port, &mac);
    std::memcpy(s.our_mac.data(), mac.addr_bytes, 6);
    if (rte_eth_dev_start(port) != 0) return fail("rte_eth_dev_start failed", 1);
    if (have_tap) {
        // The kernel side speaks with our MAC, so frames pass between the wire and it unchanged.
        rte_eth_conf tap_conf{};
        if (rte_eth_dev_configure(tap, queues, queues, &tap_conf) != 0) return fail("exception port setup failed", 1);
        for (std::uint16_t q = 0; q < queues; ++q)
            if (rte_eth_rx_queue_setup(tap, q, ring_size, rte_eth_dev_socket_id(tap), nullptr, s.pool) != 0 ||
                rte_eth_tx_queue_setup(tap, q, ring_size, rte_eth_dev_socket_id(tap), nullptr) != 0)
                return fail("exception port queue setup failed", 1);
        (void)rte_eth_dev_default_mac_addr_set(tap, &mac);
        if (rte_eth_dev_start(tap) != 0) return fail("exception port start failed", 1);
    }
    std::unique_ptr<io::tcp_server> tcp;
    std::thread tcp_thread;
    if (have_tcp) {
        tcp = std::make_unique<io::tcp_server>(cfg.proxy, cfg.tcp, hub);
        if (const std::string err = tcp->open(); !err.empty()) return fail("tcp: " + err, 1);
        tcp_thread = std::thread([&] { tcp->run(stop, -1); });
    }

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::vector<std::unique_ptr<worker>> workers;
    std::uint16_t mtu = 1500;
    (void)rte_eth_dev_get_mtu(port, &mtu);
    for (std::uint16_t q = 0; q < queues; ++q) {
        workers.push_back(std::make_unique<worker>(s, q));
        workers.back()->set_mtu(mtu);
    }
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    (void)rte_eth_dev_get_name_by_port(port, name);
    std::fprintf(stderr, "sipfast-dpdk: info: config %s; port %s (%02x:%02x:%02x:%02x:%02x:%02x); %u lcores; mode %s; ready\n",
                 source.c_str(), name, s.our_mac[0], s.our_mac[1], s.our_mac[2], s.our_mac[3], s.our_mac[4],
                 s.our_mac[5], lcores, cfg.proxy.mode == proxy::proxy_mode::stateless ? "stateless" : "stateful");

    // Port, queue and lcore counters go out the same way as sipfastd's (DESIGN §8): Prometheus text
    // from a thread of its own that reads the lcores' single-writer counters.
    std::atomic<bool> stop_ops{false};
    std::thread ops_thread;
    ops::ops_server ops_srv(ops::ops_server::handlers{
        [&] { return metrics_text(workers, port, lcores); },
        [](std::string_view) { return std::string("error: sipfast-dpdk answers metrics only\n"); }});
    if (!cfg.metrics_listen.empty()) {
        if (const std::string err = ops_srv.open(cfg.metrics_listen, {}); !err.empty()) {
            stop.store(true);
            if (tcp_thread.joinable()) tcp_thread.join();
            return fail(err, 1);
        }
        ops_thread = std::thread([&] { ops_srv.run(stop_ops); });
        std::fprintf(stderr, "sipfast-dpdk: info: metrics on port %u\n", ops_srv.metrics_port());
    }
    const std::uint64_t started = now_ns();
    if (o.seconds != 0) s.deadline_ns = started + std::uint64_t{o.seconds} * 1'000'000'000;
    unsigned index = 1;
    unsigned lcore_id = 0;
    RTE_LCORE_FOREACH_WORKER(lcore_id) {
        worker* w = workers[index++].get();
        rte_eal_remote_launch([](void* p) { static_cast<worker*>(p)->run(); return 0; }, w, lcore_id);
    }
    workers[0]->run();
    stop.store(true);  // one lcore ending a replay ends them all
    rte_eal_mp_wait_lcore();

    const double elapsed = static_cast<double>(now_ns() - started) / 1e9;
    stop_ops.store(true);  // before the port's counters are read here: some PMDs clear on read
    if (ops_thread.joinable()) ops_thread.join();
    if (tcp_thread.joinable()) tcp_thread.join();
    rte_eth_stats st{};
    (void)rte_eth_stats_get(port, &st);
    proxy::shard_stats total;
    lcore_counters c;
    for (const auto& w : workers) {
        total += w->stats();
        c.rx += w->counters().rx;
        c.tx += w->counters().tx;
        c.tx_dropped += w->counters().tx_dropped;
        c.arp_answered += w->counters().arp_answered;
        c.exception += w->counters().exception;
        c.no_neighbour += w->counters().no_neighbour;
        c.echoed += w->counters().echoed;
    }

    if (o.seconds != 0) {
        const double sip_messages = static_cast<double>(o.framing_only ? c.echoed.get() : total.requests() + total.responses());
        std::fprintf(stderr, "sipfast-dpdk: result: %s %.0f SIP messages/s per lcore (%u lcores, %.2f s)\n",
                     o.framing_only ? "framing-only" : (cfg.proxy.mode == proxy::proxy_mode::stateless ? "stateless" : "stateful"),
                     sip_messages / elapsed / lcores, lcores, elapsed);
    }
    std::fprintf(stderr,
                 "sipfast-dpdk: info: port rx %llu tx %llu imissed %llu rx_nombuf %llu; frames rx %llu tx %llu dropped %llu, "
                 "arp answered %llu, exception %llu, no neighbour %llu; requests %llu (forwarded %llu), responses %llu "
                 "(forwarded %llu), parse errors %llu, mailbox hops %llu\n",
                 static_cast<unsigned long long>(st.ipackets), static_cast<unsigned long long>(st.opackets),
                 static_cast<unsigned long long>(st.imissed), static_cast<unsigned long long>(st.rx_nombuf),
                 static_cast<unsigned long long>(c.rx.get()), static_cast<unsigned long long>(c.tx.get()),
                 static_cast<unsigned long long>(c.tx_dropped.get()), static_cast<unsigned long long>(c.arp_answered.get()),
                 static_cast<unsigned long long>(c.exception.get()), static_cast<unsigned long long>(c.no_neighbour.get()),
                 static_cast<unsigned long long>(total.requests()), static_cast<unsigned long long>(total.requests_forwarded()),
                 static_cast<unsigned long long>(total.responses()), static_cast<unsigned long long>(total.responses_forwarded()),
                 static_cast<unsigned long long>(total.malformed()), static_cast<unsigned long long>(total.mailbox_hops.get()));
    workers.clear();  // their fragment tables live in EAL memory: gone before rte_eal_cleanup
    (void)rte_eth_dev_stop(port);
    (void)rte_eth_dev_close(port);
    if (have_tap) {
        (void)rte_eth_dev_stop(tap);
        (void)rte_eth_dev_close(tap);
    }
    rte_eal_cleanup();
    return 0;
}
