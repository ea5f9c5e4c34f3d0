// SPDX-License-Identifier: Apache-2.0
#include "stats_report.hpp"

#include <nlohmann/json.hpp>

#include "sipfast/core/text_writer.hpp"

namespace sipfast::daemon {

namespace {

using core::metric;
using core::metric_kind;

std::string fixed(double v, int decimals) {
    core::text<48> t;
    t.fixed(v, decimals);
    return std::string(t.view());
}

/// `s` left-aligned in `width` columns, or right-aligned (counting UTF-8 code points, for "µs").
std::string pad(std::string_view s, std::size_t width, bool right) {
    std::size_t cols = 0;
    for (char c : s) cols += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    const std::string fill(cols < width ? width - cols : 0, ' ');
    return right ? fill + std::string(s) : std::string(s) + fill;
}

} // namespace

std::vector<stats_reporter::row> stats_reporter::rows(const stats_sources& s) {
    std::vector<row> r;
    for (const core::metric_set& set : s.sets) {
        if (set.instances.empty()) continue;
        for (const metric& m : set.table) {
            if (m.kind == metric_kind::histogram) continue;
            const bool gauge = m.kind == metric_kind::gauge;
            if (m.unit == core::metric_unit::nanoseconds) {
                r.push_back({std::string(m.title) + " ms", set.total(m) / 1'000'000, gauge, false});
                continue;
            }
            r.push_back({std::string(m.title), set.total(m), gauge, false});
            if (m.by == nullptr) continue;
            for (std::size_t i = 0; i < core::width(m, set.instances.front()); ++i) {
                const std::uint64_t n = set.total(m, i);
                if (n != 0 && !m.by->name_of(i).empty())
                    r.push_back({std::string(m.title) + " " + std::string(m.by->name_of(i)), n, gauge, true});
            }
        }
    }
    return r;
}

std::vector<stats_reporter::latency> stats_reporter::latencies(const stats_sources& s) {
    std::vector<latency> out;
    for (const core::metric_set& set : s.sets) {
        if (set.instances.empty()) continue;
        for (const metric& m : set.table) {
            if (m.kind != metric_kind::histogram) continue;
            for (std::size_t i = 0; i < core::width(m, set.instances.front()); ++i) {
                if (m.by != nullptr && m.by->name_of(i).empty()) continue;
                const core::histogram h = set.merged(m, i);
                if (h.total() == 0) continue;
                std::string name(m.title);
                if (m.by != nullptr) name.append(" ").append(m.by->name_of(i));
                out.push_back({std::move(name), h.total(), static_cast<double>(h.quantile(0.5)) / 1e3,
                               static_cast<double>(h.quantile(0.99)) / 1e3, static_cast<double>(h.quantile(0.999)) / 1e3});
            }
        }
    }
    return out;
}

std::vector<double> stats_reporter::rates(const std::vector<row>& now_rows, const stats_sources& s, std::uint64_t now_ns) {
    const std::uint64_t since = previous_ns_ == 0 ? now_ns - s.uptime_ns : previous_ns_;
    const double seconds = now_ns > since ? static_cast<double>(now_ns - since) / 1e9 : 0;
    std::vector<double> r;
    for (const row& x : now_rows) {
        const auto before_it = previous_.find(x.name);
        const std::uint64_t before = before_it == previous_.end() ? 0 : before_it->second;
        r.push_back(x.gauge || seconds <= 0 || x.total < before ? 0.0 : static_cast<double>(x.total - before) / seconds);
        previous_[x.name] = x.total;
    }
    previous_ns_ = now_ns;
    return r;
}

std::string stats_reporter::text(const stats_sources& s, std::uint64_t now_ns) {
    const std::vector<row> r = rows(s);
    const std::vector<double> per_s = rates(r, s, now_ns);
    std::string out = "uptime " + fixed(static_cast<double>(s.uptime_ns) / 1e9, 1) + " s, " +
                      std::string(core::decimal(s.workers).view()) + " workers\n\n";
    out += pad("counter", 32, false) + pad("total", 16, true) + pad("per second", 15, true) + "\n";
    for (std::size_t i = 0; i < r.size(); ++i) {
        // A label's share shows as its label alone, indented under its row.
        const std::string name = r[i].part ? "  " + r[i].name.substr(r[i].name.rfind(' ') + 1) : r[i].name;
        out += pad(name, 32, false) + pad(core::decimal(r[i].total).view(), 16, true) +
               pad(r[i].gauge ? "" : fixed(per_s[i], 1), 15, true) + "\n";
    }
    const std::vector<latency> l = latencies(s);
    if (!l.empty()) {
        out += "\n" + pad("latency (µs)", 32, false) + pad("count", 13, true) + pad("p50", 13, true) +
               pad("p99", 13, true) + pad("p99.9", 13, true) + "\n";
        for (const latency& x : l)
            out += pad(x.name, 32, false) + pad(core::decimal(x.count).view(), 13, true) + pad(fixed(x.p50_us, 1), 13, true) +
                   pad(fixed(x.p99_us, 1), 13, true) + pad(fixed(x.p999_us, 1), 13, true) + "\n";
    }
    return out;
}

std::string stats_reporter::json(const stats_sources& s, std::uint64_t now_ns) {
    const std::vector<row> r = rows(s);
    const std::vector<double> per_s = rates(r, s, now_ns);
    nlohmann::json j;
    j["uptime_seconds"] = static_cast<double>(s.uptime_ns) / 1e9;
    j["workers"] = s.workers;
    for (std::size_t i = 0; i < r.size(); ++i) {
        j["counters"][r[i].name] = r[i].total;
        if (!r[i].gauge) j["per_second"][r[i].name] = per_s[i];
    }
    for (const latency& x : latencies(s))
        j["latency_us"][x.name] = {{"count", x.count}, {"p50", x.p50_us}, {"p99", x.p99_us}, {"p99.9", x.p999_us}};
    return j.dump(2) + "\n";
}

} // namespace sipfast::daemon
