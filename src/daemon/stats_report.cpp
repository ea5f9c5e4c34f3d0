// SPDX-License-Identifier: Apache-2.0
#include "stats_report.hpp"

#include <array>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "sipfast/ops/prometheus.hpp"

namespace sipfast::daemon {

namespace {

constexpr std::array<const char*, proxy::status_classes> class_names = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};

std::string fixed(double v, int decimals) {
    std::array<char, 48> b{};
    (void)std::snprintf(b.data(), b.size(), "%.*f", decimals, v);
    return b.data();
}

} // namespace

std::vector<stats_reporter::row> stats_reporter::rows(const proxy::shard_stats& t, const stats_sources& s) {
    std::vector<row> r;
    const auto add = [&](std::string name, std::uint64_t v, bool gauge = false) { r.push_back({std::move(name), v, gauge}); };
    add("requests received", t.requests());
    for (std::size_t m = 0; m < proxy::method_count; ++m)
        if (t.received_requests[m] != 0) add("  " + std::string(ops::method_label(m)) + " received", t.received_requests[m]);
    add("responses received", t.responses());
    for (std::size_t c = 1; c < proxy::status_classes; ++c)
        if (t.received_responses[c] != 0) add(std::string("  ") + class_names[c] + " received", t.received_responses[c]);
    add("requests forwarded", t.requests_forwarded());
    add("responses forwarded", t.responses_forwarded());
    add("responses sent by us", t.answered());
    add("malformed", t.malformed());
    for (std::size_t d = 0; d < proxy::drop_cause_count; ++d)
        add("dropped " + std::string(proxy::drop_cause_name(static_cast<proxy::drop_cause>(d))), t.drops[d]);
    add("transactions created", t.transactions_created);
    add("transactions active", t.transactions_active, true);
    add("transactions pending", t.transactions_pending, true);
    add("transactions timed out", t.transactions_timed_out);
    add("retransmissions absorbed", t.retransmissions_absorbed);
    add("dialogs created", t.dialogs_created);
    add("dialogs active", t.dialogs_active, true);
    add("dialogs ended", t.dialogs_ended);
    add("dialogs timed out", t.dialogs_timed_out);
    add("mailbox hops", t.mailbox_hops);
    add("bytes in (udp)", t.bytes_in);
    add("bytes out", t.bytes_out);
    if (s.tcp != nullptr) {
        add("tcp connections open", s.tcp->open, true);
        add("tcp connections accepted", s.tcp->accepted);
        add("tcp connections refused", s.tcp->refused_ip_limit + s.tcp->refused_total_limit);
        add("tcp messages in", s.tcp->messages_in);
        add("tcp messages out", s.tcp->messages_out);
        add("tcp bytes in", s.tcp->bytes_in);
        add("tcp bytes out", s.tcp->bytes_out);
    }
    add("worker busy ms", t.busy_ns / 1'000'000);
    add("worker idle ms", t.idle_ns / 1'000'000);
    return r;
}

std::vector<stats_reporter::latency> stats_reporter::latencies(const proxy::shard_stats& t) {
    std::vector<latency> out;
    const auto add = [&](std::string name, const core::histogram& h) {
        const std::uint64_t n = h.total();
        if (n == 0) return;
        out.push_back({std::move(name), n, static_cast<double>(h.quantile(0.5)) / 1e3,
                       static_cast<double>(h.quantile(0.99)) / 1e3, static_cast<double>(h.quantile(0.999)) / 1e3});
    };
    for (std::size_t m = 0; m < proxy::method_count; ++m)
        add("request " + std::string(ops::method_label(m)), t.request_latency[m]);
    for (std::size_t c = 1; c < proxy::status_classes; ++c) add(std::string("response ") + class_names[c], t.response_latency[c]);
    add("call setup", t.call_setup);
    return out;
}

std::vector<double> stats_reporter::rates(const std::vector<row>& now_rows, const stats_sources& s, std::uint64_t now_ns) {
    const std::uint64_t since = previous_ns_ == 0 ? now_ns - s.uptime_ns : previous_ns_;
    const double seconds = now_ns > since ? static_cast<double>(now_ns - since) / 1e9 : 0;
    std::vector<double> r;
    for (const row& x : now_rows) {
        const std::uint64_t before = previous_.count(x.name) ? previous_[x.name] : 0;
        r.push_back(x.gauge || seconds <= 0 || x.total < before ? 0.0 : static_cast<double>(x.total - before) / seconds);
        previous_[x.name] = x.total;
    }
    previous_ns_ = now_ns;
    return r;
}

namespace {
proxy::shard_stats sum_of(const stats_sources& s) {
    proxy::shard_stats t;
    for (const proxy::shard_stats* p : s.shards) t += *p;
    return t;
}
} // namespace

std::string stats_reporter::text(const stats_sources& s, std::uint64_t now_ns) {
    const proxy::shard_stats total = sum_of(s);
    const std::vector<row> r = rows(total, s);
    const std::vector<double> per_s = rates(r, s, now_ns);
    std::string out = "uptime " + fixed(static_cast<double>(s.uptime_ns) / 1e9, 1) + " s, " +
                      std::to_string(s.shards.size()) + " workers\n\n";
    std::array<char, 160> line{};
    (void)std::snprintf(line.data(), line.size(), "%-28s %16s %14s\n", "counter", "total", "per second");
    out += line.data();
    for (std::size_t i = 0; i < r.size(); ++i) {
        (void)std::snprintf(line.data(), line.size(), "%-28s %16llu %14s\n", r[i].name.c_str(),
                            static_cast<unsigned long long>(r[i].total), r[i].gauge ? "" : fixed(per_s[i], 1).c_str());
        out += line.data();
    }
    const std::vector<latency> l = latencies(total);
    if (!l.empty()) {
        (void)std::snprintf(line.data(), line.size(), "\n%-28s %12s %12s %12s %12s\n", "latency (µs)", "count", "p50", "p99",
                            "p99.9");
        out += line.data();
        for (const latency& x : l) {
            (void)std::snprintf(line.data(), line.size(), "%-28s %12llu %12s %12s %12s\n", x.name.c_str(),
                                static_cast<unsigned long long>(x.count), fixed(x.p50_us, 1).c_str(),
                                fixed(x.p99_us, 1).c_str(), fixed(x.p999_us, 1).c_str());
            out += line.data();
        }
    }
    return out;
}

std::string stats_reporter::json(const stats_sources& s, std::uint64_t now_ns) {
    const proxy::shard_stats total = sum_of(s);
    const std::vector<row> r = rows(total, s);
    const std::vector<double> per_s = rates(r, s, now_ns);
    nlohmann::json j;
    j["uptime_seconds"] = static_cast<double>(s.uptime_ns) / 1e9;
    j["workers"] = s.shards.size();
    for (std::size_t i = 0; i < r.size(); ++i) {
        std::string key = r[i].name;
        while (!key.empty() && key.front() == ' ') key.erase(0, 1);
        j["counters"][key] = r[i].total;
        if (!r[i].gauge) j["per_second"][key] = per_s[i];
    }
    for (const latency& x : latencies(total))
        j["latency_us"][x.name] = {{"count", x.count}, {"p50", x.p50_us}, {"p99", x.p99_us}, {"p99.9", x.p999_us}};
    return j.dump(2) + "\n";
}

} // namespace sipfast::daemon
