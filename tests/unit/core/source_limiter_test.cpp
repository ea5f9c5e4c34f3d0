// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/source_limiter.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace sipfast::core {
namespace {

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t s = 1'000 * ms;
constexpr std::uint64_t start = 1'000 * s;  // an arbitrary clock far from zero

net_address v4(std::uint8_t last, std::uint16_t port = 5060) {
    net_address a;
    EXPECT_TRUE(parse_ip("198.18.0.0", a));
    a.ip[3] = last;
    a.port = port;
    return a;
}

net_address v6(std::uint8_t net_byte, std::uint8_t host_byte) {
    net_address a;
    EXPECT_TRUE(parse_ip("2001:db8::", a));
    a.ip[7] = net_byte;    // within the /64
    a.ip[15] = host_byte;  // the interface identifier
    return a;
}

source_limits messages(std::uint32_t rate, std::uint32_t burst, std::uint64_t ban_ns = 0) {
    return source_limits{rate, burst, 0, 0, ban_ns};
}

// How many of `n` messages sent at once at `now` pass.
int passed(source_limiter& l, const net_address& from, int n, std::uint64_t now, std::size_t bytes = 500) {
    int ok = 0;
    for (int i = 0; i < n; ++i) ok += l.admit(from, bytes, now) == source_verdict::pass;
    return ok;
}

TEST(SourceLimiter, OffPassesEverything) {
    source_limiter l(64);
    EXPECT_EQ(passed(l, v4(1), 100'000, start), 100'000);
}

TEST(SourceLimiter, BurstThenRate) {
    source_limiter l(64, messages(100, 20));
    EXPECT_EQ(passed(l, v4(1), 50, start), 20);  // the burst, then nothing
    // 100/s refills one message every 10 ms.
    EXPECT_EQ(passed(l, v4(1), 5, start + 10 * ms), 1);
    EXPECT_EQ(passed(l, v4(1), 50, start + 10 * ms + 200 * ms), 20);
    // A steady sender at its rate never loses a message.
    int ok = 0;
    for (int i = 1; i <= 1000; ++i) ok += passed(l, v4(2), 1, start + static_cast<std::uint64_t>(i) * 10 * ms);
    EXPECT_EQ(ok, 1000);
}

TEST(SourceLimiter, OneSourceOverItsRateCostsNoOtherSource) {
    source_limiter l(64, messages(100, 20));
    EXPECT_EQ(passed(l, v4(1), 10'000, start), 20);
    EXPECT_EQ(passed(l, v4(2), 20, start), 20);
}

TEST(SourceLimiter, PortsAndInterfaceIdentifiersShareTheBudget) {
    source_limiter l(64, messages(100, 10));
    int ok = 0;
    for (std::uint16_t port = 1; port <= 100; ++port) ok += passed(l, v4(1, port), 1, start);
    EXPECT_EQ(ok, 10);
    ok = 0;
    for (std::uint8_t host = 1; host <= 100; ++host) ok += passed(l, v6(1, host), 1, start);
    EXPECT_EQ(ok, 10);
    EXPECT_EQ(passed(l, v6(2, 1), 10, start), 10);  // another /64 is another source
}

TEST(SourceLimiter, Bytes) {
    source_limiter l(64, source_limits{0, 0, 10'000, 4'000, 0});
    EXPECT_EQ(passed(l, v4(1), 100, start, 1'000), 4);
    // 10 000 bytes/s: 1 000 bytes every 100 ms.
    EXPECT_EQ(passed(l, v4(1), 100, start + 100 * ms, 1'000), 1);
    EXPECT_EQ(passed(l, v4(1), 100, start + 100 * ms, 10), 0);  // the bucket is empty for small ones too
}

TEST(SourceLimiter, BanRefusesEverythingUntilItEnds) {
    source_limiter l(64, messages(100, 10, 5 * s));
    EXPECT_EQ(passed(l, v4(1), 11, start), 10);
    EXPECT_EQ(l.admit(v4(1), 100, start + 1 * s), source_verdict::banned);  // its bucket has refilled, but it is banned
    EXPECT_EQ(l.admit(v4(1), 100, start + 5 * s - 1), source_verdict::banned);
    EXPECT_EQ(passed(l, v4(1), 20, start + 5 * s), 10);  // a fresh budget after the ban
}

TEST(SourceLimiter, AnswersSpendTheAddressesByteBudget) {
    source_limiter l(64, source_limits{100, 100, 10'000, 10'000, 0});
    int answered = 0;
    for (int i = 0; i < 100; ++i) answered += l.charge_answer(v4(7), 1'000, start);
    EXPECT_EQ(answered, 10);  // 10 000 bytes of our answers toward one address, however many asked
    EXPECT_TRUE(l.charge_answer(v4(8), 1'000, start));
}

TEST(SourceLimiter, ManySourcesDoNotRefreshASourceOverItsRate) {
    // A table of 64 entries and 10 000 other sources passing through: the one over its rate keeps
    // its state while it is spending (an entry still ahead of the clock is evicted last).
    source_limiter l(64, messages(10, 5));
    EXPECT_EQ(passed(l, v4(1), 10, start), 5);
    int other = 0;
    for (int i = 0; i < 10'000; ++i) {
        net_address a = v4(0);
        a.ip[2] = static_cast<std::uint8_t>(i >> 8);
        a.ip[3] = static_cast<std::uint8_t>(i);
        a.ip[1] = 19;
        other += passed(l, a, 1, start);
    }
    EXPECT_EQ(other, 10'000);  // newcomers always get in
    EXPECT_EQ(passed(l, v4(1), 10, start), 0);
}

TEST(SourceLimiter, ReloadKeepsWhatWasSpent) {
    source_limiter l(64, messages(100, 10));
    EXPECT_EQ(passed(l, v4(1), 10, start), 10);
    l.set_limits(messages(100, 20));
    EXPECT_EQ(passed(l, v4(1), 20, start), 10);  // the larger burst, minus what was spent
}

} // namespace
} // namespace sipfast::core
