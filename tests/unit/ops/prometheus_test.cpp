// SPDX-License-Identifier: Apache-2.0
#include "sipfast/ops/prometheus.hpp"

#include "sipfast/io/tcp_server.hpp"
#include "sipfast/proxy/stats.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

namespace sipfast::ops {
namespace {

std::uint64_t value_of(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(series + " ", 0) == 0) return std::stoull(line.substr(series.size() + 1));
    ADD_FAILURE() << "no series " << series;
    return 0;
}

TEST(Prometheus, SumsNothingAndLabelsEachWorker) {
    proxy::shard_stats a, b;
    ++a.received_requests[static_cast<std::size_t>(sip::method::invite)];
    ++a.received_requests[static_cast<std::size_t>(sip::method::invite)];
    ++b.received_requests[static_cast<std::size_t>(sip::method::bye)];
    ++b.parse_errors[static_cast<std::size_t>(sip::parse_error::invalid_call_id)];
    b.count_drop(proxy::drop_cause::malformed);
    ++a.transactions_active;
    a.request_latency[static_cast<std::size_t>(sip::method::invite)].record(3'000);      // 3 µs
    a.request_latency[static_cast<std::size_t>(sip::method::invite)].record(2'000'000);  // 2 ms
    io::tcp_counters tcp;
    ++tcp.accepted;
    ++tcp.refused_ip_limit;
    a.busy_ns.add(1'500'000'000);
    const proxy::shard_stats* shards[] = {&a, &b};
    const core::metric_set sets[] = {core::metric_set::of<proxy::shard_stats>(shards), core::metric_set::of(tcp)};
    const std::string text = render_prometheus(sets, {"1.2.3", 1700000000});

    EXPECT_EQ(value_of(text, R"(sipfast_requests_received_total{worker="0",method="INVITE"})"), 2u);
    EXPECT_EQ(value_of(text, R"(sipfast_requests_received_total{worker="1",method="BYE"})"), 1u);
    EXPECT_EQ(value_of(text, R"(sipfast_parse_errors_total{worker="1",reason="invalid_call_id"})"), 1u);
    EXPECT_EQ(value_of(text, R"(sipfast_dropped_total{worker="1",cause="malformed"})"), 1u);
    EXPECT_EQ(value_of(text, R"(sipfast_transactions_active{worker="0"})"), 1u);
    EXPECT_EQ(value_of(text, R"(sipfast_tcp_connections_accepted_total)"), 1u);
    EXPECT_EQ(value_of(text, R"(sipfast_tcp_connections_refused_total{limit="per_ip"})"), 1u);
    EXPECT_EQ(value_of(text, R"(sipfast_tcp_connections_refused_total{limit="total"})"), 0u);
    EXPECT_NE(text.find("sipfast_worker_busy_seconds_total{worker=\"0\"} 1.5\n"), std::string::npos);
    EXPECT_EQ(value_of(text, R"(sipfast_start_time_seconds)"), 1700000000u);
    EXPECT_EQ(value_of(text, R"(sipfast_info{version="1.2.3"})"), 1u);
    // Cumulative buckets: the 3 µs sample is under 4.096 µs, both are under 2.097 ms.
    EXPECT_EQ(value_of(text, R"(sipfast_request_latency_seconds_bucket{worker="0",method="INVITE",le="4.096e-06"})"), 1u);
    EXPECT_EQ(value_of(text, R"(sipfast_request_latency_seconds_bucket{worker="0",method="INVITE",le="0.002097152"})"), 2u);
    EXPECT_EQ(value_of(text, R"(sipfast_request_latency_seconds_bucket{worker="0",method="INVITE",le="+Inf"})"), 2u);
    EXPECT_EQ(value_of(text, R"(sipfast_request_latency_seconds_count{worker="0",method="INVITE"})"), 2u);
    EXPECT_EQ(text.find(R"(method="OPTIONS")"), std::string::npos);  // no empty series
    // One HELP and TYPE per family, even where a family spans several rows of a table.
    std::size_t helps = 0;
    for (std::size_t at = 0; (at = text.find("# TYPE sipfast_tcp_connections_refused_total ", at)) != std::string::npos; ++at)
        ++helps;
    EXPECT_EQ(helps, 1u);

    // Every line is a comment or `name{labels} value` (what promtool's parser wants; the
    // integration test runs promtool itself).
    const std::regex sample(R"(^[a-z_:][a-z0-9_:]*(\{([a-z_]+="[^"\\]*",?)*\})? [0-9.e+\-]+(Inf)?$)");
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) continue;
        EXPECT_TRUE(std::regex_match(line, sample)) << line;
    }
}

} // namespace
} // namespace sipfast::ops
