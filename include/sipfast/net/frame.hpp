// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sipfast/core/net_address.hpp"

namespace sipfast::net {

/// L2–L4 framing for the kernel-bypass backend (docs/architecture.md, "Backends"): what a NIC queue
/// hands over is decoded here to the UDP payload the pipeline takes, and what the pipeline sends is
/// framed back. Plain bytes in and out, no DPDK types, so it is tested without a NIC.

using mac_address = std::array<std::uint8_t, 6>;

enum class frame_kind : std::uint8_t {
    other,          ///< not for the fast path (TCP, ICMP, other ethertypes): the exception path
    truncated,      ///< shorter than its headers say
    bad_checksum,   ///< an IPv4 header, or an ICMPv6 NS/NA, whose checksum does not verify
    fragment,       ///< an IPv4 fragment, or an IPv6 packet with a Fragment header (not reassembled here)
    arp_request,    ///< src = sender, dst = the address asked for
    arp_reply,
    udp,            ///< src/dst with ports, payload = the datagram
    neighbor_solicitation,   ///< ICMPv6 NS (RFC 4861 §4.3): dst = the target address asked for
    neighbor_advertisement,  ///< ICMPv6 NA (§4.4): src = the target address advertised, src_mac = its
                             ///< Target Link-Layer Address option, or the Ethernet source without one
};

struct decoded_frame {
    frame_kind kind = frame_kind::other;
    mac_address dst_mac{};
    mac_address src_mac{};
    core::net_address src;
    core::net_address dst;
    std::span<const std::uint8_t> payload;
    std::uint16_t vlan = 0;       ///< the 802.1Q TCI (PCP, DEI, VID) of a tagged frame; 0 when untagged
    std::uint16_t l3_offset = 0;  ///< where the IP or ARP header starts: 14, or 18 behind a tag (0: truncated)
    std::uint16_t l4_offset = 0;  ///< udp: where the UDP header starts; fragment: where the IPv4 payload or
                                  ///< the IPv6 Fragment header starts; else 0
};

/// The Ethernet header of a frame to send: a non-zero `vlan` is the TCI of an 802.1Q tag.
struct l2_header {
    mac_address src{};
    mac_address dst{};
    std::uint16_t vlan = 0;
};

/// The Ethernet header's length, with its 802.1Q tag when there is one.
[[nodiscard]] constexpr std::size_t l2_length(const l2_header& l2) noexcept { return l2.vlan != 0 ? 18 : 14; }
/// The most a UDP datagram's headers take in a frame: Ethernet with a tag, IPv6, UDP.
inline constexpr std::size_t max_udp_headers = 18 + 40 + 8;

/// How a UDP frame's checksums are written.
enum class checksums : std::uint8_t {
    software,  ///< IPv4 header and UDP checksums complete
    offload,   ///< for a NIC told RTE_MBUF_F_TX_IPV4|IPV6, RTE_MBUF_F_TX_IP_CKSUM and RTE_MBUF_F_TX_UDP_CKSUM:
               ///< IPv4 header checksum 0, UDP checksum = the pseudo-header sum, folded but not
               ///< complemented (what rte_ipv4_phdr_cksum / rte_ipv6_phdr_cksum return)
};

/// Decodes an Ethernet II frame (one optional 802.1Q tag is recorded in `vlan` and skipped). Never
/// reads past `frame`; views in the result point into it. An IPv6 atomic fragment (RFC 6946: offset
/// 0, M clear) carrying UDP decodes as udp. NS and NA need hop limit 255, code 0, a valid ICMPv6
/// checksum and well-formed options (RFC 4861 §7.1), else other (bad_checksum for the checksum).
[[nodiscard]] decoded_frame decode(std::span<const std::uint8_t> frame) noexcept;

/// Writes an Ethernet (802.1Q-tagged when l2.vlan != 0) + IPv4/IPv6 + UDP frame carrying `payload`
/// from `from` to `to` (families must match), checksums as `mode` says, DF clear. Returns the frame
/// length, or 0 when `out` is too small or the payload too large for one datagram. No fragmentation:
/// see encode_udp_fragment for datagrams larger than the link MTU. A payload already in place (at
/// the offset its headers end in `out`) is not copied: the headers are written in front of it.
[[nodiscard]] std::size_t encode_udp(std::span<std::uint8_t> out, const l2_header& l2, const core::net_address& from,
                                     const core::net_address& to, std::span<const char> payload, std::uint16_t ip_id,
                                     checksums mode = checksums::software) noexcept;

/// The untagged, software-checksummed encode_udp.
[[nodiscard]] std::size_t encode_udp(std::span<std::uint8_t> out, const mac_address& src_mac, const mac_address& dst_mac,
                                     const core::net_address& from, const core::net_address& to,
                                     std::span<const char> payload, std::uint16_t ip_id) noexcept;

/// How many frames a UDP datagram with `payload_size` bytes of payload takes over a link whose IP
/// MTU is `mtu` (1500 on Ethernet): 1 when it fits whole, else the fragments encode_udp_fragment
/// writes. 0 when it cannot be sent: family not 4 or 6, a datagram larger than IP allows, or an mtu
/// below the protocol minimum (68 for IPv4, RFC 791; 1280 for IPv6, RFC 8200 §5).
[[nodiscard]] std::size_t udp_frame_count(std::uint8_t family, std::size_t payload_size, std::size_t mtu) noexcept;

/// Writes frame `index` (0-based, below udp_frame_count) of the UDP datagram carrying `payload`, each
/// frame's IP packet at most `mtu` bytes. One frame: the whole datagram as encode_udp writes it
/// (software checksums, IPv4 Identification = the low 16 bits of `ip_id`). More: IPv4 fragments per
/// RFC 791 (offsets in 8-byte units, MF on all but the last, one Identification) or IPv6 fragments
/// per RFC 8200 §4.5 (a Fragment header with the 32-bit `ip_id`); every fragment but the last carries
/// the largest multiple of 8 bytes that fits. The UDP checksum over the whole datagram sits in frame
/// 0's UDP header and is summed only when frame 0 is written: sending all frames reads the payload
/// twice (copy + one sum), not once per fragment. Use the same `ip_id` for every frame of a datagram
/// and a new one per datagram. Returns the frame length, or 0 when `index` is past the last frame,
/// the datagram cannot be sent (udp_frame_count 0) or `out` is too small.
[[nodiscard]] std::size_t encode_udp_fragment(std::span<std::uint8_t> out, const l2_header& l2,
                                              const core::net_address& from, const core::net_address& to,
                                              std::span<const char> payload, std::uint32_t ip_id, std::size_t mtu,
                                              std::size_t index) noexcept;

/// The ARP reply saying `our_ip` is at `our_mac`, to the sender of `request` (an arp_request), with
/// the request's VLAN tag.
[[nodiscard]] std::size_t encode_arp_reply(std::span<std::uint8_t> out, const mac_address& our_mac,
                                           const decoded_frame& request) noexcept;

/// A broadcast ARP request asking who has `target`, from `our_ip` at `our_mac`, tagged with `vlan`
/// when non-zero.
[[nodiscard]] std::size_t encode_arp_request(std::span<std::uint8_t> out, const mac_address& our_mac,
                                             const core::net_address& our_ip, const core::net_address& target,
                                             std::uint16_t vlan = 0) noexcept;

/// The ICMPv6 neighbour advertisement (solicited, override) for the target of `solicitation`, with
/// the solicitation's VLAN tag.
[[nodiscard]] std::size_t encode_neighbor_advertisement(std::span<std::uint8_t> out, const mac_address& our_mac,
                                                        const decoded_frame& solicitation) noexcept;

/// The ICMPv6 neighbour solicitation (RFC 4861 §7.2.2) asking for the link-layer address of `target`:
/// from `our_ip` to its solicited-node multicast address ff02::1:ffXX:XXXX at 33:33:ff:XX:XX:XX, hop
/// limit 255, with a Source Link-Layer Address option; tagged with `vlan` when non-zero. 0 when
/// either address is not IPv6 or `out` is too small.
[[nodiscard]] std::size_t encode_neighbor_solicitation(std::span<std::uint8_t> out, const mac_address& our_mac,
                                                       const core::net_address& our_ip,
                                                       const core::net_address& target, std::uint16_t vlan = 0) noexcept;

/// RFC 1071 one's-complement sum of `data`, added to `initial` (not yet complemented).
[[nodiscard]] std::uint32_t checksum_add(std::span<const std::uint8_t> data, std::uint32_t initial = 0) noexcept;
/// Folds and complements a sum into the 16-bit checksum (host order).
[[nodiscard]] std::uint16_t checksum_fold(std::uint32_t sum) noexcept;

} // namespace sipfast::net
