// SPDX-License-Identifier: Apache-2.0
#include "sipfast/ops/prometheus.hpp"

#include "sipfast/core/text_writer.hpp"

namespace sipfast::ops {

namespace {

using core::metric;
using core::metric_kind;

std::string_view type_name(metric_kind k) noexcept {
    switch (k) {
    case metric_kind::counter: return "counter";
    case metric_kind::gauge: return "gauge";
    case metric_kind::histogram: return "histogram";
    }
    return "untyped";
}

class exposition {
public:
    explicit exposition(std::string& out) : out_(out) {}

    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_.append("# HELP sipfast_").append(name).append(" ").append(help);
        out_.append("\n# TYPE sipfast_").append(name).append(" ").append(type).append("\n");
    }
    /// `labels` is `k="v",k2="v2"` or empty; `suffix` follows the name (`_bucket`).
    void sample(std::string_view name, std::string_view suffix, std::string_view labels, std::uint64_t value) {
        head(name, suffix, labels);
        core::text<24> t;
        t.number(value);
        line(t);
    }
    void sample(std::string_view name, std::string_view suffix, std::string_view labels, double value) {
        head(name, suffix, labels);
        core::text<32> t;
        t.general(value, 9);
        line(t);
    }
    void histogram(std::string_view name, const std::string& labels, const core::histogram& h) {
        // Buckets at every power of two (the sub-buckets add up exactly at those edges).
        std::string le = labels;
        if (!le.empty()) le += ',';
        const std::size_t at = le.size();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < core::histogram::buckets; ++i) {
            cumulative += h.count(i);
            // The overflow bucket has no finite edge: it shows only under +Inf.
            if (i == core::histogram::overflow || (i != 0 && i % (1u << core::histogram::sub_bits) != 0)) continue;
            core::text<32> edge;
            edge.general(static_cast<double>(core::histogram::upper_bound(i) + 1) / 1e9, 9);
            le.resize(at);
            le.append("le=\"").append(edge.view()).append("\"");
            sample(name, "_bucket", le, cumulative);
        }
        le.resize(at);
        le.append("le=\"+Inf\"");
        sample(name, "_bucket", le, cumulative);
        sample(name, "_sum", labels, static_cast<double>(h.sum()) / 1e9);
        sample(name, "_count", labels, cumulative);
    }

private:
    void head(std::string_view name, std::string_view suffix, std::string_view labels) {
        out_.append("sipfast_").append(name).append(suffix);
        if (!labels.empty()) out_.append("{").append(labels).append("}");
        out_ += ' ';
    }
    void line(const core::text_writer& t) { out_.append(t.view()).append("\n"); }
    std::string& out_;
};

std::string labels_of(const core::metric_set& set, std::size_t instance, const metric& m) {
    std::string l;
    if (set.per_worker) l.append("worker=\"").append(core::decimal(instance).view()).append("\"");
    if (!m.fixed_label.empty()) l.append(l.empty() ? "" : ",").append(m.fixed_label);
    return l;
}

void append_label(std::string& l, std::string_view name, std::string_view value) {
    l.append(l.empty() ? "" : ",").append(name).append("=\"").append(value).append("\"");
}

void render_row(exposition& x, const core::metric_set& set, const metric& m) {
    for (std::size_t k = 0; k < set.instances.size(); ++k) {
        const void* s = set.instances[k];
        const std::string base = labels_of(set, k, m);
        const std::size_t n = core::width(m, s);
        for (std::size_t i = 0; i < n; ++i) {
            std::string labels = base;
            if (m.by != nullptr) {
                const std::string_view v = m.by->name_of(i);
                if (v.empty()) continue;
                append_label(labels, m.by->label, v);
            }
            if (m.kind == metric_kind::histogram) {
                const core::histogram& h = m.histograms(s)[i];
                // An empty labelled histogram is a series nobody asked for (a method never seen).
                if (m.by != nullptr && h.total() == 0) continue;
                x.histogram(m.name, labels, h);
                continue;
            }
            const std::uint64_t v = m.counters(s)[i].get();
            if (m.by != nullptr && m.by->sparse && v == 0) continue;
            if (m.unit == core::metric_unit::nanoseconds) x.sample(m.name, "", labels, static_cast<double>(v) / 1e9);
            else x.sample(m.name, "", labels, v);
        }
    }
}

} // namespace

std::string render_prometheus(std::span<const core::metric_set> sets, const build_info& who) {
    std::string out;
    out.reserve(64 * 1024);
    exposition x(out);
    x.family("info", "gauge", "Build information.");
    std::string version = "version=\"";
    version.append(who.version).append("\"");
    x.sample("info", "", version, std::uint64_t{1});
    x.family("start_time_seconds", "gauge", "Unix time the process started.");
    x.sample("start_time_seconds", "", "", who.start_time_s);
    for (const core::metric_set& set : sets) {
        const std::span<const metric> t = set.table;
        for (std::size_t r = 0; r < t.size(); ++r) {
            if (r == 0 || t[r - 1].name != t[r].name) x.family(t[r].name, type_name(t[r].kind), t[r].help);
            render_row(x, set, t[r]);
        }
    }
    return out;
}

} // namespace sipfast::ops
