// SPDX-License-Identifier: Apache-2.0
// Metric descriptors (docs/architecture.md, "Operations"): each statistics struct describes its own
// counters and histograms once, in a table, and every view (Prometheus, `sipfastctl stats`, the
// end-of-run report of sipfastd and sipfast-dpdk) is generated from the tables. Adding a counter is
// one field and one table row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

#include "sipfast/core/counter.hpp"
#include "sipfast/core/histogram.hpp"

namespace sipfast::core {

enum class metric_kind : std::uint8_t { counter, gauge, histogram };

/// How a value reads: a plain count, or a time in nanoseconds (seconds in Prometheus, milliseconds
/// for people).
enum class metric_unit : std::uint8_t { count, nanoseconds };

/// Whether a metric appears in the end-of-run report, and how much of it.
enum class metric_summary : std::uint8_t {
    none,
    total,    ///< the sum over every label
    detail,   ///< the sum, then each non-zero label's share: "dropped 3 (outbox_full 3)"
};

/// A label that splits one metric into an array of values: its name and each index's value.
struct metric_dimension {
    std::string_view label;                           ///< "method"
    std::string_view (*name_of)(std::size_t) noexcept;  ///< "" for an index never shown
    bool sparse;  ///< show only the non-zero values (long dimensions: methods, parse faults)
};

/// One row of a statistics struct's table. Consecutive rows with the same `name` form one
/// Prometheus family (one HELP and TYPE, from the first of them), told apart by `fixed_label`.
struct metric {
    std::string_view name{};         ///< after "sipfast_": "requests_received_total"
    std::string_view fixed_label{};  ///< `limit="per_ip"`, or empty
    std::string_view title{};        ///< for people: "requests received"
    std::string_view help{};         ///< the family's: only its first row needs one
    metric_kind kind = metric_kind::counter;
    std::span<const counter> (*counters)(const void*) noexcept = nullptr;      ///< counter, gauge
    std::span<const histogram> (*histograms)(const void*) noexcept = nullptr;  ///< histogram
    const metric_dimension* by = nullptr;  ///< set when the field is an array
    metric_unit unit = metric_unit::count;
    metric_summary summary = metric_summary::none;
};

namespace detail {
template <class M>
struct member;
template <class S, class F>
struct member<F S::*> {
    using owner = S;
    using field = F;
};
template <class T, class F>
std::span<const T> as_span(const F& f) noexcept {
    if constexpr (std::is_same_v<F, T>) return {&f, 1};
    else return f;
}
} // namespace detail

/// The accessor of a counter field (or an array of them) for a table row: `field<&S::x>`.
template <auto Member>
std::span<const counter> counters_of(const void* s) noexcept {
    using m = detail::member<decltype(Member)>;
    return detail::as_span<counter>(static_cast<const typename m::owner*>(s)->*Member);
}
template <auto Member>
std::span<const histogram> histograms_of(const void* s) noexcept {
    using m = detail::member<decltype(Member)>;
    return detail::as_span<histogram>(static_cast<const typename m::owner*>(s)->*Member);
}

/// Instances of one statistics struct to show together: the shards (labelled worker="k"), or one
/// thread's (unlabelled). `S` says what its table is through `S::metrics()`.
struct metric_set {
    std::span<const metric> table;
    std::vector<const void*> instances;
    bool per_worker = false;

    template <class S>
    [[nodiscard]] static metric_set of(std::span<const S* const> many) {
        return {S::metrics(), {many.begin(), many.end()}, true};
    }
    template <class S>
    [[nodiscard]] static metric_set of(const S& one) {
        return {S::metrics(), {&one}, false};
    }

    /// The sum over every instance of a counter row's value at `index`.
    [[nodiscard]] std::uint64_t total(const metric& m, std::size_t index) const noexcept {
        std::uint64_t n = 0;
        for (const void* s : instances) n += m.counters(s)[index].get();
        return n;
    }
    /// The sum over every instance and every index of a counter row.
    [[nodiscard]] std::uint64_t total(const metric& m) const noexcept {
        std::uint64_t n = 0;
        for (const void* s : instances)
            for (const counter& c : m.counters(s)) n += c.get();
        return n;
    }
    /// The merge over every instance of a histogram row's value at `index`.
    [[nodiscard]] histogram merged(const metric& m, std::size_t index) const noexcept {
        histogram h;
        for (const void* s : instances) h += m.histograms(s)[index];
        return h;
    }
};

/// The number of values a row holds (1 for a scalar field).
[[nodiscard]] inline std::size_t width(const metric& m, const void* instance) noexcept {
    return m.kind == metric_kind::histogram ? m.histograms(instance).size() : m.counters(instance).size();
}

} // namespace sipfast::core
