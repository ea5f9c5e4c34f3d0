// SPDX-License-Identifier: Apache-2.0
#include "sipfast/ops/prometheus.hpp"

#include <array>
#include <cstdio>

namespace sipfast::ops {

namespace {

using proxy::shard_stats;

constexpr std::array<std::string_view, proxy::status_classes> class_labels = {"0xx", "1xx", "2xx", "3xx",
                                                                              "4xx", "5xx", "6xx"};

class writer {
public:
    explicit writer(std::string& out) : out_(out) {}

    void family(std::string_view name, std::string_view type, std::string_view help) {
        out_ += "# HELP ";
        out_ += name;
        out_ += ' ';
        out_ += help;
        out_ += "\n# TYPE ";
        out_ += name;
        out_ += ' ';
        out_ += type;
        out_ += '\n';
    }
    /// One sample: name{labels} value. `labels` is already "k=\"v\",k2=\"v2\"" (or empty).
    void sample(std::string_view name, std::string_view labels, std::uint64_t value) {
        head(name, labels);
        out_ += std::to_string(value);
        out_ += '\n';
    }
    void sample(std::string_view name, std::string_view labels, double value) {
        head(name, labels);
        std::array<char, 32> buf{};
        const int n = std::snprintf(buf.data(), buf.size(), "%.9g", value);
        out_.append(buf.data(), static_cast<std::size_t>(n));
        out_ += '\n';
    }
    void histogram(std::string_view name, const std::string& labels, const core::histogram& h) {
        // Buckets at every power of two (the sub-buckets add up exactly at those edges).
        const std::string bucket = std::string(name) + "_bucket";
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < core::histogram::buckets; ++i) {
            cumulative += h.count(i);
            // The overflow bucket has no finite edge: it shows only under +Inf.
            if (i == core::histogram::overflow || (i != 0 && i % (1u << core::histogram::sub_bits) != 0)) continue;
            std::array<char, 32> le{};
            const double edge = static_cast<double>(core::histogram::upper_bound(i) + 1) / 1e9;
            (void)std::snprintf(le.data(), le.size(), "%.9g", edge);
            sample(bucket, labels + (labels.empty() ? "" : ",") + "le=\"" + le.data() + "\"", cumulative);
        }
        sample(bucket, labels + (labels.empty() ? "" : ",") + "le=\"+Inf\"", cumulative);
        sample(std::string(name) + "_sum", labels, static_cast<double>(h.sum()) / 1e9);
        sample(std::string(name) + "_count", labels, cumulative);
    }

private:
    void head(std::string_view name, std::string_view labels) {
        out_ += name;
        if (!labels.empty()) {
            out_ += '{';
            out_ += labels;
            out_ += '}';
        }
        out_ += ' ';
    }
    std::string& out_;
};

std::string worker_label(std::size_t w) { return "worker=\"" + std::to_string(w) + "\""; }

// A family of per-worker counters taken from one field.
template <class F>
void per_worker(writer& w, const metrics_view& v, std::string_view name, std::string_view type, std::string_view help,
                F&& field) {
    w.family(name, type, help);
    for (std::size_t k = 0; k < v.shards.size(); ++k) w.sample(name, worker_label(k), std::uint64_t{field(*v.shards[k])});
}

// A family of per-worker counters with one more label, from an array field.
template <class A, class L>
void per_worker_by(writer& w, const metrics_view& v, std::string_view name, std::string_view help,
                   std::string_view label, A shard_stats::*field, L&& label_of, bool skip_zero) {
    w.family(name, "counter", help);
    for (std::size_t k = 0; k < v.shards.size(); ++k) {
        const A& a = v.shards[k]->*field;
        for (std::size_t i = 0; i < a.size(); ++i) {
            const std::string_view l = label_of(i);
            if (l.empty() || (skip_zero && a[i].get() == 0)) continue;
            w.sample(name, worker_label(k) + "," + std::string(label) + "=\"" + std::string(l) + "\"", a[i].get());
        }
    }
}

} // namespace

std::string_view method_label(std::size_t m) noexcept {
    const auto mm = static_cast<sip::method>(m);
    return mm == sip::method::other ? std::string_view("OTHER") : sip::method_name(mm);
}

std::string render_prometheus(const metrics_view& v) {
    std::string out;
    out.reserve(64 * 1024);
    writer w(out);
    w.family("sipfast_info", "gauge", "Build information.");
    w.sample("sipfast_info", "version=\"" + std::string(v.version) + "\"", std::uint64_t{1});
    w.family("sipfast_start_time_seconds", "gauge", "Unix time the daemon started.");
    w.sample("sipfast_start_time_seconds", "", v.start_time_s);

    const auto method = [](std::size_t i) { return method_label(i); };
    const auto status_class = [](std::size_t i) { return i == 0 ? std::string_view{} : class_labels[i]; };
    per_worker_by(w, v, "sipfast_requests_received_total", "Requests received, by method.", "method",
                  &shard_stats::received_requests, method, true);
    per_worker_by(w, v, "sipfast_responses_received_total", "Responses received, by status class.", "class",
                  &shard_stats::received_responses, status_class, false);
    per_worker_by(w, v, "sipfast_requests_forwarded_total", "Requests forwarded, by method.", "method",
                  &shard_stats::forwarded_requests, method, true);
    per_worker_by(w, v, "sipfast_responses_forwarded_total", "Responses forwarded, by status class.", "class",
                  &shard_stats::forwarded_responses, status_class, false);
    per_worker_by(w, v, "sipfast_responses_sent_total", "Responses the proxy made itself, by status class.", "class",
                  &shard_stats::replied, status_class, false);
    per_worker_by(w, v, "sipfast_parse_errors_total", "Messages that failed to parse, by reason.", "reason",
                  &shard_stats::parse_errors,
                  [](std::size_t i) { return i == 0 ? std::string_view{} : sip::to_string(static_cast<sip::parse_error>(i)); },
                  true);
    per_worker_by(w, v, "sipfast_dropped_total", "Messages neither forwarded nor answered, by cause.", "cause",
                  &shard_stats::drops, [](std::size_t i) { return proxy::drop_cause_name(static_cast<proxy::drop_cause>(i)); },
                  false);
    per_worker(w, v, "sipfast_transactions_created_total", "counter", "Transactions opened (stateful mode).",
               [](const shard_stats& s) { return s.transactions_created.get(); });
    per_worker(w, v, "sipfast_transactions_active", "gauge", "Transactions open now.",
               [](const shard_stats& s) { return s.transactions_active.get(); });
    per_worker(w, v, "sipfast_transactions_pending", "gauge", "Transactions still without a final answer upstream.",
               [](const shard_stats& s) { return s.transactions_pending.get(); });
    per_worker(w, v, "sipfast_transactions_timed_out_total", "counter", "Transactions ended by a timer (408 sent upstream).",
               [](const shard_stats& s) { return s.transactions_timed_out.get(); });
    per_worker(w, v, "sipfast_retransmissions_absorbed_total", "counter",
               "Retransmitted requests and responses answered from a transaction, not forwarded again.",
               [](const shard_stats& s) { return s.retransmissions_absorbed.get(); });
    per_worker(w, v, "sipfast_dialogs_created_total", "counter", "Dialogs created (2xx to an initial INVITE forwarded).",
               [](const shard_stats& s) { return s.dialogs_created.get(); });
    per_worker(w, v, "sipfast_dialogs_active", "gauge", "Dialogs in progress.",
               [](const shard_stats& s) { return s.dialogs_active.get(); });
    per_worker(w, v, "sipfast_dialogs_ended_total", "counter", "Dialogs ended by the final answer to a BYE.",
               [](const shard_stats& s) { return s.dialogs_ended.get(); });
    per_worker(w, v, "sipfast_dialogs_timed_out_total", "counter", "Dialogs ended by silence (dialog_timeout_s).",
               [](const shard_stats& s) { return s.dialogs_timed_out.get(); });
    per_worker(w, v, "sipfast_mailbox_hops_total", "counter", "Messages handed to the worker owning their call.",
               [](const shard_stats& s) { return s.mailbox_hops.get(); });
    per_worker(w, v, "sipfast_received_bytes_total", "counter", "UDP payload bytes received.",
               [](const shard_stats& s) { return s.bytes_in.get(); });
    per_worker(w, v, "sipfast_sent_bytes_total", "counter", "Payload bytes sent (UDP, or handed to the TCP thread).",
               [](const shard_stats& s) { return s.bytes_out.get(); });
    w.family("sipfast_worker_busy_seconds_total", "counter", "Time a worker spent working.");
    for (std::size_t k = 0; k < v.shards.size(); ++k)
        w.sample("sipfast_worker_busy_seconds_total", worker_label(k), static_cast<double>(v.shards[k]->busy_ns.get()) / 1e9);
    w.family("sipfast_worker_idle_seconds_total", "counter", "Time a worker spent waiting for traffic.");
    for (std::size_t k = 0; k < v.shards.size(); ++k)
        w.sample("sipfast_worker_idle_seconds_total", worker_label(k), static_cast<double>(v.shards[k]->idle_ns.get()) / 1e9);

    w.family("sipfast_request_latency_seconds", "histogram", "Receipt to forwarding of requests, by method.");
    for (std::size_t k = 0; k < v.shards.size(); ++k)
        for (std::size_t m = 0; m < proxy::method_count; ++m)
            if (v.shards[k]->request_latency[m].total() != 0)
                w.histogram("sipfast_request_latency_seconds",
                            worker_label(k) + ",method=\"" + std::string(method_label(m)) + "\"",
                            v.shards[k]->request_latency[m]);
    w.family("sipfast_response_latency_seconds", "histogram", "Receipt to forwarding of responses, by status class.");
    for (std::size_t k = 0; k < v.shards.size(); ++k)
        for (std::size_t c = 1; c < proxy::status_classes; ++c)
            if (v.shards[k]->response_latency[c].total() != 0)
                w.histogram("sipfast_response_latency_seconds",
                            worker_label(k) + ",class=\"" + std::string(class_labels[c]) + "\"",
                            v.shards[k]->response_latency[c]);
    w.family("sipfast_call_setup_seconds", "histogram", "INVITE received to its 2xx forwarded.");
    for (std::size_t k = 0; k < v.shards.size(); ++k)
        w.histogram("sipfast_call_setup_seconds", worker_label(k), v.shards[k]->call_setup);

    if (v.tcp != nullptr) {
        const io::tcp_counters& t = *v.tcp;
        const auto one = [&](std::string_view name, std::string_view type, std::string_view help, std::uint64_t value) {
            w.family(name, type, help);
            w.sample(name, "", value);
        };
        one("sipfast_tcp_connections_open", "gauge", "TCP connections open now.", t.open);
        one("sipfast_tcp_connections_accepted_total", "counter", "TCP connections accepted.", t.accepted);
        w.family("sipfast_tcp_connections_refused_total", "counter", "TCP connections closed at accept, by limit.");
        w.sample("sipfast_tcp_connections_refused_total", "limit=\"per_ip\"", t.refused_ip_limit.get());
        w.sample("sipfast_tcp_connections_refused_total", "limit=\"total\"", t.refused_total_limit.get());
        one("sipfast_tcp_connections_opened_total", "counter", "TCP connections sipfast opened.", t.connected);
        one("sipfast_tcp_connect_failures_total", "counter", "TCP connections sipfast could not open.", t.connect_failed);
        w.family("sipfast_tcp_connections_closed_total", "counter", "TCP connections closed, by reason.");
        w.sample("sipfast_tcp_connections_closed_total", "reason=\"peer\"", t.closed_by_peer.get());
        w.sample("sipfast_tcp_connections_closed_total", "reason=\"idle\"", t.closed_idle.get());
        w.sample("sipfast_tcp_connections_closed_total", "reason=\"error\"", t.closed_error.get());
        one("sipfast_tcp_messages_received_total", "counter", "SIP messages framed on TCP.", t.messages_in);
        one("sipfast_tcp_messages_sent_total", "counter", "SIP messages sent on TCP.", t.messages_out);
        one("sipfast_tcp_received_bytes_total", "counter", "TCP bytes received.", t.bytes_in);
        one("sipfast_tcp_sent_bytes_total", "counter", "TCP bytes sent.", t.bytes_out);
        one("sipfast_tcp_framing_errors_total", "counter", "TCP streams closed on a framing fault.", t.framing_errors);
        one("sipfast_tcp_keepalives_total", "counter", "RFC 5626 keep-alive pings answered.", t.keepalives);
        one("sipfast_tcp_dropped_total", "counter", "Messages for TCP no connection could be had for.",
            t.dropped_unsendable);
    }
    return out;
}

} // namespace sipfast::ops
