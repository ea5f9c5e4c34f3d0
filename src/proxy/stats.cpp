// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stats.hpp"

namespace sipfast::proxy {

std::string_view drop_cause_name(drop_cause c) noexcept {
    switch (c) {
    case drop_cause::malformed: return "malformed";
    case drop_cause::not_ours: return "not_ours";
    case drop_cause::no_route: return "no_route";
    case drop_cause::outbox_full: return "outbox_full";
    case drop_cause::table_full: return "table_full";
    case drop_cause::mailbox_full: return "mailbox_full";
    case drop_cause::count_: break;
    }
    return "unknown";
}

namespace {
template <class A>
void add_all(A& into, const A& from) noexcept {
    for (std::size_t i = 0; i < into.size(); ++i) into[i] += from[i];
}
} // namespace

shard_stats& shard_stats::operator+=(const shard_stats& o) noexcept {
    add_all(received_requests, o.received_requests);
    add_all(received_responses, o.received_responses);
    add_all(forwarded_requests, o.forwarded_requests);
    add_all(forwarded_responses, o.forwarded_responses);
    add_all(replied, o.replied);
    add_all(parse_errors, o.parse_errors);
    add_all(drops, o.drops);
    transactions_created += o.transactions_created;
    transactions_active += o.transactions_active;
    transactions_pending += o.transactions_pending;
    transactions_timed_out += o.transactions_timed_out;
    retransmissions_absorbed += o.retransmissions_absorbed;
    dialogs_created += o.dialogs_created;
    dialogs_active += o.dialogs_active;
    dialogs_ended += o.dialogs_ended;
    dialogs_timed_out += o.dialogs_timed_out;
    mailbox_hops += o.mailbox_hops;
    bytes_in += o.bytes_in;
    bytes_out += o.bytes_out;
    busy_ns += o.busy_ns;
    idle_ns += o.idle_ns;
    add_all(request_latency, o.request_latency);
    add_all(response_latency, o.response_latency);
    call_setup += o.call_setup;
    return *this;
}

void record_latency(shard_stats& s, std::uint8_t slot, std::uint64_t ns) noexcept {
    if (slot == 0) return;
    const std::size_t i = slot - 1u;
    if (i < method_count) s.request_latency[i].record(ns);
    else if (i - method_count < status_classes) s.response_latency[i - method_count].record(ns);
}

} // namespace sipfast::proxy
