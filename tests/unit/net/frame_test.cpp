// SPDX-License-Identifier: Apache-2.0
#include "sipfast/net/frame.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <random>
#include <string_view>
#include <vector>

namespace sipfast::net {
namespace {

core::net_address addr(std::string_view text) {
    core::net_address a;
    EXPECT_TRUE(core::parse_ip_port(text, 5060, a, true)) << text;
    return a;
}

const mac_address ours{0x02, 0, 0, 0, 0, 1}, theirs{0x02, 0, 0, 0, 0, 2};

std::size_t ip_bytes(const core::net_address& a) { return a.family == 4 ? 4u : 16u; }

// The RFC 768 / RFC 8200 §8.1 pseudo-header sum, written out here rather than taken from the library.
std::uint32_t pseudo(const core::net_address& from, const core::net_address& to, std::uint8_t proto, std::size_t len) {
    std::uint32_t sum = checksum_add({from.ip.data(), ip_bytes(from)});
    sum = checksum_add({to.ip.data(), ip_bytes(to)}, sum);
    return sum + proto + static_cast<std::uint32_t>(len >> 16) + static_cast<std::uint32_t>(len & 0xffff);
}

// Whether the L4 checksum of `l4` (UDP datagram or ICMPv6 message) verifies: the sum folds to zero.
bool l4_verifies(const core::net_address& from, const core::net_address& to, std::uint8_t proto,
                 std::span<const std::uint8_t> l4) {
    return checksum_fold(checksum_add(l4, pseudo(from, to, proto, l4.size()))) == 0;
}

std::uint16_t be16_at(std::span<const std::uint8_t> f, std::size_t at) {
    return static_cast<std::uint16_t>(f[at] << 8 | f[at + 1]);
}

std::vector<char> pattern(std::size_t n) {
    std::vector<char> p(n);
    for (std::size_t i = 0; i < n; ++i) p[i] = static_cast<char>(i * 7 + i / 251);
    return p;
}

// An Ethernet + IPv6 + ICMPv6 NS (135) or NA (136) frame for `target` with `options` after the
// 24-byte message, checksum set; `hop_limit` and `vlan` as given.
std::vector<std::uint8_t> nd_frame(std::uint8_t type, const core::net_address& from, const core::net_address& to,
                                   const core::net_address& target, std::vector<std::uint8_t> options,
                                   std::uint8_t hop_limit = 255, std::uint16_t vlan = 0) {
    const std::size_t l2 = vlan != 0 ? 18 : 14, icmp_len = 24 + options.size();
    std::vector<std::uint8_t> f(l2 + 40 + icmp_len, 0);
    std::memcpy(f.data(), ours.data(), 6);
    std::memcpy(f.data() + 6, theirs.data(), 6);
    if (vlan != 0) f[12] = 0x81, f[14] = static_cast<std::uint8_t>(vlan >> 8), f[15] = static_cast<std::uint8_t>(vlan);
    f[l2 - 2] = 0x86, f[l2 - 1] = 0xdd;
    std::uint8_t* ip = f.data() + l2;
    ip[0] = 0x60;
    ip[5] = static_cast<std::uint8_t>(icmp_len);
    ip[6] = 58;
    ip[7] = hop_limit;
    std::memcpy(ip + 8, from.ip.data(), 16);
    std::memcpy(ip + 24, to.ip.data(), 16);
    std::uint8_t* icmp = ip + 40;
    icmp[0] = type;
    if (type == 136) icmp[4] = 0x60;
    std::memcpy(icmp + 8, target.ip.data(), 16);
    std::copy(options.begin(), options.end(), icmp + 24);
    const std::uint16_t c = checksum_fold(checksum_add({icmp, icmp_len}, pseudo(from, to, 58, icmp_len)));
    icmp[2] = static_cast<std::uint8_t>(c >> 8);
    icmp[3] = static_cast<std::uint8_t>(c);
    return f;
}

TEST(Frame, ChecksumOfRfc1071Example) {
    const std::uint8_t data[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    EXPECT_EQ(checksum_add(data) % 0xffff, 0x2ddf0u % 0xffff);  // the example's sum, folded or not
    EXPECT_EQ(checksum_fold(checksum_add(data)), 0x220du);      // ~0xddf2
}

TEST(Frame, ChecksumAgreesWithTheWordByWordSum) {
    // checksum_add sums eight bytes at a time; RFC 1071's 16-bit loop is the reference, over every
    // length, alignment and starting sum, and over all-0xff data (the carries out of 64 bits).
    const auto reference = [](const std::uint8_t* p, std::size_t n, std::uint32_t sum) {
        std::size_t i = 0;
        for (; i + 1 < n; i += 2) sum += static_cast<std::uint32_t>(p[i] << 8 | p[i + 1]);
        if (i < n) sum += static_cast<std::uint32_t>(p[i]) << 8;
        return sum;
    };
    std::mt19937 rng(1071);
    std::vector<std::uint8_t> buf(4200);
    for (int round = 0; round < 3000; ++round) {
        const bool ones = round % 10 == 0;
        for (auto& b : buf) b = ones ? 0xff : static_cast<std::uint8_t>(rng());
        const std::size_t at = rng() % 8, n = round < 64 ? static_cast<std::size_t>(round) : rng() % (buf.size() - 8);
        const std::uint32_t initial = rng() % 0x40000;
        const std::uint32_t want = reference(buf.data() + at, n, initial);
        const std::uint32_t got = checksum_add({buf.data() + at, n}, initial);
        ASSERT_EQ(checksum_fold(got), checksum_fold(want)) << "length " << n << " at " << at;
    }
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
        EXPECT_EQ(d.vlan, 0);
        EXPECT_EQ(d.l3_offset, 14);
        EXPECT_EQ(d.l4_offset, from.family == 4 ? 34 : 54);
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
    const auto them = addr("[2001:db8::9]:0"), us = addr("[2001:db8::1]:0");
    const std::vector<std::uint8_t> ns = nd_frame(135, them, us, us, {});
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
    EXPECT_EQ(out[14 + 7], 255);  // RFC 4861 §7.1.2 hop limit
    EXPECT_EQ(out[54 + 24], 2);   // target link-layer address option, ours
    EXPECT_EQ(std::memcmp(out.data() + 54 + 26, ours.data(), 6), 0);
}

TEST(Frame, NeighborDiscoveryIsValidatedAsRfc4861Asks) {
    const auto them = addr("[2001:db8::9]:0"), us = addr("[2001:db8::1]:0");
    for (std::uint8_t type : {std::uint8_t{135}, std::uint8_t{136}}) {
        EXPECT_EQ(decode(nd_frame(type, them, us, us, {}, 64)).kind, frame_kind::other) << "hop limit, off-link";
        std::vector<std::uint8_t> bad = nd_frame(type, them, us, us, {});
        bad[54 + 8 + 15] ^= 1;  // target changed, checksum not
        EXPECT_EQ(decode(bad).kind, frame_kind::bad_checksum);
        EXPECT_EQ(decode(nd_frame(type, them, us, us, {1, 0, 0, 0, 0, 0, 0, 0})).kind, frame_kind::other) << "zero-length option";
        EXPECT_EQ(decode(nd_frame(type, them, us, us, {1, 2, 0, 0, 0, 0, 0, 0})).kind, frame_kind::other) << "option overruns";
        EXPECT_EQ(decode(nd_frame(type, them, us, addr("[ff02::1]:0"), {})).kind, frame_kind::other) << "multicast target";
        std::vector<std::uint8_t> code = nd_frame(type, them, us, us, {});
        code[54 + 1] = 1;
        code[54 + 2] = code[54 + 3] = 0;
        const std::uint16_t c = checksum_fold(checksum_add({code.data() + 54, 24}, pseudo(them, us, 58, 24)));
        code[54 + 2] = static_cast<std::uint8_t>(c >> 8), code[54 + 3] = static_cast<std::uint8_t>(c);
        EXPECT_EQ(decode(code).kind, frame_kind::other) << "code 1";
        const std::vector<std::uint8_t> ok = nd_frame(type, them, us, us, {});
        EXPECT_EQ(decode({ok.data(), ok.size() - 1}).kind, frame_kind::truncated);
    }
}

TEST(Frame, NeighborAdvertisementTeachesTheNeighbour) {
    const auto them = addr("[2001:db8::9]:0"), us = addr("[2001:db8::1]:0"), target = addr("[2001:db8::77]:0");
    const mac_address advertised{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
    // A nonce option (type 14, RFC 3971) first, then the Target Link-Layer Address option.
    const decoded_frame d = decode(nd_frame(136, them, us, target,
                                            {14, 1, 1, 2, 3, 4, 5, 6, 2, 1, 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee}));
    ASSERT_EQ(d.kind, frame_kind::neighbor_advertisement);
    EXPECT_EQ(d.src, target);  // what is advertised, not who sent it
    EXPECT_EQ(d.src_mac, advertised);
    EXPECT_EQ(d.dst, us);
    // Without the option the Ethernet source speaks for the target.
    const decoded_frame bare = decode(nd_frame(136, them, us, target, {}));
    ASSERT_EQ(bare.kind, frame_kind::neighbor_advertisement);
    EXPECT_EQ(bare.src, target);
    EXPECT_EQ(bare.src_mac, theirs);
    // Ours, decoded: what answering a solicitation teaches the asker.
    std::vector<std::uint8_t> out(128);
    const std::size_t n = encode_neighbor_advertisement(out, ours, decode(nd_frame(135, them, us, us, {})));
    ASSERT_GT(n, 0u);
    const decoded_frame back = decode({out.data(), n});
    ASSERT_EQ(back.kind, frame_kind::neighbor_advertisement);
    EXPECT_EQ(back.src, us);
    EXPECT_EQ(back.src_mac, ours);
}

TEST(Frame, NeighborSolicitationGoesToTheSolicitedNodeAddress) {
    const auto us = addr("[2001:db8::1]:0"), target = addr("[2001:db8::12:3456]:0");
    for (std::uint16_t vlan : {std::uint16_t{0}, std::uint16_t{0x0064}}) {
        std::vector<std::uint8_t> buf(200, 0xa5);
        const std::size_t n = encode_neighbor_solicitation(buf, ours, us, target, vlan);
        const std::size_t l2 = vlan != 0 ? 18 : 14;
        ASSERT_EQ(n, l2 + 40 + 32);
        EXPECT_EQ(buf[n], 0xa5);  // nothing written past the frame
        const std::vector<std::uint8_t> f(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        const mac_address to_mac{0x33, 0x33, 0xff, 0x12, 0x34, 0x56};
        EXPECT_TRUE(std::equal(to_mac.begin(), to_mac.end(), f.begin()));
        EXPECT_TRUE(std::equal(ours.begin(), ours.end(), f.begin() + 6));
        if (vlan != 0) {
            EXPECT_EQ(be16_at(f, 12), 0x8100);
            EXPECT_EQ(be16_at(f, 14), vlan);
        }
        EXPECT_EQ(be16_at(f, l2 - 2), 0x86dd);
        const std::uint8_t* ip = f.data() + l2;
        EXPECT_EQ(ip[6], 58);
        EXPECT_EQ(ip[7], 255);
        EXPECT_EQ(be16_at(f, l2 + 4), 32);
        const core::net_address solicited = addr("[ff02::1:ff12:3456]:0");
        EXPECT_EQ(std::memcmp(ip + 8, us.ip.data(), 16), 0);
        EXPECT_EQ(std::memcmp(ip + 24, solicited.ip.data(), 16), 0);
        const std::uint8_t* icmp = ip + 40;
        EXPECT_EQ(icmp[0], 135);
        EXPECT_EQ(icmp[1], 0);
        EXPECT_EQ(std::memcmp(icmp + 8, target.ip.data(), 16), 0);
        EXPECT_EQ(icmp[24], 1);  // source link-layer address option
        EXPECT_EQ(icmp[25], 1);
        EXPECT_EQ(std::memcmp(icmp + 26, ours.data(), 6), 0);
        EXPECT_TRUE(l4_verifies(us, solicited, 58, {icmp, 32}));
        const decoded_frame d = decode(f);
        ASSERT_EQ(d.kind, frame_kind::neighbor_solicitation);
        EXPECT_EQ(d.dst, target);
        EXPECT_EQ(d.vlan, vlan);
    }
    std::vector<std::uint8_t> small(14 + 40 + 31);
    EXPECT_EQ(encode_neighbor_solicitation(small, ours, us, target), 0u);
    std::vector<std::uint8_t> buf(200);
    EXPECT_EQ(encode_neighbor_solicitation(buf, ours, addr("198.18.0.1:0"), target), 0u);
    EXPECT_EQ(encode_neighbor_solicitation(buf, ours, us, addr("198.18.0.1:0")), 0u);
}

TEST(Frame, TaggedUdpRoundTrips) {
    const std::string_view sip = "OPTIONS sip:x@198.18.0.1 SIP/2.0\r\n\r\n";
    const std::uint16_t tci = 0x2064;  // PCP 1, VID 100
    for (auto [from, to] : {std::pair{addr("198.18.0.9:5070"), addr("198.18.0.1:5060")},
                            std::pair{addr("[2001:db8::9]:5070"), addr("[2001:db8::1]:5060")}}) {
        std::vector<std::uint8_t> buf(1500);
        const std::size_t n = encode_udp(buf, l2_header{theirs, ours, tci}, from, to, {sip.data(), sip.size()}, 7);
        const std::size_t ip_len = from.family == 4 ? 20 : 40;
        ASSERT_EQ(n, 18 + ip_len + 8 + sip.size());
        const std::vector<std::uint8_t> f(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        EXPECT_EQ(be16_at(f, 12), 0x8100);
        EXPECT_EQ(be16_at(f, 14), tci);
        EXPECT_EQ(be16_at(f, 16), from.family == 4 ? 0x0800 : 0x86dd);
        const decoded_frame d = decode(f);
        ASSERT_EQ(d.kind, frame_kind::udp);
        EXPECT_EQ(d.vlan, tci);
        EXPECT_EQ(d.l3_offset, 18);
        EXPECT_EQ(d.l4_offset, 18 + ip_len);
        EXPECT_EQ(d.src, from);
        EXPECT_EQ(d.dst, to);
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(d.payload.data()), d.payload.size()), sip);
        EXPECT_TRUE(l4_verifies(from, to, 17, {f.data() + 18 + ip_len, n - 18 - ip_len}));
        // Untagged, the general encoder writes what the old one does.
        std::vector<std::uint8_t> old_way(1500), new_way(1500);
        const std::size_t a = encode_udp(old_way, theirs, ours, from, to, {sip.data(), sip.size()}, 7);
        const std::size_t b = encode_udp(new_way, l2_header{theirs, ours, 0}, from, to, {sip.data(), sip.size()}, 7);
        ASSERT_EQ(a, b);
        EXPECT_EQ(old_way, new_way);
        std::vector<std::uint8_t> tight(n - 1);
        EXPECT_EQ(encode_udp(tight, l2_header{theirs, ours, tci}, from, to, {sip.data(), sip.size()}, 7), 0u);
    }
}

TEST(Frame, TaggedRequestsAreAnsweredWithTheirTag) {
    // who-has 198.18.0.1 tell 198.18.0.9, on VLAN 7 with priority 5
    const std::uint8_t req[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 2, 0x81, 0x00, 0xa0, 0x07,
                                0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1, 0x02, 0, 0, 0, 0, 2, 198, 18, 0, 9,
                                0, 0, 0, 0, 0, 0, 198, 18, 0, 1};
    const decoded_frame d = decode(req);
    ASSERT_EQ(d.kind, frame_kind::arp_request);
    EXPECT_EQ(d.vlan, 0xa007);
    EXPECT_EQ(d.l3_offset, 18);
    std::vector<std::uint8_t> out(64);
    const std::size_t n = encode_arp_reply(out, ours, d);
    ASSERT_EQ(n, 46u);
    EXPECT_EQ(be16_at(out, 12), 0x8100);
    EXPECT_EQ(be16_at(out, 14), 0xa007);
    const decoded_frame r = decode({out.data(), n});
    ASSERT_EQ(r.kind, frame_kind::arp_reply);
    EXPECT_EQ(r.vlan, 0xa007);
    EXPECT_EQ(r.src, addr("198.18.0.1:0"));
    EXPECT_EQ(r.dst, addr("198.18.0.9:0"));
    EXPECT_EQ(r.dst_mac, theirs);
    const std::size_t q = encode_arp_request(out, ours, addr("198.18.0.1:0"), addr("198.18.0.20:0"), 7);
    ASSERT_EQ(q, 46u);
    const decoded_frame ask = decode({out.data(), q});
    ASSERT_EQ(ask.kind, frame_kind::arp_request);
    EXPECT_EQ(ask.vlan, 7);
    EXPECT_EQ(ask.dst, addr("198.18.0.20:0"));
    std::vector<std::uint8_t> short_out(45);
    EXPECT_EQ(encode_arp_reply(short_out, ours, d), 0u);
    // A tagged solicitation gets a tagged advertisement.
    const auto them = addr("[2001:db8::9]:0"), us = addr("[2001:db8::1]:0");
    const decoded_frame ns = decode(nd_frame(135, them, us, us, {}, 255, 0x0123));
    ASSERT_EQ(ns.kind, frame_kind::neighbor_solicitation);
    EXPECT_EQ(ns.vlan, 0x0123);
    std::vector<std::uint8_t> na(128);
    const std::size_t m = encode_neighbor_advertisement(na, ours, ns);
    ASSERT_EQ(m, 18u + 40 + 32);
    EXPECT_EQ(be16_at(na, 12), 0x8100);
    EXPECT_EQ(be16_at(na, 14), 0x0123);
    const decoded_frame adv = decode({na.data(), m});
    ASSERT_EQ(adv.kind, frame_kind::neighbor_advertisement);
    EXPECT_EQ(adv.vlan, 0x0123);
    EXPECT_EQ(adv.src, us);
    EXPECT_EQ(adv.dst, them);
}

TEST(Frame, ZeroUdpChecksumIsSentAsAllOnes) {
    // A two-byte payload equal to the checksum of the same datagram with zeros there makes the sum
    // 0xffff, whose complement 0 would mean "no checksum" (RFC 768; RFC 8200 §8.1 forbids it).
    for (auto [from, to] : {std::pair{addr("198.18.0.9:5070"), addr("198.18.0.1:5060")},
                            std::pair{addr("[2001:db8::9]:5070"), addr("[2001:db8::1]:5060")}}) {
        const std::size_t udp_at = 14 + (from.family == 4 ? 20 : 40);
        std::vector<std::uint8_t> buf(128);
        const char zeros[2] = {0, 0};
        ASSERT_GT(encode_udp(buf, theirs, ours, from, to, zeros, 1), 0u);
        const char payload[2] = {static_cast<char>(buf[udp_at + 6]), static_cast<char>(buf[udp_at + 7])};
        const std::size_t n = encode_udp(buf, theirs, ours, from, to, payload, 1);
        ASSERT_GT(n, 0u);
        EXPECT_EQ(be16_at(buf, udp_at + 6), 0xffff);
        EXPECT_TRUE(l4_verifies(from, to, 17, {buf.data() + udp_at, n - udp_at}));
    }
}

// What DPDK's rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum leave in the UDP checksum field, done their
// way: the pseudo-header as a struct in network order, summed as native 16-bit words, folded twice,
// not complemented, stored as is.
std::array<std::uint8_t, 2> dpdk_phdr_cksum(const core::net_address& from, const core::net_address& to,
                                            std::uint16_t l4_len) {
    std::vector<std::uint8_t> psd;
    psd.insert(psd.end(), from.ip.begin(), from.ip.begin() + static_cast<std::ptrdiff_t>(ip_bytes(from)));
    psd.insert(psd.end(), to.ip.begin(), to.ip.begin() + static_cast<std::ptrdiff_t>(ip_bytes(to)));
    const auto hi = static_cast<std::uint8_t>(l4_len >> 8), lo = static_cast<std::uint8_t>(l4_len);
    if (from.family == 4) psd.insert(psd.end(), {0, 17, hi, lo});                // zero, proto, be16 len
    else psd.insert(psd.end(), {0, 0, hi, lo, 0, 0, 0, 17});                     // be32 len, be32 proto
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < psd.size(); i += 2) {
        std::uint16_t v;
        std::memcpy(&v, psd.data() + i, 2);
        sum += v;
    }
    sum = ((sum & 0xffff0000) >> 16) + (sum & 0xffff);
    sum = ((sum & 0xffff0000) >> 16) + (sum & 0xffff);
    const auto c = static_cast<std::uint16_t>(sum);
    std::array<std::uint8_t, 2> out;
    std::memcpy(out.data(), &c, 2);
    return out;
}

TEST(Frame, OffloadLeavesTheNicWhatDpdkPromisesIt) {
    for (auto [from, to] : {std::pair{addr("198.18.0.9:5070"), addr("198.18.0.1:5060")},
                            std::pair{addr("203.0.113.250:65000"), addr("10.255.255.1:5060")},
                            std::pair{addr("[2001:db8::9]:5070"), addr("[2001:db8::1]:5060")},
                            std::pair{addr("[fe80::ffff:ffff:ffff:ffff]:5060"), addr("[ff02::1:ff00:1]:5060")}}) {
        for (std::size_t size : {0u, 1u, 37u, 1200u}) {
            const std::vector<char> payload = pattern(size);
            std::vector<std::uint8_t> soft(1600), off(1600);
            const std::size_t n = encode_udp(soft, l2_header{ours, theirs, 0}, from, to, payload, 0x1234);
            const std::size_t m = encode_udp(off, l2_header{ours, theirs, 0}, from, to, payload, 0x1234, checksums::offload);
            ASSERT_EQ(n, m);
            const std::size_t ip_len = from.family == 4 ? 20 : 40, udp_at = 14 + ip_len;
            const auto udp_len = static_cast<std::uint16_t>(n - udp_at);
            const std::array<std::uint8_t, 2> expected = dpdk_phdr_cksum(from, to, udp_len);
            EXPECT_EQ(off[udp_at + 6], expected[0]) << size;
            EXPECT_EQ(off[udp_at + 7], expected[1]) << size;
            if (from.family == 4) {
                EXPECT_EQ(be16_at(off, 14 + 10), 0) << "IPv4 header checksum left to the NIC";
            }
            // What the NIC does: sum header and payload on top of the seed, complement. That is the
            // software checksum.
            std::uint32_t sum = checksum_add({off.data() + udp_at, udp_len});
            std::uint16_t done = checksum_fold(sum);
            if (done == 0) done = 0xffff;
            EXPECT_EQ(done, be16_at(soft, udp_at + 6)) << size;
            // Everything else is the same frame.
            for (std::size_t i = 0; i < n; ++i) {
                const bool checksum = i == udp_at + 6 || i == udp_at + 7 || (from.family == 4 && (i == 24 || i == 25));
                if (!checksum) {
                    EXPECT_EQ(off[i], soft[i]) << i;
                }
            }
            const decoded_frame d = decode({soft.data(), n});
            EXPECT_EQ(d.kind, frame_kind::udp);
        }
    }
}

// Writes every frame of the datagram, checks each against RFC 791 / RFC 8200 §4.5, puts the
// datagram together again and checks it is the one sent.
void fragments_reassemble(const core::net_address& from, const core::net_address& to, std::size_t size,
                          std::size_t mtu, std::uint16_t vlan) {
    SCOPED_TRACE(testing::Message() << "IPv" << int(from.family) << " payload " << size << " mtu " << mtu << " vlan " << vlan);
    const std::vector<char> payload = pattern(size);
    const std::uint32_t id = 0x89abcdef;
    const std::size_t count = udp_frame_count(from.family, size, mtu);
    const std::size_t l2 = vlan != 0 ? 18 : 14, ip_len = from.family == 4 ? 20 : 40;
    const std::size_t udp_len = 8 + size, per_fragment = (mtu - ip_len - (from.family == 4 ? 0 : 8)) / 8 * 8;
    ASSERT_EQ(count, ip_len + udp_len <= mtu ? 1 : (udp_len + per_fragment - 1) / per_fragment);
    std::vector<std::uint8_t> datagram(udp_len);
    std::vector<bool> seen(udp_len, false);
    std::vector<std::uint8_t> buf(l2 + mtu + 64);
    for (std::size_t i = 0; i < count; ++i) {
        std::fill(buf.begin(), buf.end(), std::uint8_t{0xa5});
        const std::size_t n = encode_udp_fragment(buf, l2_header{ours, theirs, vlan}, from, to, payload, id, mtu, i);
        ASSERT_GT(n, 0u) << i;
        ASSERT_LE(n, l2 + mtu) << i;
        EXPECT_EQ(buf[n], 0xa5) << "written past the frame";
        const std::vector<std::uint8_t> f(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        const decoded_frame d = decode(f);
        EXPECT_EQ(d.src.ip, from.ip);
        EXPECT_EQ(d.dst.ip, to.ip);
        EXPECT_EQ(d.vlan, vlan);
        EXPECT_EQ(d.l3_offset, l2);
        if (count == 1) {
            ASSERT_EQ(d.kind, frame_kind::udp);
            EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(d.payload.data()), d.payload.size()),
                      std::string_view(payload.data(), payload.size()));
            EXPECT_TRUE(l4_verifies(from, to, 17, {f.data() + l2 + ip_len, udp_len}));
            if (from.family == 4) {
                EXPECT_EQ(be16_at(f, l2 + 4), id & 0xffff);
            }
            return;
        }
        ASSERT_EQ(d.kind, frame_kind::fragment) << i;  // IPv4: also proves the header checksum verifies
        std::size_t offset = 0, data_at = 0;
        bool more = false;
        if (from.family == 4) {
            EXPECT_EQ(be16_at(f, l2 + 2), n - l2) << "total length";
            EXPECT_EQ(be16_at(f, l2 + 4), id & 0xffff);
            const std::uint16_t field = be16_at(f, l2 + 6);
            EXPECT_EQ(field & 0xc000, 0) << "reserved and DF clear";
            more = (field & 0x2000) != 0;
            offset = (field & 0x1fffu) * 8;
            EXPECT_EQ(f[l2 + 9], 17);
            data_at = l2 + 20;
        } else {
            EXPECT_EQ(be16_at(f, l2 + 4), n - l2 - 40) << "payload length";
            EXPECT_EQ(f[l2 + 6], 44) << "next header: Fragment";
            const std::size_t fh = l2 + 40;
            EXPECT_EQ(f[fh], 17);
            EXPECT_EQ(f[fh + 1], 0);
            const std::uint16_t field = be16_at(f, fh + 2);
            EXPECT_EQ(field & 6, 0) << "reserved bits";
            more = (field & 1) != 0;
            offset = field & 0xfff8u;
            EXPECT_EQ(std::uint32_t(be16_at(f, fh + 4)) << 16 | be16_at(f, fh + 6), id);
            data_at = fh + 8;
        }
        EXPECT_EQ(d.l4_offset, from.family == 4 ? l2 + 20 : l2 + 40);
        const std::size_t length = n - data_at;
        EXPECT_EQ(more, i + 1 < count) << i;
        if (more) {
            EXPECT_EQ(length % 8, 0u) << i;
            EXPECT_GT(n - l2 + 8, mtu) << "a fragment that could have carried 8 bytes more";
        }
        ASSERT_LE(offset + length, udp_len) << i;
        for (std::size_t k = 0; k < length; ++k) {
            EXPECT_FALSE(seen[offset + k]) << "overlap at " << offset + k;
            seen[offset + k] = true;
            datagram[offset + k] = f[data_at + k];
        }
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](bool b) { return b; })) << "a gap";
    EXPECT_EQ(be16_at(datagram, 0), from.port);
    EXPECT_EQ(be16_at(datagram, 2), to.port);
    EXPECT_EQ(be16_at(datagram, 4), udp_len);
    EXPECT_NE(be16_at(datagram, 6), 0);
    EXPECT_TRUE(l4_verifies(from, to, 17, datagram));
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), datagram.begin() + 8,
                           [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }));
    std::vector<std::uint8_t> past(l2 + mtu);
    EXPECT_EQ(encode_udp_fragment(past, l2_header{ours, theirs, vlan}, from, to, payload, id, mtu, count), 0u);
}

TEST(Frame, LargeDatagramsAreFragmented) {
    const auto v4_from = addr("198.18.0.9:5070"), v4_to = addr("198.18.0.1:5060");
    const auto v6_from = addr("[2001:db8::9]:5070"), v6_to = addr("[2001:db8::1]:5060");
    EXPECT_EQ(udp_frame_count(4, 4000, 1500), 3u);  // 4008 bytes in 1480-byte pieces
    EXPECT_EQ(udp_frame_count(6, 4000, 1500), 3u);  // 4008 bytes in 1448-byte pieces
    // Table: sizes around the edges, odd sizes for the checksum's byte pairing, the largest datagram.
    struct row { std::size_t size, mtu; std::uint16_t vlan; };
    for (const row r : {row{4000, 1500, 0}, row{4000, 1500, 42}, row{4001, 1500, 0}, row{1472, 1500, 0},
                        row{1473, 1500, 0}, row{2952, 1500, 0}, row{2953, 1500, 7}, row{0, 1500, 0},
                        row{9000, 1280, 0}, row{65507, 1500, 0}, row{3000, 68, 0}}) {
        fragments_reassemble(v4_from, v4_to, r.size, r.mtu, r.vlan);
    }
    for (const row r : {row{4000, 1500, 0}, row{4000, 1500, 42}, row{4001, 1500, 0}, row{1452, 1500, 0},
                        row{1453, 1500, 0}, row{2888, 1500, 0}, row{2889, 1500, 9}, row{9000, 1280, 0},
                        row{65527, 1500, 0}, row{65527, 9000, 0}}) {
        fragments_reassemble(v6_from, v6_to, r.size, r.mtu, r.vlan);
    }
}

TEST(Frame, FragmentEdgesAnswerZero) {
    const auto from = addr("198.18.0.9:5070"), to = addr("198.18.0.1:5060");
    const auto from6 = addr("[2001:db8::9]:5070"), to6 = addr("[2001:db8::1]:5060");
    EXPECT_EQ(udp_frame_count(4, 1472, 1500), 1u);  // exactly fits
    EXPECT_EQ(udp_frame_count(4, 1473, 1500), 2u);
    EXPECT_EQ(udp_frame_count(6, 1452, 1500), 1u);
    EXPECT_EQ(udp_frame_count(6, 1453, 1500), 2u);
    EXPECT_EQ(udp_frame_count(4, 10, 60), 0u);      // below RFC 791's 68
    EXPECT_EQ(udp_frame_count(4, 4000, 60), 0u);
    EXPECT_EQ(udp_frame_count(4, 4000, 0), 0u);
    EXPECT_EQ(udp_frame_count(6, 100, 1279), 0u);   // below RFC 8200's 1280
    EXPECT_EQ(udp_frame_count(4, 65508, 1500), 0u); // larger than an IPv4 datagram can be
    EXPECT_EQ(udp_frame_count(6, 65528, 1500), 0u);
    EXPECT_EQ(udp_frame_count(0, 10, 1500), 0u);
    const std::vector<char> payload = pattern(4000);
    std::vector<std::uint8_t> buf(2000, 0xa5);
    EXPECT_EQ(encode_udp_fragment(buf, l2_header{ours, theirs, 0}, from, to, payload, 1, 60, 0), 0u);
    EXPECT_EQ(encode_udp_fragment(buf, l2_header{ours, theirs, 0}, from6, to6, payload, 1, 1000, 0), 0u);
    EXPECT_EQ(encode_udp_fragment(buf, l2_header{ours, theirs, 0}, from, to6, payload, 1, 1500, 0), 0u);
    EXPECT_EQ(encode_udp_fragment(buf, l2_header{ours, theirs, 0}, from, to, payload, 1, 1500, 3), 0u);
    EXPECT_EQ(encode_udp_fragment(buf, l2_header{ours, theirs, 0}, from, to, payload, 1, 1500, std::size_t(-1)), 0u);
    EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](std::uint8_t b) { return b == 0xa5; })) << "written on refusal";
    // An out one byte short of each fragment is refused, and not written past.
    for (std::size_t i = 0; i < 3; ++i) {
        std::vector<std::uint8_t> full(1514);
        const std::size_t n = encode_udp_fragment(full, l2_header{ours, theirs, 0}, from, to, payload, 1, 1500, i);
        ASSERT_GT(n, 0u);
        std::vector<std::uint8_t> tight(n - 1);
        EXPECT_EQ(encode_udp_fragment(tight, l2_header{ours, theirs, 0}, from, to, payload, 1, 1500, i), 0u);
        std::vector<std::uint8_t> exact(n);
        EXPECT_EQ(encode_udp_fragment(exact, l2_header{ours, theirs, 0}, from, to, payload, 1, 1500, i), n);
    }
    // One frame: the same bytes encode_udp writes, the Identification cut to IPv4's 16 bits.
    std::vector<std::uint8_t> a(1600), b(1600);
    const std::size_t n = encode_udp_fragment(a, l2_header{ours, theirs, 5}, from, to, {payload.data(), 1472}, 0x12345, 1500, 0);
    ASSERT_EQ(n, 18u + 1500);
    EXPECT_EQ(encode_udp(b, l2_header{ours, theirs, 5}, from, to, {payload.data(), 1472}, 0x2345), n);
    EXPECT_EQ(a, b);
    EXPECT_EQ(encode_udp_fragment(a, l2_header{ours, theirs, 5}, from, to, {payload.data(), 1472}, 0x12345, 1500, 1), 0u);
}

TEST(Frame, Ipv6FragmentsAreNamed) {
    // IPv6 + Fragment header + (for the first piece) UDP header, built by hand.
    const auto from = addr("[2001:db8::9]:5070"), to = addr("[2001:db8::1]:5060");
    const auto frame = [&](std::uint16_t offset_flags, std::uint8_t next, std::size_t data) {
        std::vector<std::uint8_t> f(14 + 40 + 8 + data, 0);
        f[12] = 0x86, f[13] = 0xdd;
        f[14] = 0x60;
        f[14 + 4] = static_cast<std::uint8_t>((8 + data) >> 8), f[14 + 5] = static_cast<std::uint8_t>(8 + data);
        f[14 + 6] = 44;
        f[14 + 7] = 64;
        std::memcpy(f.data() + 14 + 8, from.ip.data(), 16);
        std::memcpy(f.data() + 14 + 24, to.ip.data(), 16);
        f[54] = next;
        f[56] = static_cast<std::uint8_t>(offset_flags >> 8), f[57] = static_cast<std::uint8_t>(offset_flags);
        f[58] = 0xde, f[59] = 0xad, f[60] = 0xbe, f[61] = 0xef;
        if (data >= 8) {  // a UDP header for a datagram of `data` bytes
            f[62] = 0x13, f[63] = 0xce, f[64] = 0x13, f[65] = 0xc4;
            f[66] = static_cast<std::uint8_t>(data >> 8), f[67] = static_cast<std::uint8_t>(data);
        }
        return f;
    };
    for (std::uint16_t field : {std::uint16_t{0x0001}, std::uint16_t{0x05c8}, std::uint16_t{0x05c9}}) {
        const decoded_frame d = decode(frame(field, 17, 16));
        EXPECT_EQ(d.kind, frame_kind::fragment) << field;
        EXPECT_EQ(d.src.ip, from.ip);
        EXPECT_EQ(d.dst.ip, to.ip);
        EXPECT_EQ(d.src.family, 6);
        EXPECT_EQ(d.l3_offset, 14);
        EXPECT_EQ(d.l4_offset, 54);
    }
    // RFC 6946: an atomic fragment is the whole datagram.
    const decoded_frame atomic = decode(frame(0, 17, 12));
    ASSERT_EQ(atomic.kind, frame_kind::udp);
    EXPECT_EQ(atomic.src, from);
    EXPECT_EQ(atomic.dst, to);
    EXPECT_EQ(atomic.payload.size(), 4u);
    EXPECT_EQ(atomic.l4_offset, 62);
    EXPECT_EQ(decode(frame(0x0006, 17, 12)).kind, frame_kind::udp) << "reserved bits ignored";
    EXPECT_EQ(decode(frame(0, 6, 12)).kind, frame_kind::other) << "atomic, but TCP";
    std::vector<std::uint8_t> short_header = frame(0x0001, 17, 0);
    short_header[14 + 5] = 4;  // payload length 4: no room for the Fragment header
    EXPECT_EQ(decode(short_header).kind, frame_kind::truncated);
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

TEST(Frame, AnyTaggedOrIpv6ByteSequenceDecodesWithoutReadingPastIt) {
    // Random frames steered past the checks that random bytes rarely pass (lengths that agree, ND
    // checksums), so the Fragment header, UDP and ND option paths see hostile input too.
    std::mt19937 rng(13);
    std::vector<std::uint8_t> buf(256);
    std::array<std::size_t, 10> kinds{};
    for (int i = 0; i < 200'000; ++i) {
        const std::size_t n = rng() % 160;  // short: the header paths, not the payload copies
        for (std::size_t k = 0; k < n; ++k) buf[k] = static_cast<std::uint8_t>(rng());
        std::size_t l3 = 14;
        if (n > 18 && rng() % 2) buf[12] = 0x81, buf[13] = 0x00, l3 += 4;  // a tag
        if (n >= l3) buf[l3 - 2] = 0x86, buf[l3 - 1] = 0xdd;
        if (n >= l3 + 40 && rng() % 8) {
            const std::size_t room = n - l3 - 40;
            const std::size_t plen = rng() % 4 ? room : rng() % (room + 8);
            buf[l3] = 0x60;
            buf[l3 + 4] = static_cast<std::uint8_t>(plen >> 8), buf[l3 + 5] = static_cast<std::uint8_t>(plen);
            const std::uint8_t next[] = {17, 44, 58};
            buf[l3 + 6] = next[rng() % 3];
            buf[l3 + 7] = rng() % 8 ? 255 : 64;
            std::size_t l4 = l3 + 40;
            if (buf[l3 + 6] == 44 && room >= 8) {
                buf[l4] = next[rng() % 2];
                if (rng() % 2) buf[l4 + 2] = buf[l4 + 3] = 0;  // atomic
                l4 += 8;
            }
            if (buf[l3 + 6] != 58 && room >= l4 - l3 - 40 + 8) {  // a UDP length near what is there
                const std::size_t udp = std::min(plen, room) - (l4 - l3 - 40) - rng() % 3;
                buf[l4 + 4] = static_cast<std::uint8_t>(udp >> 8), buf[l4 + 5] = static_cast<std::uint8_t>(udp);
            }
            if (buf[l3 + 6] == 58 && plen <= room && plen >= 4) {
                buf[l4] = static_cast<std::uint8_t>(rng() % 2 ? 135 : 136);
                buf[l4 + 1] = 0;
                if (plen > 8) buf[l4 + 8] = 0x20;  // not a multicast target
                if (plen > 25 && rng() % 2) buf[l4 + 25] = static_cast<std::uint8_t>(rng() % 4);  // option length
                buf[l4 + 2] = buf[l4 + 3] = 0;
                core::net_address from, to;
                from.family = to.family = 6;
                std::memcpy(from.ip.data(), buf.data() + l3 + 8, 16);
                std::memcpy(to.ip.data(), buf.data() + l3 + 24, 16);
                const std::uint16_t c = checksum_fold(checksum_add({buf.data() + l4, plen}, pseudo(from, to, 58, plen)));
                buf[l4 + 2] = static_cast<std::uint8_t>(c >> 8), buf[l4 + 3] = static_cast<std::uint8_t>(c);
            }
        }
        std::vector<std::uint8_t> exact(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));  // ASan sees the end
        const decoded_frame d = decode(exact);
        ++kinds[static_cast<std::size_t>(d.kind)];
        if (d.kind == frame_kind::udp) {
            EXPECT_GE(d.payload.data(), exact.data());
            EXPECT_LE(d.payload.data() + d.payload.size(), exact.data() + exact.size());
            EXPECT_LE(d.l4_offset + 8u + d.payload.size(), exact.size());
        }
        EXPECT_LE(d.l3_offset, exact.size());
    }
    // The steering reached every outcome it aims at.
    for (frame_kind k : {frame_kind::udp, frame_kind::fragment, frame_kind::neighbor_solicitation,
                         frame_kind::neighbor_advertisement, frame_kind::truncated, frame_kind::other}) {
        EXPECT_GT(kinds[static_cast<std::size_t>(k)], 100u) << static_cast<int>(k);
    }
}

} // namespace
} // namespace sipfast::net
