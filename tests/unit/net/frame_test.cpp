// SPDX-License-Identifier: Apache-2.0
#include "sipfast/net/frame.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string_view>
#include <vector>

namespace sipfast::net {
namespace {

proxy::net_address addr(std::string_view text) {
    proxy::net_address a;
    EXPECT_TRUE(proxy::parse_ip_port(text, 5060, a, true)) << text;
    return a;
}

const mac_address ours{0x02, 0, 0, 0, 0, 1}, theirs{0x02, 0, 0, 0, 0, 2};

TEST(Frame, ChecksumOfRfc1071Example) {
    const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(checksum_add(data), 0x2ddf0u);                 // the example's sum before folding
    EXPECT_EQ(checksum_fold(checksum_add(data)), 0x220du);   // ~0xddf2
}

TEST(Frame, UdpRoundTripsOverIpv4AndIpv6) {
    const std::string_view sip = "OPTIONS sip:x@198.18.0.1 SIP/2.0\r\n\r\n";
    for (auto [from, to] : {std::pair{addr("198.18.0.9:5070"), addr("198.18.0.1:5060")},
                            std::pair{addr("[2001:db8::9]:5070"), addr("[2001:db8::1]:5060")}}) {
        std::vector<std::uint8_t> buf(1500);
        const std::size_t n = encode_udp(buf, theirs, ours, from, to, {sip.data(), sip.size()}, 7);
        ASSERT_GT(n, 0u);
        const decoded_frame d = decode({buf.data(), n});
        ASSERT_EQ(d.kind, frame_kind::udp);
        EXPECT_EQ(d.src, from);
        EXPECT_EQ(d.dst, to);
        EXPECT_EQ(d.src_mac, theirs);
        EXPECT_EQ(d.dst_mac, ours);
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(d.payload.data()), d.payload.size()), sip);
        // The UDP checksum verifies: the sum over pseudo-header and datagram folds to zero.
        const std::size_t ip_len = from.family == 4 ? 20 : 40;
        const std::size_t udp_len = n - 14 - ip_len;
        std::uint32_t sum = checksum_add({from.ip.data(), from.family == 4 ? 4u : 16u});
        sum = checksum_add({to.ip.data(), to.family == 4 ? 4u : 16u}, sum);
        sum += 17 + static_cast<std::uint32_t>(udp_len);
        EXPECT_EQ(checksum_fold(checksum_add({buf.data() + 14 + ip_len, udp_len}, sum)), 0u);
    }
}

TEST(Frame, FaultsAreNamedNotTrusted) {
    std::vector<std::uint8_t> buf(1500);
    const char payload[] = "x";
    const std::size_t n = encode_udp(buf, theirs, ours, addr("198.18.0.9:5070"), addr("198.18.0.1:5060"), {payload, 1}, 1);
    EXPECT_EQ(decode({buf.data(), 13}).kind, frame_kind::truncated);
    EXPECT_EQ(decode({buf.data(), n - 1}).kind, frame_kind::truncated);  // shorter than IPv4 total length
    std::vector<std::uint8_t> bad(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    bad[14 + 8] ^= 1;  // TTL changed, checksum not
    EXPECT_EQ(decode(bad).kind, frame_kind::bad_checksum);
    std::vector<std::uint8_t> frag(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    frag[14 + 6] = 0x20;  // more fragments
    frag[14 + 10] = frag[14 + 11] = 0;
    const std::uint16_t c = checksum_fold(checksum_add({frag.data() + 14, 20}));
    frag[14 + 10] = static_cast<std::uint8_t>(c >> 8);
    frag[14 + 11] = static_cast<std::uint8_t>(c);
    EXPECT_EQ(decode(frag).kind, frame_kind::fragment);
}

TEST(Frame, ArpRequestForUsIsAnswered) {
    // who-has 198.18.0.1 tell 198.18.0.9
    const std::uint8_t req[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, 0x08, 0x06,
                                0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 2, 198, 18, 0, 9,
                                0, 0, 0, 0, 0, 0, 198, 18, 0, 1};
    const decoded_frame d = decode(req);
    ASSERT_EQ(d.kind, frame_kind::arp_request);
    EXPECT_EQ(d.dst, addr("198.18.0.1:0"));
    std::vector<std::uint8_t> out(64);
    const std::size_t n = encode_arp_reply(out, ours, d);
    ASSERT_EQ(n, 42u);
    const decoded_frame r = decode({out.data(), n});
    ASSERT_EQ(r.kind, frame_kind::arp_reply);
    EXPECT_EQ(r.src_mac, ours);
    EXPECT_EQ(r.src.family, 4);
    EXPECT_EQ(r.dst_mac, theirs);
    // And asking for a neighbour we do not know yet.
    const std::size_t q = encode_arp_request(out, ours, addr("198.18.0.1:0"), addr("198.18.0.20:0"));
    ASSERT_EQ(q, 42u);
    const decoded_frame ask = decode({out.data(), q});
    ASSERT_EQ(ask.kind, frame_kind::arp_request);
    EXPECT_EQ(ask.dst, addr("198.18.0.20:0"));
    EXPECT_EQ(ask.src, addr("198.18.0.1:0"));
}

TEST(Frame, NeighborSolicitationIsAdvertised) {
    std::vector<std::uint8_t> ns(14 + 40 + 24, 0);
    ns[12] = 0x86, ns[13] = 0xdd;
    std::memcpy(ns.data() + 6, theirs.data(), 6);
    ns[14] = 0x60;
    ns[14 + 5] = 24;
    ns[14 + 6] = 58;
    ns[14 + 7] = 255;
    const auto them = addr("[2001:db8::9]:0"), us = addr("[2001:db8::1]:0");
    std::memcpy(ns.data() + 14 + 8, them.ip.data(), 16);
    std::memcpy(ns.data() + 14 + 24, us.ip.data(), 16);
    ns[54] = 135;
    std::memcpy(ns.data() + 54 + 8, us.ip.data(), 16);
    const decoded_frame d = decode(ns);
    ASSERT_EQ(d.kind, frame_kind::neighbor_solicitation);
    std::vector<std::uint8_t> out(128);
    const std::size_t n = encode_neighbor_advertisement(out, ours, d);
    ASSERT_EQ(n, 14u + 40 + 32);
    EXPECT_EQ(out[54], 136);
    EXPECT_EQ(std::memcmp(out.data() + 14 + 8, us.ip.data(), 16), 0);  // from the target address
    // ICMPv6 checksum verifies over the pseudo-header.
    std::uint32_t sum = checksum_add({us.ip.data(), 16});
    sum = checksum_add({them.ip.data(), 16}, sum);
    sum += 58 + 32;
    EXPECT_EQ(checksum_fold(checksum_add({out.data() + 54, 32}, sum)), 0u);
}

TEST(Frame, AnyByteSequenceDecodesWithoutReadingPastIt) {
    std::mt19937 rng(11);
    std::vector<std::uint8_t> buf(1600);
    std::size_t udp = 0;
    for (int i = 0; i < 200'000; ++i) {
        const std::size_t n = rng() % buf.size();
        for (std::size_t k = 0; k < n; ++k) buf[k] = static_cast<std::uint8_t>(rng());
        if (n > 14 && rng() % 2) buf[12] = 0x08, buf[13] = rng() % 3 ? 0x00 : 0x06;  // steer to IPv4/ARP
        if (n > 34 && rng() % 2) buf[14] = 0x45;
        std::vector<std::uint8_t> exact(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));  // ASan sees the end
        const decoded_frame d = decode(exact);
        if (d.kind == frame_kind::udp) {
            ++udp;
            EXPECT_GE(d.payload.data(), exact.data());
            EXPECT_LE(d.payload.data() + d.payload.size(), exact.data() + exact.size());
        }
    }
    (void)udp;
}

} // namespace
} // namespace sipfast::net
