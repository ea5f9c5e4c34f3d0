// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace sipfast::core {
namespace {

TEST(SpscRing, StagedItemsAreInvisibleUntilPublished) {
    spsc_ring<int> r(4);
    EXPECT_EQ(r.capacity(), 4u);
    ASSERT_TRUE(r.try_push(1));
    ASSERT_TRUE(r.try_push(2));
    EXPECT_EQ(r.unpublished(), 2u);
    EXPECT_EQ(r.consume([](int) { FAIL() << "nothing is published yet"; }), 0u);
    r.publish();
    std::vector<int> got;
    EXPECT_EQ(r.consume([&](int v) { got.push_back(v); }), 2u);
    EXPECT_EQ(got, (std::vector<int>{1, 2}));
}

TEST(SpscRing, FullRingRefusesAndRecoversAfterConsume) {
    spsc_ring<int> r(3);  // rounds up to 4
    ASSERT_EQ(r.capacity(), 4u);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(r.try_push(i));
    EXPECT_FALSE(r.try_push(99));
    r.publish();
    EXPECT_FALSE(r.try_push(99));
    int first = -1;
    EXPECT_EQ(r.consume([&](int v) { first = v; }, 1), 1u);
    EXPECT_EQ(first, 0);
    EXPECT_TRUE(r.try_push(4));
    r.publish();
    std::vector<int> got;
    r.consume([&](int v) { got.push_back(v); });
    EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST(SpscRing, TwoThreadsKeepOrderAndLoseNothing) {
    struct item {
        std::uint64_t seq;
        std::uint64_t check;
    };
    spsc_ring<item> r(256);
    constexpr std::uint64_t total = 2'000'000;
    std::thread producer([&] {
        std::uint64_t next = 0;
        while (next < total) {
            // Bursts of up to 32, published once, as a worker does at the end of a loop turn.
            for (int k = 0; k < 32 && next < total; ++k) {
                if (!r.try_push(item{next, next * 2654435761u})) break;
                ++next;
            }
            r.publish();
        }
    });
    std::uint64_t expect = 0;
    bool in_order = true;
    while (expect < total) {
        r.consume([&](const item& it) {
            in_order = in_order && it.seq == expect && it.check == expect * 2654435761u;
            ++expect;
        });
    }
    producer.join();
    EXPECT_TRUE(in_order);
    EXPECT_EQ(expect, total);
    EXPECT_EQ(r.consume([](const item&) {}), 0u);
}

} // namespace
} // namespace sipfast::core
