// SPDX-License-Identifier: Apache-2.0
// sipfastd: the proxy over kernel sockets. Loads the configuration (embedded default or --config),
// applies the command-line overrides, starts one pinned worker per core and stops on SIGINT or
// SIGTERM.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_parse.hpp"

#include "daemon_config.hpp"
#include "sipfast/io/tcp_server.hpp"
#include "sipfast/io/udp_worker.hpp"
#include "sipfast/sip/isa.hpp"

namespace {

using namespace sipfast;

struct overrides {
    std::string config_file;
    std::vector<std::string> listen;
    unsigned workers = 0;
    std::string mode;
    std::vector<std::string> domains;
    std::string record_route;
    std::string log_level;
};

void log(std::string_view level, const std::string& line) { std::cerr << "sipfastd: " << level << ": " << line << '\n'; }

int run(const overrides& o) {
    daemon::daemon_config cfg;
    std::string source = "<embedded default>";
    std::string text(daemon::embedded_default_config());
    if (!o.config_file.empty()) {
        std::ifstream in(o.config_file, std::ios::binary);
        if (!in) {
            log("error", o.config_file + ": cannot open: " + std::strerror(errno));
            return 2;
        }
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        source = o.config_file;
    }
    if (const daemon::config_error e = daemon::load_config(text, source, cfg)) {
        log("error", e.to_string());
        return 2;
    }
    // Command-line overrides, checked like the file's keys.
    if (!o.listen.empty()) {
        cfg.proxy.listen.clear();
        for (const std::string& l : o.listen) {
            proxy::listen_point lp;
            if (!daemon::parse_listen(l, lp)) {
                log("error", "--listen " + l + ": not transport:ip:port (udp or tcp, a numeric address)");
                return 2;
            }
            cfg.proxy.listen.push_back(lp);
        }
    }
    if (o.workers) cfg.workers = o.workers;
    if (!o.mode.empty()) cfg.proxy.mode = o.mode == "stateless" ? proxy::proxy_mode::stateless : proxy::proxy_mode::stateful;
    if (!o.domains.empty()) cfg.proxy.domains = o.domains;
    if (!o.record_route.empty()) cfg.proxy.record_route = o.record_route == "on";
    if (!o.log_level.empty()) cfg.log_level = o.log_level;

    bool have_udp = false, have_tcp = false;
    for (const proxy::listen_point& lp : cfg.proxy.listen) {
        have_udp = have_udp || lp.transport == sip::transport::udp;
        have_tcp = have_tcp || lp.transport == sip::transport::tcp;
    }
    if (!have_udp) {
        // The workers own the shards and read UDP; TCP alone would leave them nothing to listen on.
        log("error", "no UDP listen address (TCP is served next to UDP)");
        return 2;
    }
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

    // Signals are taken by this thread alone, with sigwait, so workers never see them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    io::mail_hub hub(n, 256, have_tcp);
    std::vector<std::unique_ptr<io::udp_worker>> workers;
    for (unsigned i = 0; i < n; ++i) {
        workers.push_back(std::make_unique<io::udp_worker>(cfg.proxy, i, &hub));
        if (const std::string err = workers.back()->open(); !err.empty()) {
            log("error", "worker " + std::to_string(i) + ": " + err);
            return 1;
        }
    }
    std::unique_ptr<io::tcp_server> tcp;
    if (have_tcp) {
        tcp = std::make_unique<io::tcp_server>(cfg.proxy, cfg.tcp, hub);
        if (const std::string err = tcp->open(); !err.empty()) {
            log("error", "tcp: " + err);
            return 1;
        }
    }
    std::ostringstream where;
    for (const proxy::listen_point& lp : cfg.proxy.listen) {
        std::array<char, 48> host{};
        where << (lp.transport == sip::transport::tcp ? " tcp:" : " udp:") << proxy::format_host(lp.address, host) << ":"
              << lp.address.port;
    }
    log("info", "config " + source + "; listening on" + where.str() + "; " + std::to_string(n) + " workers; mode " +
                    (cfg.proxy.mode == proxy::proxy_mode::stateless ? "stateless" : "stateful") + "; scanner " +
                    std::string(sip::active_implementation().name));

    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (unsigned i = 0; i < n; ++i)
        threads.emplace_back([&, i] { workers[i]->run(stop, cores[i % cores.size()]); });
    // The TCP thread is the slow path: it floats, not pinned to a worker's core.
    if (tcp) threads.emplace_back([&] { tcp->run(stop, -1); });
    int sig = 0;
    sigwait(&signals, &sig);
    log("info", std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
    stop.store(true);
    for (std::thread& t : threads) t.join();
    proxy::pipeline_counters total;
    for (const auto& w : workers) total += w->counters();
    std::uint64_t replied = 0;
    for (std::uint64_t r : total.replied) replied += r;
    log("info", "requests " + std::to_string(total.requests) + " (forwarded " + std::to_string(total.forwarded_requests) +
                    ", answered " + std::to_string(replied) + "), responses " + std::to_string(total.responses) +
                    " (forwarded " + std::to_string(total.forwarded_responses) + "), parse errors " +
                    std::to_string(total.parse_errors) + ", transactions " + std::to_string(total.transactions_created) +
                    " (timed out " + std::to_string(total.transactions_timed_out) + "), retransmissions absorbed " +
                    std::to_string(total.retransmissions_absorbed) + ", mailbox hops " + std::to_string(total.mailbox_hops));
    if (tcp) {
        const io::tcp_counters& t = tcp->counters();
        log("info", "tcp: accepted " + std::to_string(t.accepted) + " (refused " +
                        std::to_string(t.refused_total_limit + t.refused_ip_limit) + "), opened " +
                        std::to_string(t.connected) + " (failed " + std::to_string(t.connect_failed) + "), messages in " +
                        std::to_string(t.messages_in) + ", out " + std::to_string(t.messages_out) + ", framing errors " +
                        std::to_string(t.framing_errors) + ", closed idle " + std::to_string(t.closed_idle));
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"sipfastd: the sipfast SIP proxy over kernel sockets"};
    app.name("sipfastd");
    overrides o;
    app.add_option("--config", o.config_file, "TOML configuration file (default: the embedded etc/sipfast.toml)");
    app.add_option("--listen", o.listen, "listen URI, repeatable: udp:127.0.0.1:5060, tcp:[::1]:5060");
    app.add_option("--workers", o.workers, "worker threads (default: one per core)")->check(CLI::Range(1, 256));
    app.add_option("--mode", o.mode, "stateless or stateful")->check(CLI::IsMember({"stateless", "stateful"}));
    app.add_option("--domain", o.domains, "domain served through the location service, repeatable");
    app.add_option("--record-route", o.record_route, "on or off")->check(CLI::IsMember({"on", "off"}));
    app.add_option("--log-level", o.log_level, "error, warn, info or debug")
        ->check(CLI::IsMember({"error", "warn", "info", "debug"}));
    if (const auto status = tools::parse_command_line(app, argc, argv, "sipfastd")) return *status;
    return run(o);
}
