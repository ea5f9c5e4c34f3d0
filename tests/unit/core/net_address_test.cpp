// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/net_address.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sipfast::core {
namespace {

// parse_ip and format_host do IPv4 by hand (they run per message); they must agree with libc.
TEST(NetAddress, Ipv4AgreesWithInetPtonAndNtop) {
    std::mt19937 rng(7);
    for (int i = 0; i < 20000; ++i) {
        std::array<std::uint8_t, 4> b{};
        for (auto& x : b) x = static_cast<std::uint8_t>(i < 256 ? i : static_cast<int>(rng() & 0xff));
        char text[INET_ADDRSTRLEN];
        ASSERT_NE(inet_ntop(AF_INET, b.data(), text, sizeof text), nullptr);
        net_address a;
        a.port = 5060;
        ASSERT_TRUE(parse_ip(text, a)) << text;
        EXPECT_EQ(a.family, 4);
        EXPECT_EQ(a.port, 5060) << "the port is left alone";
        EXPECT_TRUE(std::equal(b.begin(), b.end(), a.ip.begin())) << text;
        std::array<char, 48> out{};
        EXPECT_EQ(format_host(a, out), std::string_view(text));
    }
    for (const char* bad : {"", "1.2.3", "1.2.3.4.", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1..3.4",
                            "1.2.3.4 ", " 1.2.3.4", "1.2.3.a", "1234.1.1.1", "example.com", "[1.2.3.4", "1.2.3.-4"}) {
        net_address a;
        std::array<std::uint8_t, 16> sink{};
        EXPECT_EQ(parse_ip(bad, a), inet_pton(AF_INET, bad, sink.data()) == 1) << bad;
        EXPECT_FALSE(parse_ip(bad, a)) << bad;
    }
    net_address a;
    EXPECT_TRUE(parse_ip("0.0.0.0", a));
    EXPECT_TRUE(parse_ip("[2001:db8::1]", a));
    EXPECT_EQ(a.family, 6);
    std::array<char, 48> out{};
    EXPECT_EQ(format_host(a, out), "[2001:db8::1]");
    std::array<char, 8> small{};
    EXPECT_EQ(format_host(a, small), "") << "too small: nothing written";
}

// parse_ip tries IPv4 before it looks for a colon; on digits, dots, colons and letters in any
// order it still says what inet_pton says.
TEST(NetAddress, AgreesWithInetPtonOnNearAddresses) {
    std::mt19937 rng(11);
    const char* const octets[] = {"0", "00", "1", "9", "10", "99", "100", "199", "255", "256", "010", "1234", ""};
    for (int i = 0; i < 50000; ++i) {
        std::string text;
        if (i % 2 == 0) {
            for (int k = 0; k < 4; ++k) text += std::string(k ? "." : "") + octets[rng() % std::size(octets)];
            if (rng() % 4 == 0) text += ".:5a"[rng() % 4];
        } else {
            for (std::size_t n = rng() % 18; n > 0; --n) text += "0123456789...::af"[rng() % 17];
        }
        std::array<std::uint8_t, 16> want{};
        const bool v4 = inet_pton(AF_INET, text.c_str(), want.data()) == 1;
        const bool v6 = !v4 && inet_pton(AF_INET6, text.c_str(), want.data()) == 1;
        net_address a;
        ASSERT_EQ(parse_ip(text, a), v4 || v6) << text;
        if (!v4 && !v6) continue;
        EXPECT_EQ(a.family, v4 ? 4 : 6) << text;
        EXPECT_EQ(a.ip, want) << text;
    }
}

// IPv4 is written a word per octet when 16 bytes are free, and byte by byte when fewer are.
TEST(NetAddress, FormatHostFitsTheLongestIpv4InFifteenBytes) {
    net_address a;
    ASSERT_TRUE(parse_ip("255.255.255.255", a));
    std::array<char, 16> wide{};
    std::array<char, 15> exact{};
    std::array<char, 14> short_by_one{};
    EXPECT_EQ(format_host(a, wide), "255.255.255.255");
    EXPECT_EQ(format_host(a, exact), "255.255.255.255");
    EXPECT_EQ(format_host(a, short_by_one), "");
}

// same_subnet masks whole words; bit by bit, as the prefix reads, it agrees at every length.
TEST(NetAddress, SameSubnetAgreesBitByBitAtEveryPrefix) {
    std::mt19937 rng(5);
    const auto bit = [](const net_address& x, unsigned i) { return (x.ip[i / 8] >> (7 - i % 8)) & 1; };
    for (int round = 0; round < 400; ++round) {
        net_address a, b;
        a.family = b.family = round % 2 == 0 ? 4 : 6;
        const unsigned bits = a.family == 4 ? 32 : 128;
        for (unsigned i = 0; i < bits / 8; ++i) a.ip[i] = static_cast<std::uint8_t>(rng());
        b = a;
        const unsigned flip = static_cast<unsigned>(rng() % bits);  // the first bit that differs
        b.ip[flip / 8] = static_cast<std::uint8_t>(b.ip[flip / 8] ^ (0x80 >> (flip % 8)));
        for (unsigned i = flip + 1; i < bits; ++i)
            if (rng() % 2) b.ip[i / 8] = static_cast<std::uint8_t>(b.ip[i / 8] ^ (0x80 >> (i % 8)));
        for (unsigned prefix = 0; prefix <= bits + 1; ++prefix) {
            bool want = true;
            for (unsigned i = 0; i < prefix && i < bits; ++i) want = want && bit(a, i) == bit(b, i);
            ASSERT_EQ(same_subnet(a, b, prefix), want) << "family " << int{a.family} << " prefix " << prefix << " flip " << flip;
        }
    }
}

TEST(NetAddress, SameSubnet) {
    net_address a, b, c;
    ASSERT_TRUE(parse_ip("198.18.0.2", a));
    ASSERT_TRUE(parse_ip("198.18.0.254", b));
    ASSERT_TRUE(parse_ip("198.19.0.2", c));
    EXPECT_TRUE(same_subnet(a, b, 24));
    EXPECT_FALSE(same_subnet(a, b, 25));
    EXPECT_TRUE(same_subnet(a, c, 15));
    EXPECT_FALSE(same_subnet(a, c, 16));
    EXPECT_TRUE(same_subnet(a, c, 0));
    net_address v6;
    ASSERT_TRUE(parse_ip("2001:db8::2", v6));
    EXPECT_FALSE(same_subnet(a, v6, 0)) << "families differ";
}

} // namespace
} // namespace sipfast::core
