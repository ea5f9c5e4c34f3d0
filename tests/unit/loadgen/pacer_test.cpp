// SPDX-License-Identifier: Apache-2.0
#include "sipfast/loadgen/pacer.hpp"

#include <gtest/gtest.h>

namespace sipfast::loadgen {
namespace {

constexpr std::uint64_t s = 1'000'000'000;

TEST(Pacer, CallsAreDueAtStartPlusKOverRate) {
    pacer p(1000, 5 * s);
    EXPECT_EQ(p.due(5 * s - 1), 0u);
    EXPECT_EQ(p.due(5 * s), 1u);
    EXPECT_EQ(p.due(5 * s + 999'999), 1u);
    EXPECT_EQ(p.due(5 * s + 1'000'000), 2u);
    EXPECT_EQ(p.due(6 * s - 1), 1000u);
    EXPECT_EQ(p.due_at(0), 5 * s);
    EXPECT_EQ(p.due_at(1), 5 * s + 1'000'000);
    EXPECT_EQ(p.due_at(1000), 6 * s);
}

TEST(Pacer, TakenCallsAreNotDueAgainAndTheRestWait) {
    pacer p(3, 0);  // a third of a second apart: due_at rounds up
    EXPECT_EQ(p.due(0), 1u);
    p.take(1);
    EXPECT_EQ(p.due(333'333'333), 0u);
    EXPECT_EQ(p.next_due_ns(), 333'333'334u);
    EXPECT_EQ(p.due(333'333'334), 1u);
    EXPECT_EQ(p.due(10 * s), 30u);  // open loop: a late taker gets every call it missed...
    EXPECT_EQ(p.due(10 * s, 8), 8u);  // ...in bursts when it asks
}

TEST(Pacer, StopsAtItsLimitOrItsEnd) {
    pacer by_count(100, 0, 250);
    EXPECT_EQ(by_count.due(100 * s), 250u);
    by_count.take(250);
    EXPECT_TRUE(by_count.done());
    EXPECT_EQ(by_count.next_due_ns(), ~std::uint64_t{0});
    pacer by_time(100, 0, 0, 2 * s);
    EXPECT_EQ(by_time.due(100 * s), 200u);  // calls due at 0, 10 ms ... 1.99 s
    by_time.take(199);
    EXPECT_FALSE(by_time.done());
    by_time.take(1);
    EXPECT_TRUE(by_time.done());
}

TEST(Pacer, HighRatesOverLongRunsDoNotOverflow) {
    pacer p(10'000'000, 0);
    EXPECT_EQ(p.due(3600 * s), 36'000'000'001u);
    EXPECT_EQ(p.due_at(36'000'000'000u), 3600 * s);
}

TEST(Pacer, ZeroRateOffersNothing) {
    pacer p(0, 0);
    EXPECT_EQ(p.due(100 * s), 0u);
    EXPECT_TRUE(p.done());
}

} // namespace
} // namespace sipfast::loadgen
