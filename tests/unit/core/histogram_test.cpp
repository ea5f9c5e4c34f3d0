// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/histogram.hpp"

#include <gtest/gtest.h>

#include <random>
#include <thread>

namespace sipfast::core {
namespace {

TEST(Histogram, BucketsHoldTheirValuesWithinAnEighth) {
    for (std::uint64_t v : {0ull, 1ull, 1023ull, 1024ull, 1100ull, 5'000ull, 123'456ull, 999'999'999ull, 30'000'000'000ull,
                            200'000'000'000ull}) {
        const std::size_t i = histogram::index_of(v);
        EXPECT_LE(v, histogram::upper_bound(i)) << v;
        if (i > 0) {
            EXPECT_GT(v, histogram::upper_bound(i - 1)) << v;
            EXPECT_LE(static_cast<double>(histogram::upper_bound(i) - v), 0.125 * static_cast<double>(v) + 1) << v;
        }
    }
    // Past the last power: the overflow bucket, counted, with no finite bound to misreport.
    EXPECT_EQ(histogram::index_of(std::uint64_t{1} << 40), histogram::overflow);
    EXPECT_EQ(histogram::index_of((std::uint64_t{1} << 39) - 1), histogram::overflow - 1);
    for (std::size_t i = 1; i < histogram::buckets; ++i) EXPECT_GT(histogram::upper_bound(i), histogram::upper_bound(i - 1));
    histogram h;
    h.record(std::uint64_t{1} << 45);
    EXPECT_EQ(h.quantile(0.5), std::uint64_t{1} << 39);
    EXPECT_EQ(h.total(), 1u);
}

TEST(Histogram, QuantilesAndMerge) {
    histogram a, b;
    for (std::uint64_t us = 1; us <= 1000; ++us) (us % 2 ? a : b).record(us * 1000);  // 1..1000 µs
    histogram all;
    all += a;
    all += b;
    EXPECT_EQ(all.total(), 1000u);
    EXPECT_EQ(all.sum(), 500'500'000u);
    const auto near = [](std::uint64_t got, double want) {
        return static_cast<double>(got) >= want && static_cast<double>(got) <= want * 1.13;
    };
    EXPECT_TRUE(near(all.quantile(0.5), 500'000)) << all.quantile(0.5);
    EXPECT_TRUE(near(all.quantile(0.99), 990'000)) << all.quantile(0.99);
    EXPECT_TRUE(near(all.quantile(0.999), 999'000)) << all.quantile(0.999);
    EXPECT_EQ(histogram{}.quantile(0.5), 0u);
}

TEST(Histogram, ReadWhileWrittenSeesNoTornCounts) {
    // One writer, one reader, as a scrape reads a worker's histogram (run under TSan/ASan too).
    histogram h;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        std::mt19937_64 rng(7);
        for (int i = 0; i < 200'000; ++i) h.record(rng() % 10'000'000);
        done = true;
    });
    std::uint64_t last = 0;
    while (!done) {
        const std::uint64_t n = h.total();
        EXPECT_GE(n, last);
        last = n;
    }
    writer.join();
    EXPECT_EQ(h.total(), 200'000u);
}

} // namespace
} // namespace sipfast::core
