// SPDX-License-Identifier: Apache-2.0
// sipfast-loadgen: SIP calls at a fixed rate, as caller, callee or both, with latency percentiles
// every second and at the end (docs/loadgen.md).
#include <cmath>
#include <csignal>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_parse.hpp"
#include "sipfast/core/clock.hpp"
#include "sipfast/core/text_writer.hpp"
#include "udp_agent.hpp"

using namespace sipfast;
using namespace sipfast::loadgen;

namespace {

std::atomic<bool> interrupted{false};
extern "C" void on_signal(int) { interrupted.store(true); }

struct options {
    std::string mode = "both";
    std::string target;
    std::string local = "127.0.0.1";
    std::uint16_t port = 0;
    std::uint16_t uas_port = 5070;
    std::string user = "service";
    std::uint32_t users = 0;
    std::uint32_t first_user = 1;
    std::string password;
    std::uint32_t register_window = 64;
    bool no_register = false;
    std::string domain;
    std::uint64_t rate = 100;
    std::uint64_t calls = 0;
    double duration_s = 0;
    double hold_ms = 0;
    unsigned threads = 1;
    double t1_ms = 500, t2_ms = 4000, timeout_s = 0;
    std::uint32_t max_calls = 0;
    bool trying = false;
    bool ims = false;
    bool tcp = false;
    bool quiet = false;
    std::string json;
    bool search = false;
    std::uint64_t p99_bound_us = 10'000;
    double step_s = 3;
};

core::net_address parse_address(const std::string& text, std::uint16_t default_port, const char* what) {
    std::string host = text;
    std::uint16_t port = default_port;
    const auto colon = text.rfind(':');
    const auto bracket = text.rfind(']');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket) &&
        text.find(':') == colon) {  // host:port, or [v6]:port
        host = text.substr(0, colon);
        port = static_cast<std::uint16_t>(std::stoul(text.substr(colon + 1)));
    } else if (colon != std::string::npos && bracket != std::string::npos && colon > bracket) {
        host = text.substr(0, colon);
        port = static_cast<std::uint16_t>(std::stoul(text.substr(colon + 1)));
    }
    core::net_address a;
    if (!core::parse_ip(host, a)) throw std::runtime_error(std::string(what) + ": not a numeric address: " + text);
    a.port = port;
    return a;
}

/// What every thread counted, summed.
struct totals {
    std::uint64_t offered = 0, started = 0, completed = 0, ended_by_peer = 0, challenges = 0, retransmissions = 0,
                  responses_retransmitted = 0, strays = 0, unparsable = 0, failures = 0;
    std::array<std::uint64_t, failure_count> failed{};
    std::array<std::uint64_t, 7> rejected_by_class{};
    std::uint64_t uas_invites = 0, uas_completed = 0, uas_retransmissions = 0, uas_acks = 0, uas_ack_timeouts = 0,
                  uas_untracked = 0, uas_requests_retransmitted = 0, uas_strays = 0;
    std::uint64_t sent = 0, received = 0, send_errors = 0;
    std::unique_ptr<latency_histogram> h180 = std::make_unique<latency_histogram>(),
                                       h200 = std::make_unique<latency_histogram>(),
                                       hbye = std::make_unique<latency_histogram>();

    static totals of(const std::vector<std::unique_ptr<agent_stats>>& all) {
        totals t;
        for (const auto& p : all) {
            const agent_stats& s = *p;
            t.offered += s.uac.offered;
            t.started += s.uac.started;
            t.completed += s.uac.completed;
            t.ended_by_peer += s.uac.ended_by_peer;
            t.challenges += s.uac.challenges;
            t.retransmissions += s.uac.retransmissions;
            t.responses_retransmitted += s.uac.responses_retransmitted;
            t.strays += s.uac.strays;
            t.unparsable += s.uac.unparsable + s.uas.unparsable;
            for (std::size_t i = 0; i < failure_count; ++i) t.failed[i] += s.uac.failed[i];
            for (std::size_t i = 0; i < 7; ++i) t.rejected_by_class[i] += s.uac.rejected_by_class[i];
            t.uas_invites += s.uas.invites;
            t.uas_completed += s.uas.completed;
            t.uas_retransmissions += s.uas.retransmissions;
            t.uas_acks += s.uas.acks;
            t.uas_ack_timeouts += s.uas.ack_timeouts;
            t.uas_untracked += s.uas.untracked;
            t.uas_requests_retransmitted += s.uas.requests_retransmitted;
            t.uas_strays += s.uas.strays;
            t.sent += s.datagrams_sent;
            t.received += s.datagrams_received;
            t.send_errors += s.send_errors;
            *t.h180 += s.uac.invite_to_180;
            *t.h200 += s.uac.invite_to_200;
            *t.hbye += s.uac.bye_to_200;
        }
        for (const auto f : t.failed) t.failures += f;
        return t;
    }
};

void put_latency(core::text_writer& w, std::string_view name, const latency_histogram& h) {
    const latency_summary s = latency_summary::of(h);
    w.put(" | ").put(name).put(" p50 ").number(s.p50).put(" p90 ").number(s.p90).put(" p99 ").number(s.p99)
        .put(" p99.9 ").number(s.p999).put(" max ").number(s.max);
}

void put_failures(core::text_writer& w, const std::array<std::uint64_t, failure_count>& failed) {
    bool any = false;
    for (std::size_t i = 0; i < failure_count; ++i) {
        if (failed[i] == 0) continue;
        w.put(any ? ", " : " (").put(failure_name(static_cast<failure>(i))).put(' ').number(failed[i]);
        any = true;
    }
    if (any) w.put(')');
}

nlohmann::json latency_json(const latency_histogram& h) {
    const latency_summary s = latency_summary::of(h);
    // The distribution for plots, in bins an eighth of a power of two wide (9 % apart): a few
    // hundred pairs [smallest µs of the bin, count] at most, where the histogram has 27 000 buckets.
    nlohmann::json bins = nlohmann::json::array();
    long last = -1;
    h.for_each_bucket([&](std::uint64_t us, std::uint64_t n) {
        const long bin = us == 0 ? 0 : std::lround(std::floor(8.0 * std::log2(static_cast<double>(us)))) + 1;
        if (bin == last) bins.back()[1] = bins.back()[1].get<std::uint64_t>() + n;
        else bins.push_back({us, n});
        last = bin;
    });
    return {{"count", s.count}, {"p50_us", s.p50}, {"p90_us", s.p90}, {"p99_us", s.p99}, {"p99_9_us", s.p999},
            {"max_us", s.max}, {"mean_us", s.mean}, {"bins", std::move(bins)}};
}

struct run_result {
    std::uint64_t rate = 0;
    double offer_s = 0;     // from the first call started to the last
    double scheduled_s = 0; // the same on schedule
    bool kept_up = true;    // the calls started when due (within 1 %)
    double elapsed_s = 0;   // to the end of the drain
    totals t;
    nlohmann::json json;
};

/// One open-loop run at `rate` calls/s: threads started, reports every second, the summary.
run_result run(const options& o, std::uint64_t rate, std::uint64_t calls, double duration_s, bool report) {
    const bool caller = o.mode != "uas", callee = o.mode != "uac";
    const unsigned threads = std::max(1u, o.threads);
    core::net_address local = parse_address(o.local, o.port, "--local");
    core::net_address uas_listen = parse_address(o.local, o.uas_port, "--local");
    const std::string target_text = !o.target.empty() ? o.target
                                  : o.mode == "both" ? o.local + ":" + std::to_string(o.uas_port)
                                                     : o.local + ":5060";
    const core::net_address target = parse_address(target_text, 5060, "--target");
    std::random_device rd;
    const std::uint32_t run_id = rd();
    const std::uint64_t t1 = static_cast<std::uint64_t>(o.t1_ms * 1e6);
    const std::uint64_t timeout = o.timeout_s > 0 ? static_cast<std::uint64_t>(o.timeout_s * 1e9) : 64 * t1;
    const std::uint64_t hold = static_cast<std::uint64_t>(o.hold_ms * 1e6);

    std::vector<std::unique_ptr<agent_stats>> stats;
    std::vector<std::unique_ptr<agent>> agents;
    for (unsigned i = 0; i < threads; ++i) {
        agent_options a;
        a.caller = caller;
        a.callee = callee;
        a.local_host = o.local;
        a.local = local;
        if (o.port != 0) a.local.port = static_cast<std::uint16_t>(o.port + i);
        a.uas_listen = uas_listen;
        a.target = target;
        a.request_host = o.domain.empty() ? target_text : o.domain;
        a.user = o.user;
        a.users = o.users;
        a.first_user = o.first_user;
        a.password = o.password;
        a.rate = rate / threads + (i < rate % threads ? 1 : 0);
        a.calls = calls == 0 ? 0 : calls / threads + (i < calls % threads ? 1 : 0);
        if (calls != 0 && a.calls == 0) a.rate = 0;
        a.drain_ns = timeout + hold + 1'000'000'000;
        a.hold_ns = hold;
        a.t1_ns = t1;
        a.t2_ns = static_cast<std::uint64_t>(o.t2_ms * 1e6);
        a.timeout_ns = timeout;
        // Calls in progress: a second of calls beyond the hold time, or what --max-calls says.
        const std::uint64_t need = a.rate * (hold / 1'000'000'000 + 2) + 1024;
        a.capacity = o.max_calls != 0 ? o.max_calls : static_cast<std::uint32_t>(std::min<std::uint64_t>(need, 4'000'000));
        a.uas_capacity = 16384;
        a.run_id = run_id;
        a.thread = static_cast<std::uint16_t>(i);
        a.send_100 = o.trying;
        a.ims = o.ims;
        stats.push_back(std::make_unique<agent_stats>());
        a.tcp = o.tcp;
        if (o.tcp) agents.push_back(make_tcp_agent(a, *stats.back()));
        else agents.push_back(std::make_unique<udp_agent>(a, *stats.back()));
    }
    // Paced from when every thread is built (their tables are allocated and touched by then).
    const std::uint64_t start = core::monotonic_ns() + 100'000'000;
    const std::uint64_t end = duration_s > 0 ? start + static_cast<std::uint64_t>(duration_s * 1e9) : 0;
    for (auto& a : agents) a->set_start(start, end);
    std::atomic<bool> stop_callers{false}, stop_callees{false};
    std::vector<std::thread> workers;
    for (auto& a : agents)
        workers.emplace_back([&a, &stop_callers, &stop_callees, caller] { a->run(caller ? stop_callers : stop_callees); });

    // Reports, once a second, of what happened in that second.
    totals last = totals::of(stats);
    std::uint64_t tick = start;
    const auto all_callers_done = [&] {
        for (const auto& a : agents)
            if (!a->caller_done()) return false;
        return true;
    };
    std::uint64_t callee_end = 0;
    if (!caller) {
        callee_end = end;
    }
    while (true) {
        tick += 1'000'000'000;
        while (core::monotonic_ns() < tick) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            if (interrupted.load()) break;
            if (caller && all_callers_done()) break;
        }
        const bool finished = (caller && all_callers_done()) || interrupted.load() ||
                              (!caller && callee_end != 0 && core::monotonic_ns() >= callee_end) ||
                              (!caller && calls != 0 && totals::of(stats).uas_completed >= calls);
        if (report) {
            totals now = totals::of(stats);
            const double secs = std::max(1e-9, static_cast<double>(core::monotonic_ns() - (tick - 1'000'000'000)) / 1e9);
            core::text<1024> line;
            line.put('[').number(static_cast<std::int64_t>((tick - start) / 1'000'000'000)).put("s]");
            if (caller) {
                line.put(" offered ").number(static_cast<std::uint64_t>(static_cast<double>(now.offered - last.offered) / secs))
                    .put("/s completed ").number(static_cast<std::uint64_t>(static_cast<double>(now.completed - last.completed) / secs))
                    .put("/s failed ").number(now.failures - last.failures);
                std::array<std::uint64_t, failure_count> df{};
                for (std::size_t i = 0; i < failure_count; ++i) df[i] = now.failed[i] - last.failed[i];
                put_failures(line, df);
                line.put(" retrans ").number(now.retransmissions - last.retransmissions);
                put_latency(line, "180", now.h180->since(*last.h180));
                put_latency(line, "200", now.h200->since(*last.h200));
                put_latency(line, "bye", now.hbye->since(*last.hbye));
                line.put(" us");
            } else {
                line.put(" invites ").number(now.uas_invites - last.uas_invites).put("/s completed ")
                    .number(now.uas_completed - last.uas_completed).put("/s 200s again ")
                    .number(now.uas_retransmissions - last.uas_retransmissions);
            }
            std::cout << line.view() << std::endl;
            last = std::move(now);
        }
        if (finished) break;
    }
    stop_callers = true;
    if (caller) {
        // Answers the callee still owes; then stop it.
        std::this_thread::sleep_for(std::chrono::milliseconds(callee ? 50 : 0));
    }
    stop_callees = true;
    for (auto& w : workers) w.join();

    run_result r;
    r.rate = rate;
    r.t = totals::of(stats);
    const std::uint64_t offered = r.t.offered;
    // Offered over the schedule's span, or longer when a thread fell behind it (open loop: the calls
    // due were started late, in bursts): then the rate achieved is what the generator could do.
    r.offer_s = rate == 0 || offered == 0 ? 0 : static_cast<double>(offered) / static_cast<double>(rate);
    std::uint64_t last_start = start;
    for (const auto& a : agents) last_start = std::max(last_start, a->last_start_ns());
    r.scheduled_s = r.offer_s;
    r.offer_s = std::max(r.offer_s, static_cast<double>(last_start - start) / 1e9);
    r.kept_up = r.offer_s <= r.scheduled_s * 1.01 + 0.01;
    r.elapsed_s = static_cast<double>(core::monotonic_ns() - start) / 1e9;
    nlohmann::json failures = nlohmann::json::object();
    for (std::size_t i = 0; i < failure_count; ++i) failures[std::string(failure_name(static_cast<failure>(i)))] = r.t.failed[i];
    r.json = {
        {"mode", o.mode}, {"transport", o.tcp ? "tcp" : "udp"}, {"target", target_text}, {"threads", threads}, {"rate", rate},
        {"hold_ms", o.hold_ms}, {"t1_ms", o.t1_ms}, {"offer_s", r.offer_s}, {"scheduled_s", r.scheduled_s},
        {"kept_up", r.kept_up}, {"offered_per_s", r.offer_s > 0 ? static_cast<double>(r.t.offered) / r.offer_s : 0.0}, {"elapsed_s", r.elapsed_s},
        {"offered", r.t.offered}, {"started", r.t.started}, {"completed", r.t.completed},
        {"ended_by_peer", r.t.ended_by_peer}, {"challenges", r.t.challenges}, {"failed", r.t.failures}, {"failures", failures},
        {"rejected_by_class", {{"3xx", r.t.rejected_by_class[3]}, {"4xx", r.t.rejected_by_class[4]},
                               {"5xx", r.t.rejected_by_class[5]}, {"6xx", r.t.rejected_by_class[6]}}},
        {"retransmissions", r.t.retransmissions}, {"responses_retransmitted", r.t.responses_retransmitted},
        {"strays", r.t.strays}, {"unparsable", r.t.unparsable},
        {"completed_per_s", r.offer_s > 0 ? static_cast<double>(r.t.completed) / r.offer_s : 0.0},
        {"latency_us", {{"invite_180", latency_json(*r.t.h180)}, {"invite_200", latency_json(*r.t.h200)},
                        {"bye_200", latency_json(*r.t.hbye)}}},
        {"uas", {{"invites", r.t.uas_invites}, {"completed", r.t.uas_completed}, {"acks", r.t.uas_acks},
                 {"retransmissions", r.t.uas_retransmissions}, {"requests_retransmitted", r.t.uas_requests_retransmitted},
                 {"ack_timeouts", r.t.uas_ack_timeouts}, {"untracked", r.t.uas_untracked}, {"strays", r.t.uas_strays}}},
        {"datagrams", {{"sent", r.t.sent}, {"received", r.t.received}, {"send_errors", r.t.send_errors}}},
    };
    return r;
}

void print_summary(const options& o, const run_result& r) {
    const totals& t = r.t;
    core::text<2048> s;
    if (o.mode != "uas") {
        s.put("calls: ").number(t.offered).put(" offered, ").number(t.started).put(" started, ").number(t.completed)
            .put(" completed, ").number(t.failures).put(" failed");
        put_failures(s, t.failed);
        s.put("\nrate: ").number(r.rate).put(" calls/s due for ").fixed(r.scheduled_s, 2).put(" s; started over ")
            .fixed(r.offer_s, 2).put(" s");
        if (!r.kept_up) s.put(" (behind schedule: the generator's limit)");
        s.put(", ").fixed(r.offer_s > 0 ? static_cast<double>(t.completed) / r.offer_s : 0.0, 0).put(" completed/s\n")
            .put("retransmissions: ").number(t.retransmissions).put(" sent, ").number(t.responses_retransmitted)
            .put(" final responses received again; strays ").number(t.strays).put(", unparsable ").number(t.unparsable);
        if (t.challenges != 0) s.put("\nchallenges answered: ").number(t.challenges).put(" (INVITEs sent again with credentials)");
        s.put("\nlatency (us)      count      p50      p90      p99    p99.9      max\n");
        const auto row = [&](std::string_view name, const latency_histogram& h) {
            const latency_summary l = latency_summary::of(h);
            char buf[160];
            std::snprintf(buf, sizeof buf, "  %-14s %8llu %8llu %8llu %8llu %8llu %8llu\n", std::string(name).c_str(),
                          static_cast<unsigned long long>(l.count), static_cast<unsigned long long>(l.p50),
                          static_cast<unsigned long long>(l.p90), static_cast<unsigned long long>(l.p99),
                          static_cast<unsigned long long>(l.p999), static_cast<unsigned long long>(l.max));
            s.put(buf);
        };
        row("INVITE->180", *t.h180);
        row("INVITE->200", *t.h200);
        row("BYE->200", *t.hbye);
    }
    if (o.mode != "uac") {
        s.put("callee: ").number(t.uas_invites).put(" INVITEs answered, ").number(t.uas_completed).put(" BYEs answered, ")
            .number(t.uas_acks).put(" ACKs, ").number(t.uas_retransmissions).put(" 200s sent again, ")
            .number(t.uas_ack_timeouts).put(" never ACKed, ").number(t.uas_untracked).put(" untracked\n");
    }
    s.put("datagrams: ").number(t.sent).put(" sent, ").number(t.received).put(" received, ").number(t.send_errors)
        .put(" send errors\n");
    std::cout << s.view() << std::flush;
}

/// The callee registers the users calls go to (--users), through --target, before any call; the
/// summary printed and returned as JSON, failures counted.
nlohmann::json register_phase(const options& o, std::uint64_t& failures) {
    if (o.tcp) throw std::runtime_error("--users: registration is over UDP only");
    if (o.target.empty()) throw std::runtime_error("--users: give --target, the registrar the users register with");
    agent_options a;
    a.local_host = o.local;
    a.uas_listen = parse_address(o.local, o.uas_port, "--local");
    registrant_config c;
    c.local_host = a.local_host;
    c.local_port = o.uas_port;
    c.target = parse_address(o.target, 5060, "--target");
    c.domain = o.domain.empty() ? o.target : o.domain;
    c.user_prefix = o.user;
    c.first = o.first_user;
    c.count = o.users;
    c.password = o.password;
    c.window = o.register_window;
    c.t1_ns = static_cast<std::uint64_t>(o.t1_ms * 1e6);
    c.t2_ns = static_cast<std::uint64_t>(o.t2_ms * 1e6);
    c.run_id = std::random_device{}();
    auto stats = std::make_unique<registrant_stats>();
    const std::uint64_t start = core::monotonic_ns();
    register_users(a, c, *stats, interrupted);
    const double secs = static_cast<double>(core::monotonic_ns() - start) / 1e9;
    failures = stats->failures() + (o.users - stats->registered - stats->failures());  // unfinished when interrupted
    const latency_summary l = latency_summary::of(stats->first_to_200);
    core::text<512> line;
    line.put("registered ").number(stats->registered).put(" of ").number(o.users).put(" users in ").fixed(secs, 2)
        .put(" s (").number(stats->challenges).put(" challenges answered, ").number(stats->retransmissions)
        .put(" retransmissions); REGISTER->200 p50 ").number(l.p50).put(" p99 ").number(l.p99).put(" us");
    nlohmann::json failed = nlohmann::json::object();
    for (std::size_t i = 0; i < registration_failure_count; ++i) {
        const auto f = static_cast<registration_failure>(i);
        failed[std::string(registration_failure_name(f))] = stats->failed[i];
        if (stats->failed[i] != 0) line.put(", failed ").put(registration_failure_name(f)).put(' ').number(stats->failed[i]);
    }
    std::cout << line.view() << std::endl;
    return {{"users", o.users}, {"registered", stats->registered}, {"failures", failed}, {"seconds", secs},
            {"challenges", stats->challenges}, {"retransmissions", stats->retransmissions},
            {"register_200_us", latency_json(stats->first_to_200)}};
}

bool passes(const options& o, const run_result& r) {
    const double failed = static_cast<double>(r.t.failures);
    return r.t.offered > 0 && r.kept_up && failed < 0.001 * static_cast<double>(r.t.offered) &&
           latency_summary::of(*r.t.h200).p99 <= o.p99_bound_us;
}

} // namespace

int main(int argc, char** argv) {
    options o;
    CLI::App app{"sipfast-loadgen: SIP calls at a fixed rate (UDP), with latency percentiles.\n"
                 "  both: calls from our caller to --target (default: our own callee), answered by our callee\n"
                 "  uac:  calls to --target (a proxy or another callee)\n"
                 "  uas:  answers calls at --local:--uas-port", "sipfast-loadgen"};
    app.set_version_flag("--version", "sipfast-loadgen " SIPFAST_VERSION);
    app.option_defaults()->always_capture_default();
    app.add_option("mode", o.mode, "uac, uas or both")->check(CLI::IsMember({"uac", "uas", "both"}));
    app.add_option("-t,--target", o.target, "where calls go, IP:PORT or [IPv6]:PORT (uac: 127.0.0.1:5060; both: our callee)");
    app.add_option("--local", o.local, "our address (bind, Via and Contact): 127.0.0.1, ::1 or [::1]");
    app.add_option("--port", o.port, "caller's first UDP port, one per thread (0: any)");
    app.add_option("--uas-port", o.uas_port, "callee's UDP port (all threads, SO_REUSEPORT)");
    app.add_option("--user", o.user, "the user called (Request-URI and To user)");
    app.add_option("--domain", o.domain, "host[:port] of the Request-URI and To (default: the target)");
    app.add_option("--users", o.users, "calls go to --user followed by 1..N in turn; with a callee (both, uas), it "
                                       "registers them with --target first, its Contact their binding; with "
                                       "--password, calls are between them and a challenged INVITE is answered");
    app.add_option("--first-user", o.first_user, "the number of the first of --users");
    app.add_option("--password", o.password, "--users: every user's digest password, for a registrar or proxy that challenges");
    app.add_option("--register-window", o.register_window, "--users: REGISTER transactions in flight at most");
    app.add_flag("--no-register", o.no_register, "--users: they are registered already (an earlier run): only call them");
    app.add_option("-r,--rate", o.rate, "calls per second offered (open loop)");
    app.add_option("-m,--calls", o.calls, "calls to make (0: until --duration)");
    app.add_option("-d,--duration", o.duration_s, "seconds of offered calls (0: until --calls)");
    app.add_option("--hold-ms", o.hold_ms, "from the 200 to our BYE");
    app.add_option("--threads", o.threads, "threads, each with its own sockets (one per core)");
    app.add_option("--t1-ms", o.t1_ms, "RFC 3261 T1: first retransmission interval");
    app.add_option("--t2-ms", o.t2_ms, "RFC 3261 T2");
    app.add_option("--timeout-s", o.timeout_s, "INVITE and BYE transaction timeout (default 64*T1)");
    app.add_option("--max-calls", o.max_calls, "calls in progress per thread at most (default: 2 s of calls + hold)");
    app.add_flag("--trying", o.trying, "callee sends 100 Trying before 180");
    app.add_flag("--tcp", o.tcp, "TCP instead of UDP: a connection per caller thread, no retransmissions of requests");
    app.add_flag("--ims", o.ims, "IMS-sized messages (VoLTE INVITE headers and SDP)");
    app.add_flag("-q,--quiet", o.quiet, "no report every second");
    app.add_option("--json", o.json, "write the final summary as JSON to this file");
    app.add_flag("--search", o.search, "find the highest rate held: on schedule, < 0.1 % failures and p99 (INVITE->200) under --p99-bound-us");
    app.add_option("--p99-bound-us", o.p99_bound_us, "--search: p99 bound");
    app.add_option("--step-s", o.step_s, "--search: seconds per step");
    if (auto rc = sipfast::cli::parse_command_line(app, argc, argv, "sipfast-loadgen")) return *rc;
    // An IPv6 address is written in brackets wherever it stands as a host (Via, Contact, Call-ID).
    if (o.local.find(':') != std::string::npos && o.local.front() != '[') o.local = "[" + o.local + "]";
    if (o.mode != "uas" && o.calls == 0 && o.duration_s <= 0 && !o.search) {
        std::cerr << "sipfast-loadgen: give --calls or --duration\n";
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    try {
        nlohmann::json registration;
        if (o.users != 0 && o.mode != "uac" && !o.no_register) {
            std::uint64_t failures = 0;
            registration = register_phase(o, failures);
            if (failures != 0) {
                if (!o.json.empty()) std::ofstream(o.json) << nlohmann::json{{"registration", registration}}.dump(2) << '\n';
                std::cerr << "sipfast-loadgen: " << failures << " of " << o.users
                          << " users not registered: calls to them would fail; no call made\n";
                return 1;
            }
        }
        if (!o.search) {
            run_result r = run(o, o.rate, o.calls, o.duration_s, !o.quiet);
            print_summary(o, r);
            if (!registration.is_null()) r.json["registration"] = registration;
            if (!o.json.empty()) std::ofstream(o.json) << r.json.dump(2) << '\n';
            if (o.mode == "uas") return 0;
            return r.t.failures == 0 && r.t.completed == r.t.offered ? 0 : 1;
        }
        // Search: double while clean, then bisect between the best clean rate and the first that failed.
        if (o.mode != "both" && o.mode != "uac") throw std::runtime_error("--search needs a caller (uac or both)");
        std::uint64_t lo = 0, hi = 0, rate = std::max<std::uint64_t>(o.rate, 100);
        nlohmann::json steps = nlohmann::json::array();
        for (int step = 0; step < 16 && !interrupted.load(); ++step) {
            const run_result r = run(o, rate, 0, o.step_s, false);
            const bool ok = passes(o, r);
            const latency_summary l = latency_summary::of(*r.t.h200);
            std::cout << "search: " << rate << " calls/s: " << r.t.completed << " completed, " << r.t.failures
                      << " failed, INVITE->200 p99 " << l.p99 << " us" << (r.kept_up ? "" : ", behind schedule") << ": "
                      << (ok ? "held" : "not held") << std::endl;
            steps.push_back(r.json);
            if (ok) lo = rate;
            else hi = rate;
            const std::uint64_t next = hi == 0 ? rate * 2 : (lo + hi) / 2;
            if (hi != 0 && hi - lo <= std::max<std::uint64_t>(hi / 50, 50)) break;
            rate = next;
        }
        std::cout << "search: highest rate held: " << lo << " calls/s (failures < 0.1 %, p99 <= " << o.p99_bound_us
                  << " us, " << o.step_s << " s steps)\n";
        if (!o.json.empty())
            std::ofstream(o.json) << nlohmann::json{{"highest_rate_held", lo}, {"p99_bound_us", o.p99_bound_us}, {"steps", steps},
                                                    {"registration", registration}}.dump(2) << '\n';
        return lo > 0 ? 0 : 1;
    } catch (const std::exception& e) {
        std::cerr << "sipfast-loadgen: " << e.what() << '\n';
        return 1;
    }
}
