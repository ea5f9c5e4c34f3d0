// SPDX-License-Identifier: Apache-2.0
#include "sipfast/ops/summary.hpp"

#include "sipfast/core/text_writer.hpp"

namespace sipfast::ops {

std::string summary_line(std::span<const core::metric_set> sets) {
    std::string out;
    const auto item = [&](std::string_view title, std::uint64_t n) {
        out.append(title).append(" ").append(core::decimal(n).view());
    };
    for (const core::metric_set& set : sets) {
        if (set.instances.empty()) continue;
        for (const core::metric& m : set.table) {
            if (m.summary == core::metric_summary::none || m.kind == core::metric_kind::histogram) continue;
            if (!out.empty()) out += ", ";
            item(m.title, set.total(m));
            if (m.summary != core::metric_summary::detail || m.by == nullptr || set.total(m) == 0) continue;
            bool opened = false;
            for (std::size_t i = 0; i < core::width(m, set.instances.front()); ++i) {
                const std::uint64_t n = set.total(m, i);
                if (n == 0 || m.by->name_of(i).empty()) continue;
                out += opened ? ", " : " (";
                opened = true;
                item(m.by->name_of(i), n);
            }
            if (opened) out += ")";
        }
    }
    return out;
}

} // namespace sipfast::ops
