// SPDX-License-Identifier: Apache-2.0
#include "sipfast/net/frame.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sipfast::net {

namespace {

constexpr std::uint16_t ethertype_ipv4 = 0x0800;
constexpr std::uint16_t ethertype_arp = 0x0806;
constexpr std::uint16_t ethertype_vlan = 0x8100;
constexpr std::uint16_t ethertype_ipv6 = 0x86dd;
constexpr std::uint8_t proto_udp = 17;
constexpr std::uint8_t proto_fragment = 44;  // IPv6 Fragment extension header
constexpr std::uint8_t proto_icmpv6 = 58;
constexpr std::size_t eth_header = 14;
constexpr std::size_t vlan_tag = 4;
constexpr std::size_t ipv4_header = 20;
constexpr std::size_t ipv6_header = 40;
constexpr std::size_t fragment_header = 8;
constexpr std::size_t udp_header = 8;
constexpr std::uint8_t nd_hop_limit = 255;  // RFC 4861 §7.1: proof the sender is on-link

std::uint16_t be16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
void put16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) noexcept {
    put16(p, static_cast<std::uint16_t>(v >> 16));
    put16(p + 2, static_cast<std::uint16_t>(v));
}

// The Ethernet header, with an 802.1Q tag when l2.vlan is set; returns its length.
std::size_t put_l2(std::uint8_t* p, const l2_header& l2, std::uint16_t type) noexcept {
    std::memcpy(p, l2.dst.data(), 6);
    std::memcpy(p + 6, l2.src.data(), 6);
    std::size_t at = 12;
    if (l2.vlan != 0) {
        put16(p + at, ethertype_vlan);
        put16(p + at + 2, l2.vlan);
        at += vlan_tag;
    }
    put16(p + at, type);
    return at + 2;
}

// The pseudo-header sum of RFC 768 / RFC 8200 §8.1.
std::uint32_t pseudo_sum(const core::net_address& from, const core::net_address& to, std::uint8_t proto,
                         std::uint32_t length) noexcept {
    const std::size_t n = from.family == 4 ? 4 : 16;
    std::uint32_t sum = checksum_add({from.ip.data(), n});
    sum = checksum_add({to.ip.data(), n}, sum);
    return sum + proto + (length >> 16) + (length & 0xffff);
}

// The folded sum, not complemented (DPDK's __rte_raw_cksum_reduce).
std::uint16_t fold(std::uint32_t sum) noexcept { return static_cast<std::uint16_t>(~checksum_fold(sum)); }

std::span<const std::uint8_t> bytes(std::span<const char> s) noexcept {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// The largest UDP length (header + payload) one datagram may have: IPv4's total length and IPv6's
// payload length are 16 bits (no jumbograms, RFC 2675).
std::size_t max_udp_length(std::uint8_t family) noexcept { return family == 4 ? 0xffff - ipv4_header : 0xffff; }

// An IPv4 header without options, TTL 64; `frag` is the flags + fragment offset field.
void put_ipv4(std::uint8_t* ip, std::size_t total, std::uint16_t id, std::uint16_t frag, const core::net_address& from,
              const core::net_address& to, checksums mode) noexcept {
    ip[0] = 0x45;
    ip[1] = 0;
    put16(ip + 2, static_cast<std::uint16_t>(total));
    put16(ip + 4, id);
    put16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto_udp;
    put16(ip + 10, 0);  // offload: the NIC fills it in (RTE_MBUF_F_TX_IP_CKSUM)
    std::memcpy(ip + 12, from.ip.data(), 4);
    std::memcpy(ip + 16, to.ip.data(), 4);
    if (mode == checksums::software) put16(ip + 10, checksum_fold(checksum_add({ip, ipv4_header})));
}

void put_ipv6(std::uint8_t* ip, std::size_t payload_length, std::uint8_t next, std::uint8_t hop_limit,
              const core::net_address& from, const core::net_address& to) noexcept {
    ip[0] = 0x60;
    ip[1] = ip[2] = ip[3] = 0;
    put16(ip + 4, static_cast<std::uint16_t>(payload_length));
    ip[6] = next;
    ip[7] = hop_limit;
    std::memcpy(ip + 8, from.ip.data(), 16);
    std::memcpy(ip + 24, to.ip.data(), 16);
}

// The UDP header; the checksum is the complemented sum over pseudo-header, header and the whole
// payload (software) or the pseudo-header sum alone (offload).
void put_udp(std::uint8_t* udp, const core::net_address& from, const core::net_address& to,
             std::span<const char> payload, checksums mode) noexcept {
    const auto udp_len = static_cast<std::uint32_t>(udp_header + payload.size());
    put16(udp, from.port);
    put16(udp + 2, to.port);
    put16(udp + 4, static_cast<std::uint16_t>(udp_len));
    put16(udp + 6, 0);
    const std::uint32_t pseudo = pseudo_sum(from, to, proto_udp, udp_len);
    if (mode == checksums::offload) {
        put16(udp + 6, fold(pseudo));
        return;
    }
    // The header is 8 bytes, so the payload's words line up with the datagram's.
    std::uint16_t sum = checksum_fold(checksum_add(bytes(payload), checksum_add({udp, udp_header}, pseudo)));
    if (sum == 0) sum = 0xffff;  // RFC 768: zero means "no checksum"
    put16(udp + 6, sum);
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

// The UDP header at `at` in `f` (what IP says it carries, up to the span's end): ports and payload,
// or truncated.
void decode_udp(std::span<const std::uint8_t> f, std::size_t at, std::size_t length, decoded_frame& d) noexcept {
    const std::span<const std::uint8_t> udp = f.subspan(at, length);
    if (udp.size() < udp_header || be16(udp.data() + 4) < udp_header || be16(udp.data() + 4) > udp.size()) {
        d.kind = frame_kind::truncated;
        return;
    }
    d.src.port = be16(udp.data());
    d.dst.port = be16(udp.data() + 2);
    d.payload = udp.subspan(udp_header, be16(udp.data() + 4) - udp_header);
    d.l4_offset = static_cast<std::uint16_t>(at);
    d.kind = frame_kind::udp;
}

// A Neighbor Solicitation or Advertisement (RFC 4861 §7.1.1, §7.1.2) in `icmp`, the whole ICMPv6
// message from the IPv6 header `ip`: validated, then the target (and an NA's link-layer address).
void decode_nd(const std::uint8_t* ip, std::span<const std::uint8_t> icmp, decoded_frame& d) noexcept {
    if (ip[7] != nd_hop_limit || icmp.size() < 24 || icmp[1] != 0 || icmp[8] == 0xff) return;  // target not multicast
    if (checksum_fold(checksum_add(icmp, pseudo_sum(d.src, d.dst, proto_icmpv6, static_cast<std::uint32_t>(icmp.size())))) != 0) {
        d.kind = frame_kind::bad_checksum;
        return;
    }
    const std::uint8_t wanted = icmp[0] == 135 ? 1 : 2;  // the source / target link-layer address option
    const std::uint8_t* link_address = nullptr;
    for (std::size_t at = 24; at < icmp.size();) {
        // Options are type, length in units of 8 bytes, value; a zero length is invalid (§4.6).
        if (icmp.size() - at < 2 || icmp[at + 1] == 0 || icmp.size() - at < icmp[at + 1] * 8u) return;
        if (icmp[at] == wanted) link_address = icmp.data() + at + 2;
        at += icmp[at + 1] * 8u;
    }
    if (icmp[0] == 135) {
        std::memcpy(d.dst.ip.data(), icmp.data() + 8, 16);  // the target being asked for
        d.kind = frame_kind::neighbor_solicitation;
    } else {
        std::memcpy(d.src.ip.data(), icmp.data() + 8, 16);  // the target being advertised
        if (link_address != nullptr) std::memcpy(d.src_mac.data(), link_address, 6);
        d.kind = frame_kind::neighbor_advertisement;
    }
}

} // namespace

std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t sum) noexcept {
    // Eight bytes at a time in the machine's order, the carries out of 64 bits counted: the
    // one's-complement sum does not depend on byte order (RFC 1071 §2(B)), so the folded total is
    // byte-swapped once. Every datagram we send is summed: this is per message.
    const std::uint8_t* p = data.data();
    std::size_t n = data.size();
    std::uint64_t acc = 0, carries = 0;
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        acc += w;
        carries += acc < w;
    }
    // 2^64 and 2^32 are 1 modulo 2^16 - 1: fold the halves and the carries end-around to 16 bits.
    std::uint64_t f = (acc & 0xffffffffu) + (acc >> 32) + carries;
    while (f >> 16) f = (f & 0xffff) + (f >> 16);
    if constexpr (std::endian::native == std::endian::little) f = ((f & 0xff) << 8) | (f >> 8);
    sum += static_cast<std::uint32_t>(f);
    for (; n >= 2; p += 2, n -= 2) sum += be16(p);
    if (n == 1) sum += static_cast<std::uint32_t>(*p) << 8;
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
        if (f.size() < eth_header + vlan_tag) {
            d.kind = frame_kind::truncated;
            return d;
        }
        d.vlan = be16(f.data() + at + 2);
        at += vlan_tag;
        type = be16(f.data() + at);
    }
    at += 2;
    d.l3_offset = static_cast<std::uint16_t>(at);
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
        if (l3.size() < ipv4_header) {
            d.kind = frame_kind::truncated;
            return d;
        }
        const std::size_t ihl = static_cast<std::size_t>(l3[0] & 15) * 4;
        if ((l3[0] >> 4) != 4 || ihl < ipv4_header) return d;
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
            d.l4_offset = static_cast<std::uint16_t>(at + ihl);
            d.kind = frame_kind::fragment;
            return d;
        }
        if (l3[9] == proto_udp) decode_udp(f, at + ihl, total - ihl, d);
        return d;
    }
    if (type == ethertype_ipv6) {
        if (l3.size() < ipv6_header) {
            d.kind = frame_kind::truncated;
            return d;
        }
        if ((l3[0] >> 4) != 6) return d;
        const std::size_t plen = be16(l3.data() + 4);
        if (l3.size() < ipv6_header + plen) {
            d.kind = frame_kind::truncated;
            return d;
        }
        d.src.family = d.dst.family = 6;
        std::memcpy(d.src.ip.data(), l3.data() + 8, 16);
        std::memcpy(d.dst.ip.data(), l3.data() + 24, 16);
        const std::size_t next_at = at + ipv6_header;
        const std::span<const std::uint8_t> next = l3.subspan(ipv6_header, plen);
        if (l3[6] == proto_udp) {  // other extension headers are the exception path's
            decode_udp(f, next_at, plen, d);
        } else if (l3[6] == proto_fragment) {
            if (next.size() < fragment_header) {
                d.kind = frame_kind::truncated;
                return d;
            }
            if ((be16(next.data() + 2) & 0xfff9) != 0) {  // an offset or M: a piece of a larger datagram
                d.l4_offset = static_cast<std::uint16_t>(next_at);
                d.kind = frame_kind::fragment;
            } else if (next[0] == proto_udp) {  // RFC 6946: offset 0, M clear is a whole "atomic fragment"
                decode_udp(f, next_at + fragment_header, plen - fragment_header, d);
            }
        } else if (l3[6] == proto_icmpv6 && !next.empty() && (next[0] == 135 || next[0] == 136)) {
            decode_nd(l3.data(), next, d);
        }
        return d;
    }
    return d;
}

std::size_t encode_udp(std::span<std::uint8_t> out, const l2_header& l2, const core::net_address& from,
                       const core::net_address& to, std::span<const char> payload, std::uint16_t ip_id,
                       checksums mode) noexcept {
    if (from.family != to.family || !from.valid()) return 0;
    const std::size_t ip_len = from.family == 4 ? ipv4_header : ipv6_header;
    const std::size_t udp_len = udp_header + payload.size();
    const std::size_t l2_len = l2_length(l2);
    if (udp_len > max_udp_length(from.family) || out.size() < l2_len + ip_len + udp_len) return 0;
    std::uint8_t* ip = out.data() + put_l2(out.data(), l2, from.family == 4 ? ethertype_ipv4 : ethertype_ipv6);
    if (from.family == 4) put_ipv4(ip, ip_len + udp_len, ip_id, 0, from, to, mode);
    else put_ipv6(ip, udp_len, proto_udp, 64, from, to);
    std::uint8_t* udp = ip + ip_len;
    // A payload written in place, right after where its headers go (sipfast-dpdk's rooms), stays.
    if (!payload.empty() && payload.data() != reinterpret_cast<const char*>(udp + udp_header))
        std::memcpy(udp + udp_header, payload.data(), payload.size());
    put_udp(udp, from, to, payload, mode);
    return l2_len + ip_len + udp_len;
}

std::size_t encode_udp(std::span<std::uint8_t> out, const mac_address& src_mac, const mac_address& dst_mac,
                       const core::net_address& from, const core::net_address& to, std::span<const char> payload,
                       std::uint16_t ip_id) noexcept {
    return encode_udp(out, l2_header{src_mac, dst_mac, 0}, from, to, payload, ip_id, checksums::software);
}

namespace {

// What one fragment carries of the fragmentable part (UDP header + payload): the largest multiple
// of 8 bytes (RFC 791 offsets and RFC 8200 §4.5 both count in 8-byte units) that fits beside the
// headers; 0 when the mtu is below the protocol minimum.
std::size_t fragment_capacity(std::uint8_t family, std::size_t mtu) noexcept {
    if (family == 4) return mtu < 68 ? 0 : (mtu - ipv4_header) / 8 * 8;  // RFC 791: 68 must pass unfragmented
    return mtu < 1280 ? 0 : (mtu - ipv6_header - fragment_header) / 8 * 8;  // RFC 8200 §5
}

} // namespace

std::size_t udp_frame_count(std::uint8_t family, std::size_t payload_size, std::size_t mtu) noexcept {
    if (family != 4 && family != 6) return 0;
    const std::size_t capacity = fragment_capacity(family, mtu);
    if (capacity == 0 || payload_size > max_udp_length(family) - udp_header) return 0;
    const std::size_t udp_len = udp_header + payload_size;
    if ((family == 4 ? ipv4_header : ipv6_header) + udp_len <= mtu) return 1;
    return (udp_len + capacity - 1) / capacity;
}

std::size_t encode_udp_fragment(std::span<std::uint8_t> out, const l2_header& l2, const core::net_address& from,
                                const core::net_address& to, std::span<const char> payload, std::uint32_t ip_id,
                                std::size_t mtu, std::size_t index) noexcept {
    if (from.family != to.family) return 0;
    const std::size_t count = udp_frame_count(from.family, payload.size(), mtu);
    if (index >= count) return 0;
    if (count == 1) return encode_udp(out, l2, from, to, payload, static_cast<std::uint16_t>(ip_id));
    // Fragment `index` carries bytes [offset, offset + length) of the UDP datagram (header + payload).
    const std::size_t capacity = fragment_capacity(from.family, mtu);
    const std::size_t udp_len = udp_header + payload.size();
    const std::size_t offset = index * capacity;
    const std::size_t length = std::min(capacity, udp_len - offset);
    const bool more = index + 1 < count;
    const std::size_t ip_len = from.family == 4 ? ipv4_header : ipv6_header + fragment_header;
    const std::size_t l2_len = l2_length(l2);
    if (out.size() < l2_len + ip_len + length) return 0;
    std::uint8_t* ip = out.data() + put_l2(out.data(), l2, from.family == 4 ? ethertype_ipv4 : ethertype_ipv6);
    if (from.family == 4) {
        // RFC 791: flags (reserved, DF, MF) and the offset in 8-byte units share one 16-bit field.
        const auto field = static_cast<std::uint16_t>((more ? 0x2000u : 0u) | offset / 8);
        put_ipv4(ip, ip_len + length, static_cast<std::uint16_t>(ip_id), field, from, to, checksums::software);
    } else {
        put_ipv6(ip, fragment_header + length, proto_fragment, 64, from, to);
        std::uint8_t* fh = ip + ipv6_header;  // RFC 8200 §4.5: next header, reserved, offset|res|M, id
        fh[0] = proto_udp;
        fh[1] = 0;
        put16(fh + 2, static_cast<std::uint16_t>(offset | (more ? 1u : 0u)));  // offset is a multiple of 8
        put32(fh + 4, ip_id);
    }
    std::uint8_t* data = ip + ip_len;
    if (index == 0) {
        // Only the first fragment holds the UDP header, so only it sums the whole payload.
        put_udp(data, from, to, payload, checksums::software);
        std::memcpy(data + udp_header, payload.data(), length - udp_header);
    } else {
        std::memcpy(data, payload.data() + (offset - udp_header), length);
    }
    return l2_len + ip_len + length;
}

std::size_t encode_arp_reply(std::span<std::uint8_t> out, const mac_address& our_mac, const decoded_frame& req) noexcept {
    const l2_header l2{our_mac, req.src_mac, req.vlan};
    if (out.size() < l2_length(l2) + 28 || req.kind != frame_kind::arp_request) return 0;
    const std::size_t at = put_l2(out.data(), l2, ethertype_arp);
    put_arp(out.data() + at, 2, our_mac, req.dst.ip.data(), req.src_mac, req.src.ip.data());  // asked-for = ours
    return at + 28;
}

std::size_t encode_arp_request(std::span<std::uint8_t> out, const mac_address& our_mac, const core::net_address& our_ip,
                               const core::net_address& target, std::uint16_t vlan) noexcept {
    const l2_header l2{our_mac, mac_address{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, vlan};
    if (out.size() < l2_length(l2) + 28 || our_ip.family != 4 || target.family != 4) return 0;
    const std::size_t at = put_l2(out.data(), l2, ethertype_arp);
    put_arp(out.data() + at, 1, our_mac, our_ip.ip.data(), mac_address{}, target.ip.data());
    return at + 28;
}

namespace {

// An NS or NA (type 135/136) with one link-layer address option (type 1 source, 2 target) holding
// `mac`, from `from` to `to` (RFC 4861 §4.3, §4.4); returns the frame length.
constexpr std::size_t nd_length = 32;  // header (24) + link-layer address option (8)
std::size_t put_nd(std::uint8_t* p, const l2_header& l2, const core::net_address& from, const core::net_address& to,
                   std::uint8_t type, std::uint8_t flags, const std::uint8_t* target) noexcept {
    std::uint8_t* ip = p + put_l2(p, l2, ethertype_ipv6);
    put_ipv6(ip, nd_length, proto_icmpv6, nd_hop_limit, from, to);
    std::uint8_t* icmp = ip + ipv6_header;
    std::memset(icmp, 0, nd_length);
    icmp[0] = type;
    icmp[4] = flags;
    std::memcpy(icmp + 8, target, 16);
    icmp[24] = type == 135 ? 1 : 2;
    icmp[25] = 1;  // 8 bytes
    std::memcpy(icmp + 26, l2.src.data(), 6);
    put16(icmp + 2, checksum_fold(checksum_add({icmp, nd_length}, pseudo_sum(from, to, proto_icmpv6, nd_length))));
    return static_cast<std::size_t>(icmp + nd_length - p);
}

} // namespace

std::size_t encode_neighbor_advertisement(std::span<std::uint8_t> out, const mac_address& our_mac,
                                          const decoded_frame& ns) noexcept {
    const l2_header l2{our_mac, ns.src_mac, ns.vlan};
    if (out.size() < l2_length(l2) + ipv6_header + nd_length || ns.kind != frame_kind::neighbor_solicitation) return 0;
    return put_nd(out.data(), l2, ns.dst, ns.src, 136, 0x60, ns.dst.ip.data());  // solicited, override
}

std::size_t encode_neighbor_solicitation(std::span<std::uint8_t> out, const mac_address& our_mac,
                                         const core::net_address& our_ip, const core::net_address& target,
                                         std::uint16_t vlan) noexcept {
    // RFC 4861 §7.2.2 to the solicited-node multicast address (RFC 4291 §2.7.1) of the target,
    // whose Ethernet address is 33:33 and its last 32 bits (RFC 2464 §7).
    core::net_address solicited;
    solicited.family = 6;
    solicited.ip = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, target.ip[13], target.ip[14], target.ip[15]};
    const l2_header l2{our_mac, mac_address{0x33, 0x33, 0xff, target.ip[13], target.ip[14], target.ip[15]}, vlan};
    if (out.size() < l2_length(l2) + ipv6_header + nd_length || our_ip.family != 6 || target.family != 6) return 0;
    return put_nd(out.data(), l2, our_ip, solicited, 135, 0, target.ip.data());
}

} // namespace sipfast::net
