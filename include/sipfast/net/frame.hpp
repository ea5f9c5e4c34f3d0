// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sipfast/proxy/net_address.hpp"

namespace sipfast::net {

/// L2–L4 framing for the kernel-bypass backend (DESIGN §1): what a NIC queue hands over is decoded
/// here to the UDP payload the pipeline takes, and what the pipeline sends is framed back. Plain
/// bytes in and out, no DPDK types, so it is tested without a NIC.

using mac_address = std::array<std::uint8_t, 6>;

enum class frame_kind : std::uint8_t {
    other,          ///< not for the fast path (TCP, ICMP, other ethertypes): the exception path
    truncated,      ///< shorter than its headers say
    bad_checksum,   ///< an IPv4 header whose checksum does not verify
    fragment,       ///< an IPv4 fragment (reassembly is not done here)
    arp_request,    ///< src = sender, dst = the address asked for
    arp_reply,
    udp,            ///< src/dst with ports, payload = the datagram
    neighbor_solicitation,  ///< ICMPv6 NS: dst = the target address asked for
};

struct decoded_frame {
    frame_kind kind = frame_kind::other;
    mac_address dst_mac{};
    mac_address src_mac{};
    proxy::net_address src;
    proxy::net_address dst;
    std::span<const std::uint8_t> payload;
};

/// Decodes an Ethernet II frame (one optional 802.1Q tag is skipped). Never reads past `frame`.
[[nodiscard]] decoded_frame decode(std::span<const std::uint8_t> frame) noexcept;

/// Writes an Ethernet + IPv4/IPv6 + UDP frame carrying `payload` from `from` to `to` (families must
/// match), with the IPv4 header checksum and the UDP checksum computed in software. Returns the
/// frame length, or 0 when `out` is too small or the payload too large for one datagram.
[[nodiscard]] std::size_t encode_udp(std::span<std::uint8_t> out, const mac_address& src_mac, const mac_address& dst_mac,
                                     const proxy::net_address& from, const proxy::net_address& to,
                                     std::span<const char> payload, std::uint16_t ip_id) noexcept;

/// The ARP reply saying `our_ip` is at `our_mac`, to the sender of `request` (an arp_request).
[[nodiscard]] std::size_t encode_arp_reply(std::span<std::uint8_t> out, const mac_address& our_mac,
                                           const decoded_frame& request) noexcept;

/// A broadcast ARP request asking who has `target`, from `our_ip` at `our_mac`.
[[nodiscard]] std::size_t encode_arp_request(std::span<std::uint8_t> out, const mac_address& our_mac,
                                             const proxy::net_address& our_ip, const proxy::net_address& target) noexcept;

/// The ICMPv6 neighbour advertisement (solicited, override) for the target of `solicitation`.
[[nodiscard]] std::size_t encode_neighbor_advertisement(std::span<std::uint8_t> out, const mac_address& our_mac,
                                                        const decoded_frame& solicitation) noexcept;

/// RFC 1071 one's-complement sum of `data`, added to `initial` (not yet complemented).
[[nodiscard]] std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t initial = 0) noexcept;
/// Folds and complements a sum into the 16-bit checksum (host order).
[[nodiscard]] std::uint16_t checksum_fold(std::uint32_t sum) noexcept;

} // namespace sipfast::net
