// SPDX-License-Identifier: Apache-2.0
// dpdk_app/fragment_sources.hpp on an explicit clock: the bound per source and in all, completion,
// expiry (on access and by the sweep).
#include "fragment_sources.hpp"

#include <gtest/gtest.h>

namespace {

using sipfast::core::net_address;
using sipfast::dpdk::fragment_sources;

constexpr std::uint64_t timeout = 2'000'000'000;
constexpr std::uint64_t start = 1'000'000'000'000;
constexpr std::size_t n = fragment_sources::per_source;

net_address source(std::uint32_t i) {
    net_address a;
    a.family = 4;
    a.ip = {10, static_cast<std::uint8_t>(i >> 16), static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)};
    return a;
}

TEST(FragmentSources, OneSourceGetsNDatagramsThenIsRefused) {
    fragment_sources f(1024, timeout);
    for (std::uint32_t id = 0; id < n; ++id) EXPECT_TRUE(f.admit(source(1), id, start));
    EXPECT_FALSE(f.admit(source(1), 100, start));
    EXPECT_TRUE(f.admit(source(2), 100, start));  // another source is not held back
    // Further fragments of datagrams already started still pass.
    for (std::uint32_t id = 0; id < n; ++id) EXPECT_TRUE(f.admit(source(1), id, start + 1));
    EXPECT_EQ(f.datagrams(), n + 1);
}

TEST(FragmentSources, CompletionMakesRoom) {
    fragment_sources f(1024, timeout);
    for (std::uint32_t id = 0; id < n; ++id) ASSERT_TRUE(f.admit(source(1), id, start));
    f.completed(source(1), 3);
    EXPECT_TRUE(f.admit(source(1), 100, start));
    EXPECT_FALSE(f.admit(source(1), 101, start));
    for (std::uint32_t id = 0; id < n; ++id) f.completed(source(1), id);
    f.completed(source(1), 100);
    EXPECT_EQ(f.datagrams(), 0u);
}

TEST(FragmentSources, ExpiredDatagramsMakeRoom) {
    fragment_sources f(1024, timeout);
    for (std::uint32_t id = 0; id < n; ++id) ASSERT_TRUE(f.admit(source(1), id, start));
    EXPECT_FALSE(f.admit(source(1), 100, start + timeout - 1));
    EXPECT_TRUE(f.admit(source(1), 100, start + timeout));
    EXPECT_EQ(f.datagrams(), 1u);
}

TEST(FragmentSources, TheWholeTableIsBounded) {
    fragment_sources f(64, timeout);
    for (std::uint32_t i = 0; i < 64; ++i) ASSERT_TRUE(f.admit(source(i), 7, start));
    EXPECT_FALSE(f.admit(source(1000), 7, start));
    EXPECT_TRUE(f.admit(source(5), 7, start));  // a datagram already counted
}

TEST(FragmentSources, SweepForgetsQuietSources) {
    fragment_sources f(64, timeout);
    for (std::uint32_t i = 0; i < 64; ++i) ASSERT_TRUE(f.admit(source(i), 7, start));
    // Enough turns to visit every slot once (capacity 128, 4 a turn).
    for (int turn = 0; turn < 32; ++turn) f.sweep(start + timeout);
    EXPECT_EQ(f.datagrams(), 0u);
    for (std::uint32_t i = 100; i < 164; ++i) EXPECT_TRUE(f.admit(source(i), 7, start + timeout));
}

TEST(FragmentSources, ManySourcesChurningStayConsistent) {
    // Sources come and go through every path (completion, expiry on access, the sweep); lookups must
    // keep finding what is there across the deletions' moves.
    fragment_sources f(256, timeout);
    std::uint64_t now = start;
    for (std::uint32_t round = 0; round < 200; ++round) {
        for (std::uint32_t i = 0; i < 100; ++i) {
            const std::uint32_t src = (round * 37 + i * 11) % 300;
            if (f.admit(source(src), round, now) && (i % 3) == 0) f.completed(source(src), round);
        }
        f.sweep(now, 16);
        now += timeout / 8;
        EXPECT_LE(f.datagrams(), 256u);
    }
    // Long after: everything expires.
    now += timeout;
    for (int turn = 0; turn < 200; ++turn) f.sweep(now);
    EXPECT_EQ(f.datagrams(), 0u);
}

} // namespace
