// SPDX-License-Identifier: Apache-2.0
#include "sipfast/io/tcp_server.hpp"

namespace sipfast::io {

namespace {

using core::counters_of;
using core::metric_kind;
using core::metric_summary;
using t = tcp_counters;

constexpr core::metric table[] = {
    {.name = "tcp_connections_open", .title = "tcp connections open", .help = "TCP connections open now.",
     .kind = metric_kind::gauge, .counters = counters_of<&t::open>},
    {.name = "tcp_connections_accepted_total", .title = "tcp connections accepted", .help = "TCP connections accepted.",
     .counters = counters_of<&t::accepted>, .summary = metric_summary::total},
    {.name = "tcp_connections_refused_total", .fixed_label = "limit=\"per_ip\"", .title = "tcp refused per-ip",
     .help = "TCP connections refused (closed at accept, or not opened), by limit.",
     .counters = counters_of<&t::refused_ip_limit>, .summary = metric_summary::total},
    {.name = "tcp_connections_refused_total", .fixed_label = "limit=\"total\"", .title = "tcp refused total",
     .counters = counters_of<&t::refused_total_limit>, .summary = metric_summary::total},
    {.name = "tcp_connections_refused_total", .fixed_label = "limit=\"outbound\"", .title = "tcp refused outbound",
     .counters = counters_of<&t::refused_outbound_limit>, .summary = metric_summary::total},
    {.name = "tcp_connections_opened_total", .title = "tcp connections opened", .help = "TCP connections sipfast opened.",
     .counters = counters_of<&t::connected>, .summary = metric_summary::total},
    {.name = "tcp_connect_failures_total", .title = "tcp connect failures",
     .help = "TCP connections sipfast could not open.", .counters = counters_of<&t::connect_failed>,
     .summary = metric_summary::total},
    {.name = "tcp_connections_closed_total", .fixed_label = "reason=\"peer\"", .title = "tcp closed by peer",
     .help = "TCP connections closed, by reason.", .counters = counters_of<&t::closed_by_peer>},
    {.name = "tcp_connections_closed_total", .fixed_label = "reason=\"idle\"", .title = "tcp closed idle",
     .counters = counters_of<&t::closed_idle>, .summary = metric_summary::total},
    {.name = "tcp_connections_closed_total", .fixed_label = "reason=\"slow\"", .title = "tcp closed slow",
     .counters = counters_of<&t::closed_slow>, .summary = metric_summary::total},
    {.name = "tcp_connections_closed_total", .fixed_label = "reason=\"error\"", .title = "tcp closed on error",
     .counters = counters_of<&t::closed_error>, .summary = metric_summary::total},
    {.name = "tcp_messages_received_total", .title = "tcp messages in", .help = "SIP messages framed on TCP.",
     .counters = counters_of<&t::messages_in>, .summary = metric_summary::total},
    {.name = "tcp_messages_sent_total", .title = "tcp messages out", .help = "SIP messages sent on TCP.",
     .counters = counters_of<&t::messages_out>, .summary = metric_summary::total},
    {.name = "tcp_received_bytes_total", .title = "tcp bytes in", .help = "TCP bytes received.",
     .counters = counters_of<&t::bytes_in>},
    {.name = "tcp_sent_bytes_total", .title = "tcp bytes out", .help = "TCP bytes sent.",
     .counters = counters_of<&t::bytes_out>},
    {.name = "tcp_framing_errors_total", .title = "tcp framing errors", .help = "TCP streams closed on a framing fault.",
     .counters = counters_of<&t::framing_errors>, .summary = metric_summary::total},
    {.name = "tcp_keepalives_total", .title = "tcp keep-alives", .help = "RFC 5626 keep-alive pings answered.",
     .counters = counters_of<&t::keepalives>},
    {.name = "tcp_dropped_total", .title = "tcp dropped", .help = "Messages for TCP no connection could be had for.",
     .counters = counters_of<&t::dropped_unsendable>, .summary = metric_summary::total},
};

} // namespace

std::span<const core::metric> tcp_counters::metrics() noexcept { return table; }

} // namespace sipfast::io
