// SPDX-License-Identifier: Apache-2.0
// The metric tables and the views generated from them: a field without a row, or a row that
// reads the wrong field, shows up here before it goes missing from a dashboard.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "sipfast/io/tcp_server.hpp"
#include "sipfast/ops/summary.hpp"
#include "sipfast/proxy/stats.hpp"

namespace sipfast::ops {
namespace {

/// The bytes of `S` its table reads, each field once.
template <class S>
std::size_t bytes_described() {
    const S s{};
    std::size_t n = 0;
    for (const core::metric& m : S::metrics())
        n += m.kind == core::metric_kind::histogram ? m.histograms(&s).size_bytes() : m.counters(&s).size_bytes();
    return n;
}

template <class S>
void check_table() {
    std::set<std::string> series;
    std::string_view family;
    for (const core::metric& m : S::metrics()) {
        EXPECT_FALSE(m.name.empty());
        EXPECT_FALSE(m.title.empty()) << m.name;
        EXPECT_TRUE(series.insert(std::string(m.name) + "{" + std::string(m.fixed_label) + "}").second) << m.name;
        if (m.name != family) {
            EXPECT_FALSE(m.help.empty()) << m.name << " starts a family: it needs a HELP";
        }
        family = m.name;
        EXPECT_EQ(m.kind == core::metric_kind::histogram, m.histograms != nullptr) << m.name;
        EXPECT_EQ(m.kind != core::metric_kind::histogram, m.counters != nullptr) << m.name;
        const bool seconds = m.name.ends_with("_seconds") || m.name.ends_with("_seconds_total");
        EXPECT_EQ(seconds, m.unit == core::metric_unit::nanoseconds) << m.name;
        EXPECT_EQ(m.kind == core::metric_kind::counter, m.name.ends_with("_total")) << m.name;
    }
    // Every field has a row: a new counter without one fails here.
    EXPECT_EQ(bytes_described<S>(), sizeof(S));
}

TEST(MetricTables, DescribeEveryFieldOnce) {
    check_table<proxy::shard_stats>();
    check_table<io::tcp_counters>();
}

TEST(MetricTables, RowsReadTheirOwnField) {
    proxy::shard_stats s;
    s.transactions_timed_out.add(7);
    s.mailbox_hops.add(3);
    const proxy::shard_stats* one[] = {&s};
    const core::metric_set set = core::metric_set::of<proxy::shard_stats>(one);
    for (const core::metric& m : set.table) {
        if (m.kind == core::metric_kind::histogram) continue;
        const std::uint64_t want = m.name == "transactions_timed_out_total" ? 7 : m.name == "mailbox_hops_total" ? 3 : 0;
        EXPECT_EQ(set.total(m), want) << m.name;
    }
}

TEST(Summary, SumsTheWorkersAndDetailsOnlyWhatHappened) {
    proxy::shard_stats a, b;
    a.received_requests[static_cast<std::size_t>(sip::method::invite)].add(2);
    b.received_requests[static_cast<std::size_t>(sip::method::bye)].add(3);
    a.count_drop(proxy::drop_cause::outbox_full);
    b.count_drop(proxy::drop_cause::mailbox_full);
    b.count_drop(proxy::drop_cause::mailbox_full);
    const proxy::shard_stats* shards[] = {&a, &b};
    io::tcp_counters tcp;
    tcp.accepted.add(4);
    const core::metric_set sets[] = {core::metric_set::of<proxy::shard_stats>(shards), core::metric_set::of(tcp)};
    const std::string line = summary_line(sets);
    EXPECT_EQ(line.rfind("requests received 5, ", 0), 0u) << line;
    EXPECT_NE(line.find(", dropped 3 (outbox_full 1, mailbox_full 2), "), std::string::npos) << line;
    EXPECT_NE(line.find(", malformed 0, "), std::string::npos) << line;  // no detail without a count
    EXPECT_EQ(line.find("malformed 0 ("), std::string::npos) << line;
    EXPECT_NE(line.find(", tcp connections accepted 4"), std::string::npos) << line;
    EXPECT_EQ(line.find("transactions active"), std::string::npos) << line;  // gauges are not totals
}

} // namespace
} // namespace sipfast::ops
