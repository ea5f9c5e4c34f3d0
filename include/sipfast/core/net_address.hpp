// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipfast::core {

/// An IPv4 or IPv6 address and port, as plain bytes: what a backend fills in from a datagram and
/// what the pipeline sends to. Comparable, hashable, no sockaddr in the library.
struct net_address {
    std::uint8_t family = 0;  ///< 4, 6, or 0 for none
    std::uint16_t port = 0;
    std::array<std::uint8_t, 16> ip{};  ///< IPv4 in the first four bytes

    [[nodiscard]] bool valid() const noexcept { return family == 4 || family == 6; }
    friend bool operator==(const net_address&, const net_address&) = default;
};

/// Parses a numeric IP ("198.18.0.1", "2001:db8::1" or "[2001:db8::1]"); the port is left alone.
/// False for names and malformed text.
[[nodiscard]] bool parse_ip(std::string_view text, net_address& out) noexcept;

/// Whether `host` (a SIP host: "198.18.0.1", "[2001:db8::1]") is the address of `a`, port aside.
[[nodiscard]] bool same_ip(std::string_view host, const net_address& a) noexcept;

/// Whether `a` and `b` (the same family) agree in their first `prefix` bits: on one subnet.
[[nodiscard]] bool same_subnet(const net_address& a, const net_address& b, unsigned prefix) noexcept;

/// Whether `a` is a private address, one a NAT stands in front of: RFC 1918, shared address space
/// (RFC 6598), link-local, IPv6 unique local (RFC 4193) and link-local.
[[nodiscard]] bool is_private(const net_address& a) noexcept;

/// What a destination address is, for the relay policy's deny list (docs/configuration.md, [policy]).
enum class address_scope : std::uint8_t {
    routable,     ///< anything else: a host somewhere
    loopback,     ///< 127.0.0.0/8, ::1
    unspecified,  ///< 0.0.0.0/8, ::
    link_local,   ///< 169.254.0.0/16, fe80::/10
    multicast,    ///< 224.0.0.0/4, ff00::/8
    broadcast,    ///< 240.0.0.0/4 with 255.255.255.255: reserved and the limited broadcast
};
/// The scope of `a` (an IPv4-mapped IPv6 address as its IPv4 address).
[[nodiscard]] address_scope scope_of(const net_address& a) noexcept;

/// Parses "ip:port", "[ipv6]:port" or a bare ip (port `default_port`). Port 0 ("any free port", for
/// a socket whose port is reported after binding) only with `allow_any_port`.
[[nodiscard]] bool parse_ip_port(std::string_view text, std::uint16_t default_port, net_address& out,
                                 bool allow_any_port = false) noexcept;

/// Writes the address as a SIP host ("198.18.0.1", "[2001:db8::1]") into out; returns the used part
/// (empty when out is too small: 48 bytes always suffice).
std::string_view format_host(const net_address& a, std::span<char> out) noexcept;

} // namespace sipfast::core
