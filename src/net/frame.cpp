// SPDX-License-Identifier: Apache-2.0
#include "sipfast/net/frame.hpp"

#include <cstring>

namespace sipfast::net {

namespace {

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_arp = 0x0806;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint8_t proto_udp = 17;
constexpr std::uint8_t proto_icmpv6 = 58;
constexpr std::size_t eth_header = 14;

std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
void put16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

void put_eth(std::uint8_t* p, const mac_address& dst, const mac_address& src, std::uint16_t type) noexcept {
    std::memcpy(p, dst.data(), 6);
    std::memcpy(p + 6, src.data(), 6);
    put16(p + 12, type);
}

// The pseudo-header sum of RFC 768 / RFC 8200 §8.1.
std::uint32_t pseudo_sum(const proxy::net_address& from, const proxy::net_address& to, std::uint8_t proto,
                         std::uint32_t length) noexcept {
    const std::size_t n = from.family == 4 ? 4 : 16;
    std::uint32_t sum = checksum_add({from.ip.data(), n});
    sum = checksum_add({to.ip.data(), n}, sum);
    return sum + proto + (length >> 16) + (length & 0xffff);
}

// The ARP body for Ethernet/IPv4 (RFC 826).
void put_arp(std::uint8_t* a, std::uint16_t op, const mac_address& sender_mac, const std::uint8_t* sender_ip,
             const mac_address& target_mac, const std::uint8_t* target_ip) noexcept {
    put16(a, 1);
    put16(a + 2, ethertype_ipv4);
    a[4] = 6;
    a[5] = 4;
    put16(a + 6, op);
    std::memcpy(a + 8, sender_mac.data(), 6);
    std::memcpy(a + 14, sender_ip, 4);
    std::memcpy(a + 18, target_mac.data(), 6);
    std::memcpy(a + 24, target_ip, 4);
}

// The UDP header at the start of `udp` (what IP says it carries): ports and payload, or truncated.
void decode_udp(std::span<const std::uint8_t> udp, decoded_frame& d) noexcept {
    if (udp.size() < 8 || be16(udp.data() + 4) < 8 || be16(udp.data() + 4) > udp.size()) {
        d.kind = frame_kind::truncated;
        return;
    }
    d.src.port = be16(udp.data());
    d.dst.port = be16(udp.data() + 2);
    d.payload = udp.subspan(8, be16(udp.data() + 4) - 8u);
    d.kind = frame_kind::udp;
}

} // namespace

std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
    std::size_t i = 0;
    for (; i + 1 < data.size(); i += 2) sum += be16(data.data() + i);
    if (i < data.size()) sum += static_cast<std::uint32_t>(data[i]) << 8;
    return sum;
}

std::uint16_t checksum_fold(std::uint32_t sum) noexcept {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

decoded_frame decode(std::span<const std::uint8_t> f) noexcept {
    decoded_frame d;
    if (f.size() < eth_header) {
        d.kind = frame_kind::truncated;
        return d;
    }
    std::memcpy(d.dst_mac.data(), f.data(), 6);
    std::memcpy(d.src_mac.data(), f.data() + 6, 6);
    std::size_t at = 12;
    std::uint16_t type = be16(f.data() + at);
    if (type == ethertype_vlan) {
        if (f.size() < eth_header + 4) {
            d.kind = frame_kind::truncated;
            return d;
        }
        at += 4;
        type = be16(f.data() + at);
    }
    at += 2;
    const std::span<const std::uint8_t> l3 = f.subspan(at);
    if (type == ethertype_arp) {
        // Ethernet/IPv4 ARP only: htype 1, ptype 0x0800, hlen 6, plen 4.
        if (l3.size() < 28) {
            d.kind = frame_kind::truncated;
            return d;
        }
        if (be16(l3.data()) != 1 || be16(l3.data() + 2) != ethertype_ipv4 || l3[4] != 6 || l3[5] != 4) return d;
        const std::uint16_t op = be16(l3.data() + 6);
        d.src.family = d.dst.family = 4;
        std::memcpy(d.src_mac.data(), l3.data() + 8, 6);
        std::memcpy(d.src.ip.data(), l3.data() + 14, 4);
        std::memcpy(d.dst.ip.data(), l3.data() + 24, 4);
        d.kind = op == 1 ? frame_kind::arp_request : op == 2 ? frame_kind::arp_reply : frame_kind::other;
        return d;
    }
    if (type == ethertype_ipv4) {
        if (l3.size() < 20) {
            d.kind = frame_kind::truncated;
            return d;
        }
        const std::size_t ihl = static_cast<std::size_t>(l3[0] & 15) * 4;
        if ((l3[0] >> 4) != 4 || ihl < 20) return d;
        const std::size_t total = be16(l3.data() + 2);
        if (l3.size() < ihl || total < ihl || l3.size() < total) {
            d.kind = frame_kind::truncated;
            return d;
        }
        if (checksum_fold(checksum_add(l3.first(ihl))) != 0) {
            d.kind = frame_kind::bad_checksum;
            return d;
        }
        d.src.family = d.dst.family = 4;
        std::memcpy(d.src.ip.data(), l3.data() + 12, 4);
        std::memcpy(d.dst.ip.data(), l3.data() + 16, 4);
        const std::uint16_t frag = be16(l3.data() + 6);
        if ((frag & 0x3fff) != 0) {  // MF set or an offset: part of a larger datagram
            d.kind = frame_kind::fragment;
            return d;
        }
        if (l3[9] == proto_udp) decode_udp(l3.subspan(ihl, total - ihl), d);
        return d;
    }
    if (type == ethertype_ipv6) {
        if (l3.size() < 40) {
            d.kind = frame_kind::truncated;
            return d;
        }
        if ((l3[0] >> 4) != 6) return d;
        const std::size_t plen = be16(l3.data() + 4);
        if (l3.size() < 40 + plen) {
            d.kind = frame_kind::truncated;
            return d;
        }
        d.src.family = d.dst.family = 6;
        std::memcpy(d.src.ip.data(), l3.data() + 8, 16);
        std::memcpy(d.dst.ip.data(), l3.data() + 24, 16);
        const std::span<const std::uint8_t> next = l3.subspan(40, plen);
        if (l3[6] == proto_udp) {  // extension headers are the exception path's
            decode_udp(next, d);
        } else if (l3[6] == proto_icmpv6 && next.size() >= 24 && next[0] == 135 && next[1] == 0) {
            std::memcpy(d.dst.ip.data(), next.data() + 8, 16);  // the target being asked for
            d.kind = frame_kind::neighbor_solicitation;
        }
        return d;
    }
    return d;
}

std::size_t encode_udp(std::span<std::uint8_t> out, const mac_address& src_mac, const mac_address& dst_mac,
                       const proxy::net_address& from, const proxy::net_address& to, std::span<const char> payload,
                       std::uint16_t ip_id) noexcept {
    if (from.family != to.family || !from.valid()) return 0;
    const std::size_t ip_len = from.family == 4 ? 20 : 40;
    const std::size_t udp_len = 8 + payload.size();
    if (udp_len > 0xffff - ip_len || out.size() < eth_header + ip_len + udp_len) return 0;
    std::uint8_t* p = out.data();
    put_eth(p, dst_mac, src_mac, from.family == 4 ? ethertype_ipv4 : ethertype_ipv6);
    std::uint8_t* ip = p + eth_header;
    if (from.family == 4) {
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, static_cast<std::uint16_t>(ip_len + udp_len));
        put16(ip + 4, ip_id);
        put16(ip + 6, 0);
        ip[8] = 64;
        ip[9] = proto_udp;
        put16(ip + 10, 0);
        std::memcpy(ip + 12, from.ip.data(), 4);
        std::memcpy(ip + 16, to.ip.data(), 4);
        put16(ip + 10, checksum_fold(checksum_add({ip, 20})));
    } else {
        ip[0] = 0x60;
        ip[1] = ip[2] = ip[3] = 0;
        put16(ip + 4, static_cast<std::uint16_t>(udp_len));
        ip[6] = proto_udp;
        ip[7] = 64;
        std::memcpy(ip + 8, from.ip.data(), 16);
        std::memcpy(ip + 24, to.ip.data(), 16);
    }
    std::uint8_t* udp = ip + ip_len;
    put16(udp, from.port);
    put16(udp + 2, to.port);
    put16(udp + 4, static_cast<std::uint16_t>(udp_len));
    put16(udp + 6, 0);
    if (!payload.empty()) std::memcpy(udp + 8, payload.data(), payload.size());
    std::uint16_t sum = checksum_fold(checksum_add({udp, udp_len}, pseudo_sum(from, to, proto_udp, static_cast<std::uint32_t>(udp_len))));
    if (sum == 0) sum = 0xffff;  // RFC 768: zero means "no checksum"
    put16(udp + 6, sum);
    return eth_header + ip_len + udp_len;
}

std::size_t encode_arp_reply(std::span<std::uint8_t> out, const mac_address& our_mac, const decoded_frame& req) noexcept {
    if (out.size() < eth_header + 28 || req.kind != frame_kind::arp_request) return 0;
    std::uint8_t* p = out.data();
    put_eth(p, req.src_mac, our_mac, ethertype_arp);
    put_arp(p + eth_header, 2, our_mac, req.dst.ip.data(), req.src_mac, req.src.ip.data());  // asked-for = ours
    return eth_header + 28;
}

std::size_t encode_arp_request(std::span<std::uint8_t> out, const mac_address& our_mac, const proxy::net_address& our_ip,
                               const proxy::net_address& target) noexcept {
    if (out.size() < eth_header + 28 || our_ip.family != 4 || target.family != 4) return 0;
    std::uint8_t* p = out.data();
    put_eth(p, mac_address{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, our_mac, ethertype_arp);
    put_arp(p + eth_header, 1, our_mac, our_ip.ip.data(), mac_address{}, target.ip.data());
    return eth_header + 28;
}

std::size_t encode_neighbor_advertisement(std::span<std::uint8_t> out, const mac_address& our_mac,
                                          const decoded_frame& ns) noexcept {
    constexpr std::size_t icmp_len = 32;  // NA header (24) + target link-layer address option (8)
    if (out.size() < eth_header + 40 + icmp_len || ns.kind != frame_kind::neighbor_solicitation) return 0;
    std::uint8_t* p = out.data();
    put_eth(p, ns.src_mac, our_mac, ethertype_ipv6);
    std::uint8_t* ip = p + eth_header;
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    put16(ip + 4, icmp_len);
    ip[6] = proto_icmpv6;
    ip[7] = 255;  // RFC 4861 §7.1.2: hop limit 255
    proxy::net_address from = ns.dst, to = ns.src;
    std::memcpy(ip + 8, from.ip.data(), 16);
    std::memcpy(ip + 24, to.ip.data(), 16);
    std::uint8_t* icmp = ip + 40;
    std::memset(icmp, 0, icmp_len);
    icmp[0] = 136;
    icmp[4] = 0x60;  // solicited, override
    std::memcpy(icmp + 8, ns.dst.ip.data(), 16);
    icmp[24] = 2;  // target link-layer address
    icmp[25] = 1;
    std::memcpy(icmp + 26, our_mac.data(), 6);
    put16(icmp + 2, checksum_fold(checksum_add({icmp, icmp_len}, pseudo_sum(from, to, proto_icmpv6, icmp_len))));
    return eth_header + 40 + icmp_len;
}

} // namespace sipfast::net
