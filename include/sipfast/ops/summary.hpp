// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>
#include <string>

#include "sipfast/core/metric.hpp"

namespace sipfast::ops {

/// The end-of-run report of sipfastd and sipfast-dpdk: every row marked for the summary, summed
/// over the instances, as "title N" joined by ", "; a `detail` row adds its non-zero labels:
/// "dropped 3 (outbox_full 2, mailbox_full 1)".
[[nodiscard]] std::string summary_line(std::span<const core::metric_set> sets);

} // namespace sipfast::ops
