// SPDX-License-Identifier: Apache-2.0
// sipfastd: the proxy over kernel sockets. Loads the configuration (embedded default or --config),
// applies the command-line overrides, starts one pinned worker per core, the TCP thread and the
// ops thread (metrics, control socket), then waits for signals: SIGHUP reloads, SIGTERM/SIGINT
// drain and stop, a second one stops at once.
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_parse.hpp"

#include "sipfast/core/clock.hpp"
#include "sipfast/core/log.hpp"
#include "sipfast/daemon/bindings_store.hpp"
#include "sipfast/daemon/daemon_config.hpp"
#include "sipfast/core/shard_hash.hpp"
#include "sipfast/io/reuseport_steering.hpp"
#include "sipfast/io/tcp_server.hpp"
#include "sipfast/io/udp_worker.hpp"
#include "sipfast/io/wakers.hpp"
#include "sipfast/ops/ops_server.hpp"
#include "sipfast/ops/prometheus.hpp"
#include "sipfast/ops/summary.hpp"
#include "sipfast/sip/isa.hpp"
#include "sipfast/txn/branch.hpp"
#include "stats_report.hpp"

#ifndef SIPFAST_VERSION
#define SIPFAST_VERSION "unknown"
#endif

namespace {

using namespace sipfast;
using core::log_error;
using core::log_info;
using core::log_warn;

using overrides = daemon::command_line;


/// "127.0.0.1" of "127.0.0.1:9160", "[::1]" of "[::1]:9160".
std::string metrics_host(const std::string& listen) {
    const std::size_t colon = listen.rfind(':');
    return colon == std::string::npos || listen.back() == ']' ? listen : listen.substr(0, colon);
}

/// The running daemon: its threads and everything the ops thread and the signal loop act on.
class daemon_process {
public:
    daemon_process(const overrides& o, std::unique_ptr<daemon::daemon_config> cfg, std::string source)
        : overrides_(o), source_(std::move(source)), started_ns_(core::monotonic_ns()), started_unix_(std::time(nullptr)) {
        current_.store(cfg.get());
        configs_.push_back(std::move(cfg));
    }

    int run();

private:
    /// The configuration in force; any thread (configs_ itself is touched under reload_mutex_ only).
    [[nodiscard]] const daemon::daemon_config& current() const { return *current_.load(std::memory_order_acquire); }
    std::string reload();
    std::string command(std::string_view line);
    std::string routes() const;
    /// Transactions still waiting for a final answer: what a drain waits for (those that only
    /// absorb retransmissions after their answer need no waiting).
    std::uint64_t active_transactions() const;
    /// The shards' statistics (one per worker) and the TCP thread's, for every view of them.
    std::vector<core::metric_set> metric_sets() const;
    void apply_log_level(const daemon::daemon_config& c) const;
    /// Attaches the kernel steering program when configured and useful; what the start-up line says.
    std::string steer(const daemon::daemon_config& c, unsigned workers);

    overrides overrides_;
    std::string source_;
    std::uint64_t started_ns_;
    std::time_t started_unix_;
    // Every configuration ever loaded stays alive: a worker may still read the one it had when a
    // reload swapped in the next (reloads are rare; each costs a few kilobytes).
    std::vector<std::unique_ptr<daemon::daemon_config>> configs_;
    std::atomic<const daemon::daemon_config*> current_{nullptr};
    std::mutex reload_mutex_;
    daemon::bindings_store bindings_;  // the registrar's store and the thread that frees lapsed bindings
    const auth::nonce_source nonces_;  // a secret of this process: nonces die with it
    std::unique_ptr<auth::nonce_counts> nonce_counts_;
    proxy::shard_control control_;
    std::unique_ptr<proxy::mail_hub> hub_;
    std::unique_ptr<io::wakers> wakers_;
    std::vector<std::unique_ptr<io::udp_worker>> workers_;
    std::unique_ptr<io::reuseport_steering> steering_;  // null: the kernel spreads by 4-tuple
    std::unique_ptr<io::tcp_server> tcp_;
    std::unique_ptr<ops::ops_server> ops_;
    daemon::stats_reporter reporter_;
};

void daemon_process::apply_log_level(const daemon::daemon_config& c) const {
    core::log_level l = core::log_level::info;
    (void)core::parse_log_level(c.log_level, l);
    core::logger::set_level(l);
}

/// "off", or who is challenged and how many users may answer.
std::string auth_summary(const daemon::daemon_config& cfg) {
    const proxy::auth_config& a = cfg.proxy.auth;
    if (a.mode == proxy::auth_mode::none || !a.users) return "off";
    return std::string(a.mode == proxy::auth_mode::all ? "all requests" : "registrations") + " (" +
           std::to_string(a.users->size()) + " users)";
}

/// "off", or what a source that is not a [[peer]] may send.
std::string limits_summary(const daemon::daemon_config& cfg) {
    const core::source_limits& l = cfg.proxy.limits;
    if (!l.enabled()) return "off";
    std::string s;
    if (l.messages_per_s != 0) s += std::to_string(l.messages_per_s) + " messages/s";
    if (l.bytes_per_s != 0) s += (s.empty() ? "" : ", ") + std::to_string(l.bytes_per_s) + " bytes/s";
    s += " per source";
    if (l.ban_ns != 0) s += ", ban " + std::to_string(l.ban_ns / 1'000'000'000) + " s";
    return s;
}

/// With the kernel steering by call, one source's messages reach every worker (one per call), so
/// each worker's token buckets take 1/N of the configured rates and bursts: the source still gets
/// its rate in all, not N times it (docs/configuration.md, [limits]).
void share_limits(core::source_limits& l, unsigned workers) {
    const auto share = [workers](std::uint32_t v) { return v == 0 ? 0 : (v + workers - 1) / workers; };
    l.messages_per_s = share(l.messages_per_s);
    l.message_burst = share(l.message_burst);
    l.bytes_per_s = share(l.bytes_per_s);
    l.byte_burst = share(l.byte_burst);
}

std::string daemon_process::steer(const daemon::daemon_config& c, unsigned workers) {
    if (!c.steer_in_kernel_bpf) return "kernel (by 4-tuple)";
    if (workers < 2) return "none (one worker)";
    // groups[g][w]: worker w's socket on UDP listen address g.
    std::vector<std::vector<int>> groups;
    for (unsigned w = 0; w < workers; ++w) {
        const std::vector<int> fds = workers_[w]->udp_sockets();
        if (groups.empty()) groups.resize(fds.size());
        for (std::size_t g = 0; g < fds.size() && g < groups.size(); ++g) groups[g].push_back(fds[g]);
    }
    std::string error;
    steering_ = io::reuseport_steering::attach(groups, core::steer_seed(), error);
    if (steering_) return "ebpf (by Call-ID and branch)";
    // One line, and the daemon runs as before: every message still reaches its owner through the mailboxes.
    log_warn("steering: eBPF refused (" + error + "); the kernel spreads datagrams by 4-tuple and workers hand messages over");
    return "kernel (eBPF refused)";
}

std::vector<core::metric_set> daemon_process::metric_sets() const {
    std::vector<const proxy::shard_stats*> shards;
    for (const auto& w : workers_) shards.push_back(&w->stats());
    std::vector<core::metric_set> sets{core::metric_set::of<proxy::shard_stats>(shards)};
    if (tcp_) sets.push_back(core::metric_set::of(tcp_->counters()));
    return sets;
}

std::uint64_t daemon_process::active_transactions() const {
    std::uint64_t n = 0;
    for (const auto& w : workers_) n += w->stats().transactions_pending;
    return n;
}

std::string daemon_process::reload() {
    std::lock_guard<std::mutex> lock(reload_mutex_);
    auto next = std::make_unique<daemon::daemon_config>();
    std::string source;
    if (std::string err = daemon::load_with_command_line(overrides_, *next, source); !err.empty()) {
        log_error("reload refused, the running configuration stays: " + err);
        return "error: " + err + " (the running configuration stays)\n";
    }
    if (std::string conflict = daemon::reload_conflict(current(), *next); !conflict.empty()) {
        log_error("reload refused, the running configuration stays: " + source + ": " + conflict);
        return "error: " + source + ": " + conflict + " (the running configuration stays)\n";
    }
    if (steering_) share_limits(next->proxy.limits, static_cast<unsigned>(workers_.size()));
    configs_.push_back(std::move(next));
    current_.store(configs_.back().get(), std::memory_order_release);
    const daemon::daemon_config& c = current();
    apply_log_level(c);
    if (tcp_) tcp_->set_limits(c.tcp);
    control_.config.store(&c.proxy, std::memory_order_release);  // workers take it at their next turn
    const std::string what = std::to_string(c.proxy.routes.size()) + " routes, " +
                             std::to_string(c.proxy.locations.size()) + " locations, " +
                             std::to_string(c.proxy.domains.size()) + " domains";
    log_info("reloaded " + source + ": " + what);
    return "reloaded " + source + ": " + what + "\n";
}

std::string daemon_process::routes() const {
    const proxy::proxy_config& p = current().proxy;
    std::ostringstream out;
    std::array<char, 48> host{};
    out << "domains:";
    for (const std::string& d : p.domains) out << ' ' << d;
    out << "\nroutes (first match wins):\n";
    if (p.routes.empty()) out << "  (none: other requests go to their Request-URI)\n";
    for (const proxy::route_rule& r : p.routes)
        out << "  domain=" << (r.domain.empty() ? "*" : r.domain) << " user_prefix=" << (r.user_prefix.empty() ? "*" : r.user_prefix)
            << " -> " << (r.transport == sip::transport::tcp ? "tcp:" : "udp:") << core::format_host(r.next_hop, host) << ':'
            << r.next_hop.port << '\n';
    out << "locations:\n";
    if (p.locations.empty()) out << "  (none)\n";
    for (const proxy::location_entry& e : p.locations)
        out << "  " << e.user << '@' << (e.domain.empty() ? "*" : e.domain) << " -> " << e.contact_uri << '\n';
    return out.str();
}

std::string daemon_process::command(std::string_view line) {
    const std::vector<core::metric_set> sets = metric_sets();
    const daemon::stats_sources src{sets, workers_.size(), core::monotonic_ns() - started_ns_};
    if (line == "stats") return reporter_.text(src, core::monotonic_ns());
    if (line == "stats --json" || line == "stats-json") return reporter_.json(src, core::monotonic_ns());
    if (line == "routes") return routes();
    if (line == "reload") return reload();
    if (line == "version") return std::string("sipfastd ") + SIPFAST_VERSION + "\n";
    if (line == "shutdown") {
        // The signal loop drains as for any SIGTERM; asked again while draining, it is not taken
        // for the second signal that abandons calls in progress.
        if (control_.draining.load()) return "already stopping\n";
        (void)::kill(::getpid(), SIGTERM);
        return "stopping: in-flight transactions finish first (shutdown_grace_ms)\n";
    }
    return "error: unknown command '" + std::string(line) + "' (stats, stats --json, routes, reload, shutdown, version)\n";
}

int daemon_process::run() {
    const daemon::daemon_config& cfg = current();
    apply_log_level(cfg);
    bool have_udp = false, have_tcp = false;
    for (const proxy::listen_point& lp : cfg.proxy.listen) {
        have_udp = have_udp || lp.transport == sip::transport::udp;
        have_tcp = have_tcp || lp.transport == sip::transport::tcp;
    }
    if (!have_udp) {
        // The workers own the shards and read UDP; TCP alone would leave them nothing to listen on.
        log_error("no UDP listen address (TCP is served next to UDP)");
        return 2;
    }
    // Signals are taken by this thread alone, with sigwait, so no other thread sees them:
    // blocked before the first thread starts (the bindings store's own), which inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    if (const std::string fault = txn::branch_secret_fault(); !fault.empty()) {
        log_error(fault);
        return 2;
    }
    // Bindings are restored before any shard is made: the first request may be for a user who
    // registered before the restart.
    bindings_ = daemon::open_bindings(cfg);
    if (!bindings_.store) {
        log_error(bindings_.error);
        return 2;
    }
    log_info(bindings_.note);
    // The cores we may run on are the ones we were started with (taskset, systemd CPUAffinity,
    // a cpuset): one worker per core by default, each pinned to one of them, never outside.
    std::vector<int> cores;
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0)
        for (unsigned c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &allowed)) cores.push_back(static_cast<int>(c));
    if (cores.empty()) cores.push_back(-1);  // unknown: leave the threads unpinned
    const unsigned n = cfg.workers ? cfg.workers : static_cast<unsigned>(cores.size());

    control_.config.store(&cfg.proxy);
    nonce_counts_ = std::make_unique<auth::nonce_counts>(cfg.proxy.auth.nonce_lifetime_ns);
    control_.services = {bindings_.store.get(), &nonces_, nonce_counts_.get()};
    hub_ = std::make_unique<proxy::mail_hub>(n, proxy::mailbox_bytes(n + (have_tcp ? 1 : 0)), have_tcp);
    wakers_ = std::make_unique<io::wakers>(*hub_, [](unsigned) { return true; });  // every thread sleeps in poll/epoll
    for (unsigned i = 0; i < n; ++i) {
        workers_.push_back(std::make_unique<io::udp_worker>(cfg.proxy, i, hub_.get(), &control_, wakers_->fd(i)));
        if (const std::string err = workers_.back()->open(); !err.empty()) {
            log_error("worker " + std::to_string(i) + ": " + err);
            return 1;
        }
    }
    const std::string steering = steer(cfg, n);
    if (steering_) {
        // The workers take the shared-out limits at their first turn, as after a reload.
        auto shared = std::make_unique<daemon::daemon_config>(cfg);
        share_limits(shared->proxy.limits, n);
        configs_.push_back(std::move(shared));
        current_.store(configs_.back().get(), std::memory_order_release);
        control_.config.store(&current().proxy, std::memory_order_release);
    }
    if (have_tcp) {
        tcp_ = std::make_unique<io::tcp_server>(cfg.proxy, cfg.tcp, *hub_, wakers_->fd(hub_->stream_thread()));
        if (const std::string err = tcp_->open(); !err.empty()) {
            log_error("tcp: " + err);
            return 1;
        }
    }
    ops_ = std::make_unique<ops::ops_server>(ops::ops_server::handlers{
        [this] {
            return ops::render_prometheus(metric_sets(), {SIPFAST_VERSION, static_cast<std::uint64_t>(started_unix_)});
        },
        [this](std::string_view line) { return command(line); }});
    if (!cfg.control_socket.empty()) {
        // The socket's directory (/run/sipfast) is made if it is missing, for the daemon's user only.
        const std::string dir = cfg.control_socket.substr(0, cfg.control_socket.rfind('/'));
        if (!dir.empty() && cfg.control_socket.find('/') != std::string::npos) (void)::mkdir(dir.c_str(), 0700);
    }
    if (const std::string err = ops_->open(cfg.metrics_listen, cfg.control_socket); !err.empty()) {
        log_error(err);
        return 1;
    }

    std::ostringstream where;
    for (const proxy::listen_point& lp : cfg.proxy.listen) {
        std::array<char, 48> host{};
        where << (lp.transport == sip::transport::tcp ? " tcp:" : " udp:") << core::format_host(lp.address, host) << ":"
              << lp.address.port;
    }
    log_info(std::string("sipfastd ") + SIPFAST_VERSION + "; config " + source_ + "; listening on" + where.str() + "; " +
             std::to_string(n) + " workers; steering " + steering + "; mode " +
             (cfg.proxy.mode == proxy::proxy_mode::stateless ? "stateless" : "stateful") + "; registrar " +
             (cfg.proxy.serve_registrations ? "on" : "off") + ", authentication " + auth_summary(cfg) + "; limits " +
             limits_summary(cfg) + "; scanner " +
             std::string(sip::active_implementation().name) + "; metrics " +
             (cfg.metrics_listen.empty() ? std::string("off") : "http://" + metrics_host(cfg.metrics_listen) + ":" +
                                                                   std::to_string(ops_->metrics_port()) + "/metrics") +
             "; control " + (cfg.control_socket.empty() ? std::string("off") : cfg.control_socket));

    std::atomic<bool> stop{false}, stop_ops{false};
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < n; ++i)
        threads.emplace_back([&, i] { workers_[i]->run(stop, cores[i % cores.size()]); });
    // The TCP and ops threads are the slow path: they float, not pinned to a worker's core.
    if (tcp_) threads.emplace_back([&] { tcp_->run(stop, -1); });
    std::thread ops_thread([&] { ops_->run(stop_ops); });

    int sig = 0;
    for (;;) {
        sigwait(&signals, &sig);
        if (sig != SIGHUP) break;
        log_info("SIGHUP: reloading");
        (void)reload();
    }
    // Draining (docs/architecture.md, "Operations"): new calls are refused with 503, transactions
    // in flight finish, up to the grace period; a second signal stops at once.
    const std::uint64_t grace = current().shutdown_grace_ns;
    log_info(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") + ": " +
             std::to_string(active_transactions()) + " transactions in flight, grace " + std::to_string(grace / 1'000'000) +
             " ms");
    control_.draining.store(true);
    if (tcp_) tcp_->stop_accepting();
    const std::uint64_t deadline = core::monotonic_ns() + grace;
    bool forced = false;
    while (active_transactions() != 0 && core::monotonic_ns() < deadline) {
        sigset_t pending;
        sigpending(&pending);
        if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT)) {
            forced = true;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::uint64_t left = active_transactions();
    if (forced) log_warn("second signal: stopping now, " + std::to_string(left) + " transactions abandoned");
    else if (left != 0) log_warn("grace period over: " + std::to_string(left) + " transactions abandoned");
    stop.store(true);
    for (std::thread& t : threads) t.join();
    stop_ops.store(true);
    ops_thread.join();

    log_info("totals: " + ops::summary_line(metric_sets()));
    if (steering_) {
        const io::reuseport_steering::counts sc = steering_->read();
        log_info("steering: " + std::to_string(sc.steered) + " datagrams steered to their owner, " +
                 std::to_string(sc.passed) + " left to the kernel, " + std::to_string(sc.refused) + " refused");
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    core::logger::set_program("sipfastd");
    CLI::App app{"sipfastd: the sipfast SIP proxy over kernel sockets"};
    app.name("sipfastd");
    overrides o;
    app.add_option("--config", o.config_file, "TOML configuration file (default: the embedded etc/sipfast.toml)");
    app.add_option("--listen", o.listen, "listen URI, repeatable: udp:127.0.0.1:5060, tcp:[::1]:5060");
    app.add_option("--workers", o.workers, "worker threads (default: one per core)")->check(CLI::Range(1, 256));
    app.add_option("--mode", o.mode, "stateless or stateful")->check(CLI::IsMember({"stateless", "stateful"}));
    app.add_option("--domain", o.domains, "domain served through the location service, repeatable");
    app.add_option("--record-route", o.record_route, "on or off")->check(CLI::IsMember({"on", "off"}));
    app.add_option("--users", o.users, "digest users, an Apache htdigest file (user:realm:HA1), over [auth] users_file");
    app.add_option("--log-level", o.log_level, "error, warn, info or debug")
        ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
    app.set_version_flag("--version", std::string("sipfastd ") + SIPFAST_VERSION);
    if (const auto status = cli::parse_command_line(app, argc, argv, "sipfastd")) return *status;
    auto cfg = std::make_unique<daemon::daemon_config>();
    std::string source;
    if (const std::string err = daemon::load_with_command_line(o, *cfg, source); !err.empty()) {
        log_error(err);
        return 2;
    }
    daemon_process d(o, std::move(cfg), std::move(source));
    return d.run();
}
