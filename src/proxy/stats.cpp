// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stats.hpp"

namespace sipfast::proxy {

std::string_view drop_cause_name(drop_cause c) noexcept {
    switch (c) {
    case drop_cause::malformed: return "malformed";
    case drop_cause::not_ours: return "not_ours";
    case drop_cause::unverified: return "unverified";
    case drop_cause::send_refused: return "send_refused";
    case drop_cause::send_busy: return "send_busy";
    case drop_cause::relay_denied: return "relay_denied";
    case drop_cause::scanner: return "scanner";
    case drop_cause::rate_limited: return "rate_limited";
    case drop_cause::banned: return "banned";
    case drop_cause::answer_limited: return "answer_limited";
    case drop_cause::no_route: return "no_route";
    case drop_cause::outbox_full: return "outbox_full";
    case drop_cause::table_full: return "table_full";
    case drop_cause::mailbox_full: return "mailbox_full";
    case drop_cause::count_: break;
    }
    return "unknown";
}

std::string_view method_label(std::size_t m) noexcept {
    const auto mm = static_cast<sip::method>(m);
    return mm == sip::method::other ? std::string_view("OTHER") : sip::method_name(mm);
}

namespace {

using core::metric;
using core::metric_kind;
using core::metric_summary;
using core::metric_unit;
using core::counters_of;
using core::histograms_of;
using s = shard_stats;

std::string_view class_label(std::size_t c) noexcept {
    constexpr std::string_view names[status_classes] = {"", "1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};
    return c < status_classes ? names[c] : std::string_view{};
}
std::string_view parse_error_label(std::size_t e) noexcept {
    return e == 0 ? std::string_view{} : sip::to_string(static_cast<sip::parse_error>(e));
}
std::string_view drop_label(std::size_t d) noexcept { return drop_cause_name(static_cast<drop_cause>(d)); }

constexpr core::metric_dimension by_method{"method", method_label, true};
constexpr core::metric_dimension by_class{"class", class_label, false};
constexpr core::metric_dimension by_reason{"reason", parse_error_label, true};
constexpr core::metric_dimension by_cause{"cause", drop_label, false};

constexpr metric table[] = {
    {.name = "requests_received_total", .title = "requests received", .help = "Requests received, by method.",
     .counters = counters_of<&s::received_requests>, .by = &by_method, .summary = metric_summary::total},
    {.name = "responses_received_total", .title = "responses received", .help = "Responses received, by status class.",
     .counters = counters_of<&s::received_responses>, .by = &by_class, .summary = metric_summary::total},
    {.name = "requests_forwarded_total", .title = "requests forwarded", .help = "Requests forwarded, by method.",
     .counters = counters_of<&s::forwarded_requests>, .by = &by_method, .summary = metric_summary::total},
    {.name = "responses_forwarded_total", .title = "responses forwarded", .help = "Responses forwarded, by status class.",
     .counters = counters_of<&s::forwarded_responses>, .by = &by_class, .summary = metric_summary::total},
    {.name = "responses_sent_total", .title = "responses sent by us",
     .help = "Responses the proxy made itself, by status class.", .counters = counters_of<&s::replied>, .by = &by_class,
     .summary = metric_summary::detail},
    {.name = "parse_errors_total", .title = "malformed", .help = "Messages that failed to parse, by reason.",
     .counters = counters_of<&s::parse_errors>, .by = &by_reason, .summary = metric_summary::detail},
    {.name = "dropped_total", .title = "dropped", .help = "Messages not forwarded, by cause (no_route, table_full and relay_denied were answered).",
     .counters = counters_of<&s::drops>, .by = &by_cause, .summary = metric_summary::detail},
    {.name = "transactions_created_total", .title = "transactions created", .help = "Transactions opened (stateful mode).",
     .counters = counters_of<&s::transactions_created>, .summary = metric_summary::total},
    {.name = "transactions_active", .title = "transactions active", .help = "Transactions open now.",
     .kind = metric_kind::gauge, .counters = counters_of<&s::transactions_active>},
    {.name = "transactions_pending", .title = "transactions pending",
     .help = "Transactions still without a final answer upstream.", .kind = metric_kind::gauge,
     .counters = counters_of<&s::transactions_pending>},
    {.name = "transactions_timed_out_total", .title = "transactions timed out",
     .help = "Transactions ended by a timer (408 sent upstream).", .counters = counters_of<&s::transactions_timed_out>,
     .summary = metric_summary::total},
    {.name = "branches_forked_total", .title = "branches forked",
     .help = "Further branches of requests forked to several registered contacts (stateful mode).",
     .counters = counters_of<&s::branches_forked>, .summary = metric_summary::total},
    {.name = "retransmissions_absorbed_total", .title = "retransmissions absorbed",
     .help = "Retransmitted requests and responses answered from a transaction, not forwarded again.",
     .counters = counters_of<&s::retransmissions_absorbed>, .summary = metric_summary::total},
    {.name = "dialogs_created_total", .title = "dialogs created",
     .help = "Dialogs created (2xx to an initial INVITE forwarded).", .counters = counters_of<&s::dialogs_created>,
     .summary = metric_summary::total},
    {.name = "dialogs_active", .title = "dialogs active", .help = "Dialogs in progress.", .kind = metric_kind::gauge,
     .counters = counters_of<&s::dialogs_active>},
    {.name = "dialogs_ended_total", .title = "dialogs ended", .help = "Dialogs ended by the final answer to a BYE.",
     .counters = counters_of<&s::dialogs_ended>},
    {.name = "dialogs_timed_out_total", .title = "dialogs timed out", .help = "Dialogs ended by silence (dialog_timeout_s).",
     .counters = counters_of<&s::dialogs_timed_out>},
    {.name = "reg_subscriptions_active", .title = "reg subscriptions", .help = "Reg-event subscriptions held (RFC 3680).",
     .kind = metric_kind::gauge, .counters = counters_of<&s::reg_subscriptions_active>},
    {.name = "reg_subscriptions_ended_total", .title = "reg subscriptions ended",
     .help = "Reg-event subscriptions ended: un-SUBSCRIBE, expiry, or a NOTIFY answered 481, failed or timed out.",
     .counters = counters_of<&s::reg_subscriptions_ended>},
    {.name = "reg_notifies_sent_total", .title = "reg NOTIFYs sent", .help = "Reg-event NOTIFYs sent (retransmissions not counted).",
     .counters = counters_of<&s::reg_notifies_sent>},
    {.name = "mailbox_hops_total", .title = "mailbox hops", .help = "Messages handed to the worker owning their call.",
     .counters = counters_of<&s::mailbox_hops>, .summary = metric_summary::total},
    {.name = "received_bytes_total", .title = "bytes in (udp)", .help = "UDP payload bytes received.",
     .counters = counters_of<&s::bytes_in>},
    {.name = "sent_bytes_total", .title = "bytes out", .help = "Payload bytes sent (UDP, or handed to the TCP thread).",
     .counters = counters_of<&s::bytes_out>},
    {.name = "worker_busy_seconds_total", .title = "worker busy", .help = "Time a worker spent working.",
     .counters = counters_of<&s::busy_ns>, .unit = metric_unit::nanoseconds},
    {.name = "worker_idle_seconds_total", .title = "worker idle", .help = "Time a worker spent waiting for traffic.",
     .counters = counters_of<&s::idle_ns>, .unit = metric_unit::nanoseconds},
    {.name = "request_latency_seconds", .title = "request", .help = "Receipt to forwarding of requests, by method.",
     .kind = metric_kind::histogram, .histograms = histograms_of<&s::request_latency>, .by = &by_method,
     .unit = metric_unit::nanoseconds},
    {.name = "response_latency_seconds", .title = "response",
     .help = "Receipt to forwarding of responses, by status class.", .kind = metric_kind::histogram,
     .histograms = histograms_of<&s::response_latency>, .by = &by_class, .unit = metric_unit::nanoseconds},
    {.name = "call_setup_seconds", .title = "call setup", .help = "INVITE received to its 2xx forwarded.",
     .kind = metric_kind::histogram, .histograms = histograms_of<&s::call_setup>, .unit = metric_unit::nanoseconds},
};

} // namespace

std::span<const core::metric> shard_stats::metrics() noexcept { return table; }

void record_latency(shard_stats& s, std::uint8_t slot, std::uint64_t ns) noexcept {
    if (slot == 0) return;
    const std::size_t i = slot - 1u;
    if (i < method_count) s.request_latency[i].record(ns);
    else if (i - method_count < status_classes) s.response_latency[i - method_count].record(ns);
}

} // namespace sipfast::proxy
