// SPDX-License-Identifier: Apache-2.0
// sipfast-dpdk: the libsipfast pipeline run to completion on DPDK lcores straight from NIC queues
// (docs/architecture.md, "Backends"; docs/dpdk.md). This file sets up EAL, the port, the exception
// port, the TCP thread and the metrics thread, then runs one lcore_worker per lcore.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <rte_eth_ring.h>

#include "app_options.hpp"
#include "generator_lcore.hpp"
#include "layout_check.hpp"
#include "lcore_worker.hpp"
#include "port_metrics.hpp"
#include "replay_lcore.hpp"
#include "sipfast/daemon/bindings_store.hpp"
#include "sipfast/daemon/daemon_config.hpp"
#include "sipfast/txn/branch.hpp"
#include "sipfast/io/tcp_server.hpp"
#include "sipfast/io/wakers.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/ops/ops_server.hpp"
#include "sipfast/ops/summary.hpp"

namespace {

using namespace sipfast;
using namespace sipfast::dpdk;

std::atomic<bool> stop{false};
std::atomic<bool> reload_requested{false};
std::atomic<bool> drain_requested{false};
// SIGHUP reloads; SIGTERM/SIGINT drain (new calls 503, what is in flight finishes); a second one
// stops at once. The work is done by the control thread: nothing here but flags.
void on_signal(int sig) {
    if (sig == SIGHUP) reload_requested.store(true);
    else if (drain_requested.exchange(true)) stop.store(true);
}

int fail(const std::string& message, int status = 2) {
    std::fprintf(stderr, "sipfast-dpdk: error: %s\n", message.c_str());
    rte_eal_cleanup();
    return status;
}

/// Our addresses on the port: every listen point of a family takes the address of that family
/// (keeping its transport and port); a family with an address but no listen point gets the other
/// family's listen points. With no address given the listen addresses are ours, as host routes.
void own_addresses(daemon::daemon_config& cfg) {
    std::vector<proxy::listen_point> added;
    for (const daemon::owned_address& a : cfg.dpdk.addresses) {
        bool any = false;
        for (proxy::listen_point& l : cfg.proxy.listen)
            if (l.address.family == a.ip.family) {
                const std::uint16_t port = l.address.port;
                l.address = a.ip;
                l.address.port = port;
                any = true;
            }
        if (any) continue;
        for (const proxy::listen_point& l : cfg.proxy.listen) {
            proxy::listen_point copy = l;
            copy.address = a.ip;
            copy.address.port = l.address.port;
            added.push_back(copy);
        }
    }
    cfg.proxy.listen.insert(cfg.proxy.listen.end(), added.begin(), added.end());
}

/// `--generate`: where alice, bob and the proxy are, and bob in the location service so that calls
/// to him reach the generator's callee side. Refusals say what the mode needs.
std::string generator_setup(daemon::daemon_config& cfg, unsigned window, generator_config& g) {
    for (const proxy::listen_point& l : cfg.proxy.listen)
        if (l.transport == sip::transport::udp && l.address.family == 4 && !g.proxy.valid()) g.proxy = l.address;
    if (!g.proxy.valid()) return "--generate needs a UDP listen address on IPv4";
    if (cfg.proxy.domains.empty()) return "--generate needs a domain (--domain NAME): bob@NAME is called";
    if (!cfg.dpdk.exception_port.empty()) return "--generate makes its own port: no --exception-port with it";
    for (const proxy::listen_point& l : cfg.proxy.listen)
        if (l.transport != sip::transport::udp) return "--generate sends over UDP only: listen on UDP alone";
    (void)core::parse_ip("198.18.0.9", g.alice);
    g.alice.port = 10000;
    (void)core::parse_ip("198.18.0.20", g.bob);
    g.bob.port = 5062;
    g.domain = cfg.proxy.domains.front();
    g.window = window;
    proxy::location_entry bob;
    bob.user = "bob";
    bob.domain = cfg.proxy.domains.front();
    bob.contact_uri = "sip:bob@198.18.0.20:5062";
    bob.contact_address = g.bob;
    cfg.proxy.locations.push_back(bob);
    // Its callers and callees are ours: trusted, so [limits] (per source) does not shed the load.
    for (const core::net_address& a : {g.alice, g.bob}) cfg.proxy.policy.peers.push_back({{a, 32}, {}});
    return {};
}

/// What the mbuf pool must hold so that no path runs it dry while another keeps its share: every
/// mbuf that can be parked somewhere at once. Mailboxes and the TCP thread copy bytes, never mbufs.
struct pool_budget {
    static constexpr unsigned cache = 256;  // per lcore
    std::uint64_t rings = 0;      // RX and TX descriptors of every queue, the port's and the exception port's
    std::uint64_t generator = 0;  // --generate: the rings its port is made of
    std::uint64_t caches = 0;     // a cache fills to 1.5 times its size before it flushes (rte_mempool)
    std::uint64_t bursts = 0;     // per lcore: an RX burst, the TX buffer, a burst from the kernel, answers
    std::uint64_t fragments = 0;  // per worker: the reassembly table full, each datagram at its most fragments
    std::uint64_t outbox = 0;     // per worker: messages written in their mbufs, waiting in the outbox

    [[nodiscard]] std::uint64_t total() const noexcept { return rings + generator + caches + bursts + fragments + outbox; }
    [[nodiscard]] std::string text() const {
        std::string t = "rings " + std::to_string(rings);
        if (generator != 0) t += " + generator rings " + std::to_string(generator);
        t += " + lcore caches " + std::to_string(caches) + " + bursts in flight " + std::to_string(bursts) +
             " + fragment tables " + std::to_string(fragments) + " + outboxes " + std::to_string(outbox);
        return t;
    }
};

pool_budget pool_budget_for(const daemon::dpdk_config& d, unsigned workers, unsigned lcores, bool tap, bool generate) {
    pool_budget b;
    b.rings = std::uint64_t{workers} * (d.rx_descriptors + d.tx_descriptors) * (tap ? 2u : 1u);
    b.generator = generate ? std::uint64_t{workers} * 2u * 8192u : 0u;
    b.caches = std::uint64_t{lcores} * (pool_budget::cache * 3 / 2);
    b.bursts = std::uint64_t{lcores} * 4u * burst;
    b.fragments = std::uint64_t{workers} * fragment_table::mbufs;
    b.outbox = std::uint64_t{workers} * (proxy::shard::outbox_messages + 1);
    return b;
}

/// p50 and p99 of the delay from receipt to the port taking a forward, all methods and classes.
std::string pipeline_latency(const std::vector<std::unique_ptr<lcore_worker>>& workers) {
    core::histogram all;
    for (const auto& w : workers) {
        for (const core::histogram& h : w->stats().request_latency) all += h;
        for (const core::histogram& h : w->stats().response_latency) all += h;
    }
    core::text<160> t;
    t.put("through the pipeline p50 ").fixed(static_cast<double>(all.quantile(0.5)) / 1e3, 1);
    t.put(" µs, p99 ").fixed(static_cast<double>(all.quantile(0.99)) / 1e3, 1);
    t.put(" µs (").number(all.total()).put(" forwards; bucket upper bounds)");
    return std::string(t.view());
}

std::string print_result(const app_options& o, const daemon::daemon_config& cfg,
                         const std::vector<std::unique_ptr<lcore_worker>>& workers, double elapsed) {
    std::uint64_t messages = 0;
    for (const auto& w : workers)
        messages += o.framing_only ? w->counters().echoed.get() : w->stats().requests() + w->stats().responses();
    core::text<320> t;
    t.put(o.framing_only ? "framing-only" : (cfg.proxy.mode == proxy::proxy_mode::stateless ? "stateless" : "stateful"));
    t.put(' ').fixed(static_cast<double>(messages) / elapsed / static_cast<double>(workers.size()), 0);
    t.put(" SIP messages/s per lcore (").number(workers.size()).put(" lcores, ").fixed(elapsed, 2).put(" s)");
    // Every frame the lcores took from the port, and those [limits] shed before parsing them (a
    // source over its rate): what shedding costs is read from these, per packet.
    std::uint64_t frames = 0;
    std::uint64_t shed = 0;
    for (const auto& w : workers) {
        frames += w->counters().rx;
        shed += w->stats().dropped(proxy::drop_cause::rate_limited) + w->stats().dropped(proxy::drop_cause::banned);
    }
    const double per_lcore = elapsed * static_cast<double>(workers.size());
    t.put(", frames received ").fixed(static_cast<double>(frames) / per_lcore, 0).put("/s per lcore, shed ");
    t.fixed(static_cast<double>(shed) / per_lcore, 0).put("/s per lcore");
    return std::string(t.view());
}

} // namespace

int main(int argc, char** argv) {
    const int eal = rte_eal_init(argc, argv);
    if (eal < 0) {
        std::fprintf(stderr, "sipfast-dpdk: error: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 2;
    }
    if (const std::string fault = sipfast::txn::branch_secret_fault(); !fault.empty()) {
        std::fprintf(stderr, "sipfast-dpdk: error: %s\n", fault.c_str());
        return 2;
    }
    app_options o;
    std::string error;
    if (!parse_options(argc - eal - 1, argv + eal + 1, o, error)) return fail(error);

    daemon::daemon_config cfg;
    std::string source;
    if (const std::string err = daemon::load_with_command_line(o.cli, cfg, source); !err.empty()) return fail(err);
    own_addresses(cfg);
    const daemon::dpdk_config& d = cfg.dpdk;
    const unsigned lcores = rte_lcore_count();
    generator_config gen_config;
    if (o.generate_rate != 0 && o.generate == 0) return fail("--generate-rate needs --generate CALLS (the calls in flight at most)");
    if (o.generate != 0) {
        if (const std::string err = generator_setup(cfg, o.generate, gen_config); !err.empty()) return fail(err);
        gen_config.rate = o.generate_rate;
        if (lcores < 2) return fail("--generate needs one lcore more than the workers (e.g. -l 0,1): the last one generates");
    }
    const bool replay = !o.replay.empty();
    if (replay != (o.replay_rate != 0)) return fail("--replay PCAP and --replay-rate FRAMES_PER_S go together");
    if (replay && o.generate != 0) return fail("--replay and --generate both make the traffic: one of them");
    if (replay && lcores < 2) return fail("--replay needs one lcore more than the workers (e.g. -l 0,1): the last one sends");
    // The last lcore makes the traffic and the port is its rings.
    const bool traffic_lcore = o.generate != 0 || replay;
    const unsigned worker_count = traffic_lcore ? lcores - 1 : lcores;
    if (o.cli.workers != 0 && o.cli.workers != worker_count)
        return fail("--workers " + std::to_string(o.cli.workers) + " but EAL gave " + std::to_string(worker_count) +
                    " lcores for workers: sipfast-dpdk runs one worker per lcore (-l)");
    // The traffic lcore's port: one pair of rings per queue, polled by the workers as a NIC's queues.
    std::vector<rte_ring*> to_port, from_port;
    int generator_port = -1;
    if (traffic_lcore) {
        for (unsigned q = 0; q < worker_count; ++q) {
            const std::string n = std::to_string(q);
            to_port.push_back(rte_ring_create(("gen_rx" + n).c_str(), 8192, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ));
            from_port.push_back(rte_ring_create(("gen_tx" + n).c_str(), 8192, static_cast<int>(rte_socket_id()), RING_F_SP_ENQ | RING_F_SC_DEQ));
            if (to_port.back() == nullptr || from_port.back() == nullptr) return fail(std::string("generator rings: ") + rte_strerror(rte_errno), 1);
        }
        const int p = rte_eth_from_rings("net_generator", to_port.data(), worker_count, from_port.data(), worker_count,
                                         static_cast<unsigned>(rte_socket_id()));
        if (p < 0) return fail(std::string("generator port: ") + rte_strerror(rte_errno), 1);
        generator_port = p;
    }

    std::uint16_t port = 0;
    if (generator_port >= 0) {
        port = static_cast<std::uint16_t>(generator_port);
    } else if (!d.port.empty()) {
        if (rte_eth_dev_get_port_by_name(d.port.c_str(), &port) != 0) return fail("port " + d.port + ": no such port");
    } else if (rte_eth_dev_count_avail() == 0) {
        return fail("no port: give one with --vdev (e.g. net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap) or a PCI device");
    }
    std::uint16_t tap = 0;
    const bool have_tap = !d.exception_port.empty();
    if (have_tap && rte_eth_dev_get_port_by_name(d.exception_port.c_str(), &tap) != 0)
        return fail("exception port " + d.exception_port + ": no such port (e.g. --vdev net_tap0,iface=sf0)");
    if (d.port.empty() && have_tap && port == tap) port = tap == 0 ? 1 : 0;  // the other one is the NIC
    bool have_tcp = false;
    for (const proxy::listen_point& l : cfg.proxy.listen) have_tcp = have_tcp || l.transport == sip::transport::tcp;
    if (have_tcp && !have_tap) return fail("TCP listen addresses need --exception-port (TCP is terminated by the kernel)");

    // Shared by the lcores; static: 4096 entries stay off the stack.
    static neighbours neighbour_table(std::uint64_t{o.neighbour_reachable_ms} * 1'000'000);
    shared_state s;
    s.config = &cfg.proxy;
    s.dpdk = &d;
    s.neighbour_table = &neighbour_table;
    s.stop = &stop;
    s.port = port;
    s.have_tap = have_tap;
    s.tap = tap;
    s.exit_when_idle_ms = o.exit_when_idle_ms;
    s.framing_only = o.framing_only;
    proxy::mail_hub hub(worker_count, std::size_t{d.mailbox_kib} << 10, have_tcp);
    // Lcores poll their mailboxes; only the TCP thread sleeps (in epoll) and is woken.
    io::wakers wake(hub, [&](unsigned p) { return have_tcp && p == hub.stream_thread(); });
    s.hub = &hub;
    daemon::bindings_store bindings = daemon::open_bindings(cfg);
    if (!bindings.store) return fail(bindings.error);
    std::fprintf(stderr, "sipfast-dpdk: info: %s\n", bindings.note.c_str());
    const auth::nonce_source nonces;
    auth::nonce_counts nonce_counts(cfg.proxy.auth.nonce_lifetime_ns);
    proxy::shard_control control;
    control.config.store(&cfg.proxy);
    control.services = {bindings.store.get(), &nonces, &nonce_counts};
    s.control = &control;
    // A layout that cannot work is refused before anything is set up (layout_check.hpp).
    {
        rte_eth_dev_info port_info{};
        if (rte_eth_dev_info_get(port, &port_info) != 0) return fail("port info unavailable", 1);
        // Worker 0 runs on the main lcore, the others on the next worker lcores (as launched below).
        std::vector<unsigned> worker_lcores{rte_get_main_lcore()}, worker_sockets{rte_lcore_to_socket_id(rte_get_main_lcore())};
        unsigned lcore = 0;
        RTE_LCORE_FOREACH_WORKER(lcore) {
            if (worker_lcores.size() == worker_count) break;
            worker_lcores.push_back(lcore);
            worker_sockets.push_back(rte_lcore_to_socket_id(lcore));
        }
        const std::string fault = layout_fault({rte_eth_dev_socket_id(port), port_info.max_rx_queues, port_info.max_tx_queues},
                                               worker_lcores, worker_sockets, o.allow_remote_numa);
        if (!fault.empty()) return fail(fault, 1);
    }
    const pool_budget budget = pool_budget_for(d, worker_count, lcores, have_tap, traffic_lcore);
    const std::uint64_t needed = budget.total();
    if (needed > std::numeric_limits<std::uint32_t>::max())
        return fail("the mbuf pool would need " + std::to_string(needed) + " mbufs (" + budget.text() +
                    "): fewer descriptors or lcores");
    if (d.mbufs != 0 && d.mbufs < needed)
        return fail("dpdk.mbufs " + std::to_string(d.mbufs) + " is too small: " + std::to_string(needed) + " needed (" +
                    budget.text() + ")");
    const std::uint32_t pool_size = d.mbufs != 0 ? d.mbufs : static_cast<std::uint32_t>(needed);
    const std::uint64_t pool_bytes = std::uint64_t{pool_size} * (sizeof(rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE);
    // On the port's node: the NIC writes every frame into these buffers (any node for a virtual port).
    const int pool_socket = rte_eth_dev_socket_id(port) >= 0 ? rte_eth_dev_socket_id(port) : static_cast<int>(rte_socket_id());
    s.pool = rte_pktmbuf_pool_create("sipfast_mbufs", pool_size, pool_budget::cache, 0, RTE_MBUF_DEFAULT_BUF_SIZE, pool_socket);
    if (s.pool == nullptr)
        return fail("mbuf pool of " + std::to_string(pool_size) + " mbufs (" + std::to_string(pool_bytes >> 20) +
                        " MiB) could not be made: " + rte_strerror(rte_errno) + "; it holds " + budget.text() +
                        ". Give EAL more memory (-m, hugepages), or take fewer lcores or descriptors",
                    1);
    std::fprintf(stderr, "sipfast-dpdk: info: mbuf pool %u mbufs (%llu MiB)%s: %s\n", pool_size,
                 static_cast<unsigned long long>(pool_bytes >> 20), d.mbufs != 0 ? " as dpdk.mbufs says" : "",
                 budget.text().c_str());

    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(port, &info) != 0) return fail("port info unavailable", 1);
    rte_eth_conf conf{};
    if (worker_count > 1 && info.flow_type_rss_offloads != 0) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
    }
    // Checksums to the NIC where it offers both (IPv4 header, UDP); software otherwise.
    constexpr std::uint64_t csum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
    s.checksum_offload = (info.tx_offload_capa & csum) == csum;
    if (s.checksum_offload) conf.txmode.offloads |= csum;
    // And checked on receive where the port can (the IPv4 header's is verified in software anyway;
    // UDP's is not, on ports that cannot: virtual ones).
    constexpr std::uint64_t rx_csum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
    const bool rx_checksums = (info.rx_offload_capa & rx_csum) == rx_csum;
    if (rx_checksums) conf.rxmode.offloads |= rx_csum;
    const auto queues = static_cast<std::uint16_t>(worker_count);
    if (rte_eth_dev_configure(port, queues, queues, &conf) != 0) return fail("rte_eth_dev_configure failed", 1);
    for (std::uint16_t q = 0; q < queues; ++q) {
        if (rte_eth_rx_queue_setup(port, q, static_cast<std::uint16_t>(d.rx_descriptors), rte_eth_dev_socket_id(port), nullptr, s.pool) != 0 ||
            rte_eth_tx_queue_setup(port, q, static_cast<std::uint16_t>(d.tx_descriptors), rte_eth_dev_socket_id(port), nullptr) != 0)
            return fail("queue setup failed (dpdk.rx_descriptors/tx_descriptors beyond what the port takes?)", 1);
    }
    rte_ether_addr mac{};
    (void)rte_eth_macaddr_get(port, &mac);
    std::memcpy(s.our_mac.data(), mac.addr_bytes, 6);
    std::uint16_t mtu = 1500;
    (void)rte_eth_dev_get_mtu(port, &mtu);
    s.mtu = mtu;
    if (rte_eth_dev_start(port) != 0) return fail("rte_eth_dev_start failed", 1);
    if (have_tap) {
        // The kernel side speaks with our MAC, so frames pass between the wire and it unchanged.
        rte_eth_conf tap_conf{};
        if (rte_eth_dev_configure(tap, queues, queues, &tap_conf) != 0) return fail("exception port setup failed", 1);
        for (std::uint16_t q = 0; q < queues; ++q)
            if (rte_eth_rx_queue_setup(tap, q, static_cast<std::uint16_t>(d.rx_descriptors), rte_eth_dev_socket_id(tap), nullptr, s.pool) != 0 ||
                rte_eth_tx_queue_setup(tap, q, static_cast<std::uint16_t>(d.tx_descriptors), rte_eth_dev_socket_id(tap), nullptr) != 0)
                return fail("exception port queue setup failed", 1);
        (void)rte_eth_dev_default_mac_addr_set(tap, &mac);
        if (rte_eth_dev_start(tap) != 0) return fail("exception port start failed", 1);
    }
    std::unique_ptr<replay_lcore> replayer;
    if (replay) {
        std::string err;
        replayer = std::make_unique<replay_lcore>(s, o.replay, o.replay_rate, to_port, from_port, err);
        if (!err.empty()) return fail(err);
    }
    std::unique_ptr<io::tcp_server> tcp;
    std::thread tcp_thread;
    if (have_tcp) {
        tcp = std::make_unique<io::tcp_server>(cfg.proxy, cfg.tcp, hub, wake.fd(hub.stream_thread()));
        if (const std::string err = tcp->open(); !err.empty()) return fail("tcp: " + err, 1);
        tcp_thread = std::thread([&] { tcp->run(stop, -1); });
    }

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::signal(SIGHUP, on_signal);
    std::vector<std::unique_ptr<lcore_worker>> workers;
    for (std::uint16_t q = 0; q < queues; ++q) workers.push_back(std::make_unique<lcore_worker>(s, q));
    char name[RTE_ETH_NAME_MAX_LEN] = {};
    (void)rte_eth_dev_get_name_by_port(port, name);
    std::fprintf(stderr, "sipfast-dpdk: info: config %s; port %s (%02x:%02x:%02x:%02x:%02x:%02x, MTU %u, checksums %s, %s on receive); %u worker lcores%s; mode %s; ready\n",
                 source.c_str(), name, s.our_mac[0], s.our_mac[1], s.our_mac[2], s.our_mac[3], s.our_mac[4],
                 s.our_mac[5], mtu, s.checksum_offload ? "offloaded" : "in software", rx_checksums ? "checked by the port" : "IPv4 header checked",
                 worker_count, o.generate != 0 ? " and a generator" : replay ? " and a replay" : "", cfg.proxy.mode == proxy::proxy_mode::stateless ? "stateless" : "stateful");

    // Port, queue and lcore counters go out the same way as sipfastd's
    // (docs/architecture.md, "Operations"): Prometheus text from a thread of its own that reads the
    // lcores' single-writer counters.
    std::atomic<bool> stop_ops{false};
    std::thread ops_thread;
    ops::ops_server ops_srv(ops::ops_server::handlers{
        [&] { return metrics_text(workers, port, queues); },
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
    std::unique_ptr<generator_lcore> generator;
    if (o.generate != 0) generator = std::make_unique<generator_lcore>(s, gen_config, to_port, from_port);
    unsigned index = 1;
    unsigned lcore_id = 0;
    RTE_LCORE_FOREACH_WORKER(lcore_id) {
        if (index < workers.size())
            rte_eal_remote_launch([](void* p) { static_cast<lcore_worker*>(p)->run(); return 0; }, workers[index++].get(), lcore_id);
        else if (generator)  // the last lcore
            rte_eal_remote_launch([](void* p) { static_cast<generator_lcore*>(p)->run(); return 0; }, generator.get(), lcore_id);
        else if (replayer)
            rte_eal_remote_launch([](void* p) { static_cast<replay_lcore*>(p)->run(); return 0; }, replayer.get(), lcore_id);
    }
    // Reload and drain, as sipfastd does: a reloaded configuration is swapped in through the
    // control (each lcore takes it at its next turn); every one loaded stays alive, since an lcore
    // may still read the one before.
    std::vector<std::unique_ptr<daemon::daemon_config>> reloaded;
    std::thread control_thread([&] {
        std::uint64_t drain_deadline = 0;
        while (!stop.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            if (reload_requested.exchange(false)) {
                auto next = std::make_unique<daemon::daemon_config>();
                std::string from;
                std::string err = daemon::load_with_command_line(o.cli, *next, from);
                if (err.empty()) {
                    own_addresses(*next);
                    const daemon::daemon_config& running = reloaded.empty() ? cfg : *reloaded.back();
                    if (const std::string conflict = daemon::reload_conflict(running, *next); !conflict.empty())
                        err = from + ": " + conflict;
                }
                if (!err.empty()) {
                    std::fprintf(stderr, "sipfast-dpdk: error: reload refused, the running configuration stays: %s\n", err.c_str());
                } else {
                    control.config.store(&next->proxy, std::memory_order_release);
                    std::fprintf(stderr, "sipfast-dpdk: info: reloaded %s: %zu routes, %zu locations, %zu domains\n", from.c_str(),
                                 next->proxy.routes.size(), next->proxy.locations.size(), next->proxy.domains.size());
                    reloaded.push_back(std::move(next));
                }
            }
            if (drain_requested.load() && !control.draining.load()) {
                control.draining.store(true);
                drain_deadline = now_ns() + cfg.shutdown_grace_ns;
                std::fprintf(stderr, "sipfast-dpdk: info: stopping: new calls are answered 503, transactions in flight finish\n");
            }
            if (control.draining.load()) {
                std::uint64_t pending = 0;
                for (const auto& w : workers) pending += w->stats().transactions_pending;
                if (pending == 0 || now_ns() >= drain_deadline) {
                    if (pending != 0) std::fprintf(stderr, "sipfast-dpdk: warn: grace period over: %llu transactions abandoned\n",
                                                   static_cast<unsigned long long>(pending));
                    stop.store(true);
                }
            }
        }
    });
    workers[0]->run();
    stop.store(true);  // one lcore ending a replay ends them all
    rte_eal_mp_wait_lcore();
    control_thread.join();

    const double elapsed = static_cast<double>(now_ns() - started) / 1e9;
    stop_ops.store(true);  // before the port's counters are read here: some PMDs clear on read
    if (ops_thread.joinable()) ops_thread.join();
    if (tcp_thread.joinable()) tcp_thread.join();
    if (o.seconds != 0) {
        std::fprintf(stderr, "sipfast-dpdk: result: %s; %s\n", print_result(o, cfg, workers, elapsed).c_str(),
                     pipeline_latency(workers).c_str());
    }
    if (replayer)
        std::fprintf(stderr, "sipfast-dpdk: replay: frames sent %llu (%.0f/s), dropped %llu, skipped %llu\n",
                     static_cast<unsigned long long>(replayer->sent()), static_cast<double>(replayer->sent()) / elapsed,
                     static_cast<unsigned long long>(replayer->dropped()), static_cast<unsigned long long>(replayer->skipped()));
    if (generator) {
        const loadgen::uac_stats& g = generator->caller();
        const loadgen::latency_summary setup = loadgen::latency_summary::of(g.invite_to_200);
        std::fprintf(stderr,
                     "sipfast-dpdk: generator: calls started %llu, completed %llu (%.0f/s), failed %llu, frames dropped %llu; "
                     "call setup as the caller sees it p50 %.1f µs, p99 %.1f µs\n",
                     static_cast<unsigned long long>(g.started.get()), static_cast<unsigned long long>(g.completed.get()),
                     static_cast<double>(g.completed.get()) / elapsed, static_cast<unsigned long long>(g.failures()),
                     static_cast<unsigned long long>(generator->dropped()), static_cast<double>(setup.p50),
                     static_cast<double>(setup.p99));
        if (g.failures() != 0 || g.strays.get() != 0 || g.unparsable.get() != 0) {
            // Which failures, by sipfast-loadgen's names: the line above has their sum only.
            core::text<400> why;
            for (std::size_t f = 0; f < loadgen::failure_count; ++f)
                if (const std::uint64_t n = g.failed[f].get(); n != 0)
                    why.put(loadgen::failure_name(static_cast<loadgen::failure>(f))).put(' ').number(n).put(", ");
            why.put("strays ").number(g.strays.get()).put(", unparsable ").number(g.unparsable.get());
            std::fprintf(stderr, "sipfast-dpdk: generator: failures: %.*s\n", static_cast<int>(why.view().size()), why.view().data());
        }
    }
    std::fprintf(stderr, "sipfast-dpdk: info: %s; totals: %s\n", port_summary(port).c_str(),
                 ops::summary_line(worker_metrics(workers)).c_str());
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
