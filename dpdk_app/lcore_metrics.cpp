// SPDX-License-Identifier: Apache-2.0
#include "lcore_worker.hpp"

namespace sipfast::dpdk {

namespace {

using core::counters_of;
using core::metric_summary;
using c = lcore_counters;

constexpr std::string_view family = "dpdk_frames_total";
constexpr std::string_view help = "Frames an lcore handled, by what became of them.";
constexpr auto total = metric_summary::total;

// One family, told apart by `what`; `copied` and `echoed` are the framing-only benchmark's.
constexpr core::metric table[] = {
    {.name = family, .fixed_label = "what=\"received\"", .title = "frames received", .help = help,
     .counters = counters_of<&c::rx>, .summary = total},
    {.name = family, .fixed_label = "what=\"sent\"", .title = "frames sent", .counters = counters_of<&c::tx>, .summary = total},
    {.name = family, .fixed_label = "what=\"tx_dropped\"", .title = "frames dropped at tx",
     .counters = counters_of<&c::tx_dropped>, .summary = total},
    {.name = family, .fixed_label = "what=\"arp_answered\"", .title = "arp answered",
     .counters = counters_of<&c::arp_answered>, .summary = total},
    {.name = family, .fixed_label = "what=\"nd_answered\"", .title = "nd answered", .counters = counters_of<&c::nd_answered>,
     .summary = total},
    {.name = family, .fixed_label = "what=\"not_for_us\"", .title = "not for us", .counters = counters_of<&c::not_for_us>,
     .summary = total},
    {.name = family, .fixed_label = "what=\"exception\"", .title = "exception", .counters = counters_of<&c::exception>,
     .summary = total},
    {.name = family, .fixed_label = "what=\"no_neighbour\"", .title = "no neighbour",
     .counters = counters_of<&c::no_neighbour>, .summary = total},
    {.name = family, .fixed_label = "what=\"to_kernel\"", .title = "to kernel", .counters = counters_of<&c::to_kernel>,
     .summary = total},
    {.name = family, .fixed_label = "what=\"from_kernel\"", .title = "from kernel", .counters = counters_of<&c::from_kernel>,
     .summary = total},
    {.name = family, .fixed_label = "what=\"reassembled\"", .title = "reassembled", .counters = counters_of<&c::reassembled>,
     .summary = total},
    {.name = family, .fixed_label = "what=\"fragmented\"", .title = "fragmented", .counters = counters_of<&c::fragmented>,
     .summary = total},
    {.name = family, .fixed_label = "what=\"bad_checksum\"", .title = "bad checksum",
     .counters = counters_of<&c::bad_checksum>, .summary = total},
    {.name = family, .fixed_label = "what=\"fragments_refused\"", .title = "fragments refused",
     .counters = counters_of<&c::fragments_refused>, .summary = total},
    {.name = family, .fixed_label = "what=\"fragments_expired\"", .title = "fragments expired",
     .counters = counters_of<&c::fragments_expired>, .summary = total},
    {.name = family, .fixed_label = "what=\"neighbour_unsolicited\"", .title = "neighbour unsolicited",
     .counters = counters_of<&c::neighbour_unsolicited>, .summary = total},
    {.name = family, .fixed_label = "what=\"neighbour_conflict\"", .title = "neighbour conflict",
     .counters = counters_of<&c::neighbour_conflict>, .summary = total},
};

} // namespace

std::span<const core::metric> lcore_counters::metrics() noexcept { return table; }

} // namespace sipfast::dpdk
