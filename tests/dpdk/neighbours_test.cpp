// SPDX-License-Identifier: Apache-2.0
// dpdk_app/neighbours.hpp on an explicit clock: who is believed, and when an entry ages out.
#include "neighbours.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace {

using sipfast::core::net_address;
using sipfast::dpdk::link_peer;
using sipfast::dpdk::neighbour_news;
using sipfast::dpdk::neighbour_state;
using sipfast::dpdk::neighbours;

constexpr std::uint64_t s = 1'000'000'000;
constexpr std::uint64_t start = 1000 * s;

net_address ip(const char* text) {
    net_address a;
    EXPECT_TRUE(sipfast::core::parse_ip(text, a));
    return a;
}
link_peer peer(std::uint8_t last, std::uint16_t vlan = 0) { return link_peer{{2, 0, 0, 0, 0, last}, vlan}; }

struct Neighbours : ::testing::Test {
    std::unique_ptr<neighbours> table = std::make_unique<neighbours>();  // 1024 buckets: not on the stack
    const net_address bob = ip("198.18.0.20");

    neighbour_state find(const net_address& a, std::uint64_t now, link_peer& p) const { return table->find(a, p, now); }
};

TEST_F(Neighbours, AnswerToOurQuestionIsTaken) {
    ASSERT_TRUE(table->should_ask(bob, start));
    EXPECT_EQ(table->answered(bob, peer(0x20), start + s / 10), neighbour_news::taken);
    link_peer p;
    EXPECT_EQ(find(bob, start + s / 5, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x20));
}

TEST_F(Neighbours, UnsolicitedAnswerIsRefused) {
    EXPECT_EQ(table->answered(bob, peer(0x66), start), neighbour_news::unsolicited);
    link_peer p;
    EXPECT_EQ(find(bob, start, p), neighbour_state::none);
}

TEST_F(Neighbours, AnswerAfterTheWindowIsRefused) {
    ASSERT_TRUE(table->should_ask(bob, start));
    EXPECT_EQ(table->answered(bob, peer(0x20), start + neighbours::answer_window_ns), neighbour_news::unsolicited);
}

TEST_F(Neighbours, FirstAnswerClosesTheQuestion) {
    ASSERT_TRUE(table->should_ask(bob, start));
    ASSERT_EQ(table->answered(bob, peer(0x20), start + 1), neighbour_news::taken);
    // A second "answer" (a forged one racing, or a gratuitous reply) changes nothing.
    EXPECT_EQ(table->answered(bob, peer(0x66), start + 2), neighbour_news::unsolicited);
    link_peer p;
    EXPECT_EQ(find(bob, start + 3, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x20));
}

TEST_F(Neighbours, AskedAtMostOnceASecond) {
    EXPECT_TRUE(table->should_ask(bob, start));
    EXPECT_FALSE(table->should_ask(bob, start + s / 2));
    EXPECT_TRUE(table->should_ask(bob, start + s));
}

TEST_F(Neighbours, IntroductionTeachesOnlyAnUnknownAddress) {
    EXPECT_EQ(table->introduced(bob, peer(0x20), start), neighbour_news::taken);
    // An ARP request for our address claiming bob's from another MAC: refused.
    EXPECT_EQ(table->introduced(bob, peer(0x66), start + 1), neighbour_news::conflict);
    link_peer p;
    EXPECT_EQ(find(bob, start + 2, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x20));
}

TEST_F(Neighbours, AcceptedTrafficConfirmsButNeverMovesAKnownNeighbour) {
    ASSERT_EQ(table->heard(bob, peer(0x20), start), neighbour_news::taken);
    EXPECT_EQ(table->heard(bob, peer(0x66), start + 1), neighbour_news::conflict);
    EXPECT_EQ(table->heard(bob, peer(0x20, 7), start + 2), neighbour_news::conflict);  // another VLAN is elsewhere
    // Its own traffic keeps it fresh past the reachable time of the first sighting.
    ASSERT_EQ(table->heard(bob, peer(0x20), start + 20 * s), neighbour_news::taken);
    link_peer p;
    EXPECT_EQ(find(bob, start + 40 * s, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x20));
}

TEST_F(Neighbours, TrafficConfirmsAtMostOnceASecond) {
    // Each accepted datagram would otherwise write the line every lcore reads.
    ASSERT_EQ(table->heard(bob, peer(0x20), start), neighbour_news::taken);
    ASSERT_EQ(table->heard(bob, peer(0x20), start + s - 1), neighbour_news::taken);
    link_peer p;
    EXPECT_EQ(find(bob, start + neighbours::default_reachable_ns, p), neighbour_state::stale);
    ASSERT_EQ(table->heard(bob, peer(0x20), start + s), neighbour_news::taken);
    EXPECT_EQ(find(bob, start + neighbours::default_reachable_ns, p), neighbour_state::fresh);
}

TEST_F(Neighbours, IntroductionDoesNotKeepAnEntryAlive) {
    ASSERT_EQ(table->heard(bob, peer(0x20), start), neighbour_news::taken);
    ASSERT_EQ(table->introduced(bob, peer(0x20), start + 29 * s), neighbour_news::taken);
    link_peer p;
    EXPECT_EQ(find(bob, start + 31 * s, p), neighbour_state::stale);
}

TEST_F(Neighbours, AgesFromFreshToStaleToForgotten) {
    ASSERT_EQ(table->heard(bob, peer(0x20), start), neighbour_news::taken);
    const std::uint64_t reachable = neighbours::default_reachable_ns;
    link_peer p;
    EXPECT_EQ(find(bob, start + reachable - 1, p), neighbour_state::fresh);
    EXPECT_EQ(find(bob, start + reachable, p), neighbour_state::stale);
    EXPECT_EQ(p, peer(0x20));
    EXPECT_EQ(find(bob, start + reachable + neighbours::probe_ns - 1, p), neighbour_state::stale);
    EXPECT_EQ(find(bob, start + reachable + neighbours::probe_ns, p), neighbour_state::none);
    // Forgotten: anyone may be taken for it again (here through our question).
    ASSERT_TRUE(table->should_ask(bob, start + reachable + neighbours::probe_ns));
    EXPECT_EQ(table->answered(bob, peer(0x21), start + reachable + neighbours::probe_ns + 1), neighbour_news::taken);
    EXPECT_EQ(find(bob, start + reachable + neighbours::probe_ns + 2, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x21));
}

TEST_F(Neighbours, StaleEntryIsReaskedAndTheAnswerCorrectsIt) {
    ASSERT_EQ(table->heard(bob, peer(0x20), start), neighbour_news::taken);
    const std::uint64_t later = start + neighbours::default_reachable_ns + s;
    link_peer p;
    ASSERT_EQ(find(bob, later, p), neighbour_state::stale);
    ASSERT_TRUE(table->should_ask(bob, later));
    // bob moved to another NIC: his answer is the one we asked for.
    EXPECT_EQ(table->answered(bob, peer(0x21), later + 1), neighbour_news::taken);
    EXPECT_EQ(find(bob, later + 2, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x21));
}

TEST_F(Neighbours, ReachableTimeIsConfigurable) {
    auto quick = std::make_unique<neighbours>(s);  // 1 s
    ASSERT_EQ(quick->heard(bob, peer(0x20), start), neighbour_news::taken);
    link_peer p;
    EXPECT_EQ(quick->find(bob, p, start + s - 1), neighbour_state::fresh);
    EXPECT_EQ(quick->find(bob, p, start + s), neighbour_state::stale);
}

TEST_F(Neighbours, LiveNeighboursAreNotEvictedByOthers) {
    ASSERT_EQ(table->heard(bob, peer(0x20), start), neighbour_news::taken);
    // Many more addresses heard than the table holds (every bucket fills): bob stays where he is.
    const net_address base = ip("10.0.0.0");
    unsigned refused = 0;
    for (unsigned i = 0; i < 20'000; ++i) {
        net_address a = base;
        a.ip[1] = static_cast<std::uint8_t>(i >> 16);
        a.ip[2] = static_cast<std::uint8_t>(i >> 8);
        a.ip[3] = static_cast<std::uint8_t>(i);
        const neighbour_news n = table->heard(a, peer(0x30), start + 1);
        EXPECT_TRUE(n == neighbour_news::taken || n == neighbour_news::no_room);
        refused += n == neighbour_news::no_room ? 1u : 0u;
    }
    EXPECT_GT(refused, 20'000u - 4096u - 1u);
    link_peer p;
    EXPECT_EQ(find(bob, start + 2, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x20));
}

TEST_F(Neighbours, IPv6AndIPv4AreApart) {
    const net_address v6 = ip("2001:db8::20");
    ASSERT_EQ(table->heard(v6, peer(0x60), start), neighbour_news::taken);
    ASSERT_EQ(table->heard(bob, peer(0x20), start), neighbour_news::taken);
    link_peer p;
    EXPECT_EQ(find(v6, start + 1, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x60));
    net_address with_port = bob;
    with_port.port = 5062;  // the port is no part of where a neighbour is
    EXPECT_EQ(find(with_port, start + 1, p), neighbour_state::fresh);
    EXPECT_EQ(p, peer(0x20));
}

} // namespace
