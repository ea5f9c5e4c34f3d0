// SPDX-License-Identifier: Apache-2.0
#include "sipfast/loadgen/latency_histogram.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace sipfast::loadgen {
namespace {

TEST(LatencyHistogram, ExactToTheMicrosecondBelowTwoMilliseconds) {
    auto h = std::make_unique<latency_histogram>();
    for (std::uint64_t v = 1; v <= 1000; ++v) h->record(v);
    EXPECT_EQ(h->quantile(0.5), 500u);
    EXPECT_EQ(h->quantile(0.9), 900u);
    EXPECT_EQ(h->quantile(0.99), 990u);
    EXPECT_EQ(h->quantile(0.999), 999u);
    EXPECT_EQ(h->quantile(1.0), 1000u);
    EXPECT_EQ(h->max(), 1000u);
    EXPECT_DOUBLE_EQ(h->mean(), 500.5);
    EXPECT_EQ(h->total(), 1000u);
}

TEST(LatencyHistogram, WithinATenthOfAPercentAbove) {
    for (std::uint64_t v : {2048ull, 2049ull, 5'000ull, 123'456ull, 999'999ull, 31'522'816ull, 60'000'000'000ull}) {
        const std::size_t i = latency_histogram::index_of(v);
        EXPECT_LE(latency_histogram::lower_bound(i), v) << v;
        EXPECT_GT(latency_histogram::lower_bound(i + 1), v) << v;
        EXPECT_LE(static_cast<double>(v - latency_histogram::lower_bound(i)), 0.001 * static_cast<double>(v)) << v;
    }
    for (std::size_t i = 1; i < latency_histogram::buckets; ++i)
        ASSERT_GT(latency_histogram::lower_bound(i), latency_histogram::lower_bound(i - 1)) << i;
    // Past the last power: the last bucket, and the exact maximum still known.
    auto h = std::make_unique<latency_histogram>();
    h->record(std::uint64_t{1} << 40);
    EXPECT_EQ(latency_histogram::index_of(std::uint64_t{1} << 40), latency_histogram::buckets - 1);
    EXPECT_EQ(h->quantile(1.0), std::uint64_t{1} << 40);
}

TEST(LatencyHistogram, TheTailIsNotHiddenByTheBulk) {
    auto h = std::make_unique<latency_histogram>();
    for (int i = 0; i < 9990; ++i) h->record(20);
    for (int i = 0; i < 10; ++i) h->record(50'000);
    EXPECT_EQ(h->quantile(0.99), 20u);
    EXPECT_GE(h->quantile(0.9999), 49'950u);
    EXPECT_EQ(h->max(), 50'000u);
}

TEST(LatencyHistogram, MergesAndDiffersForPerSecondReports) {
    auto a = std::make_unique<latency_histogram>();
    auto b = std::make_unique<latency_histogram>();
    for (std::uint64_t v = 1; v <= 100; ++v) a->record(v);
    for (std::uint64_t v = 101; v <= 200; ++v) b->record(v);
    auto sum = std::make_unique<latency_histogram>();
    *sum += *a;
    *sum += *b;
    EXPECT_EQ(sum->total(), 200u);
    EXPECT_EQ(sum->quantile(0.5), 100u);
    EXPECT_EQ(sum->max(), 200u);
    auto before = std::make_unique<latency_histogram>(*a);
    for (std::uint64_t v = 1000; v < 1010; ++v) a->record(v);
    const auto d = std::make_unique<latency_histogram>(a->since(*before));
    EXPECT_EQ(d->total(), 10u);
    EXPECT_EQ(d->quantile(0.5), 1004u);
    EXPECT_EQ(d->max(), 1009u);
    EXPECT_EQ(latency_summary::of(latency_histogram{}).p99, 0u);
}

} // namespace
} // namespace sipfast::loadgen
