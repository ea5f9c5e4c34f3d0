// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/net_address.hpp"

#include <algorithm>

#include <arpa/inet.h>

#include <array>
#include <bit>
#include <cstring>

#include "sipfast/core/text_writer.hpp"

namespace sipfast::core {

namespace {

// Dotted-quad IPv4 as inet_pton takes it (four decimal octets, no leading zeros), without the
// libc call and its copy: hosts are parsed on every message (Via received, is-it-us checks).
bool parse_ipv4(std::string_view t, std::uint8_t* out) noexcept {
    const char* p = t.data();
    const char* const end = p + t.size();
    const auto digit = [&](unsigned& d) { return p < end && (d = static_cast<unsigned>(*p - '0')) <= 9; };
    for (int part = 0; part < 4; ++part) {
        if (part > 0 && (p == end || *p++ != '.')) return false;
        unsigned v = 0;
        if (!digit(v)) return false;
        ++p;
        if (unsigned d = 0; digit(d)) {
            if (v == 0) return false;  // a leading zero
            v = v * 10 + d;
            ++p;
            if (digit(d)) {
                v = v * 10 + d;
                ++p;
            }
        }
        if (v > 255) return false;
        out[part] = static_cast<std::uint8_t>(v);
    }
    return p == end;
}

// Each octet's decimal text and a dot, in one word, and its length without the dot: Vias,
// Record-Routes and received= name an IPv4 address on every message.
struct octet_texts {
    std::uint32_t text[256];
    std::uint8_t digits[256];
};
constexpr octet_texts make_octet_texts() {
    octet_texts t{};
    for (unsigned v = 0; v < 256; ++v) {
        char c[4] = {};
        unsigned n = 0;
        if (v >= 100) c[n++] = static_cast<char>('0' + v / 100);
        if (v >= 10) c[n++] = static_cast<char>('0' + v / 10 % 10);
        c[n++] = static_cast<char>('0' + v % 10);
        c[n] = '.';
        for (unsigned i = 0; i < 4; ++i) t.text[v] |= std::uint32_t{static_cast<unsigned char>(c[i])} << (8 * i);
        t.digits[v] = static_cast<std::uint8_t>(n);
    }
    return t;
}
constexpr octet_texts octet_text = make_octet_texts();
static_assert(std::endian::native == std::endian::little, "octet_texts are laid out little-endian");

} // namespace

bool parse_ip(std::string_view text, net_address& out) noexcept {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    // An IPv4 address has no ':' and an IPv6 address has one: trying IPv4 first spares the search.
    if (std::uint8_t v4[4]; parse_ipv4(text, v4)) {
        out.ip = {};
        std::memcpy(out.ip.data(), v4, 4);
        out.family = 4;
        return true;
    }
    if (text.find(':') == std::string_view::npos) return false;
    char buf[64];
    if (text.empty() || text.size() >= sizeof buf) return false;
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    net_address a = out;
    a.ip = {};
    if (inet_pton(AF_INET6, buf, a.ip.data()) == 1) {
        a.family = 6;
    } else {
        return false;
    }
    out = a;
    return true;
}

bool parse_ip_port(std::string_view text, std::uint16_t default_port, net_address& out, bool allow_any_port) noexcept {
    std::string_view host = text;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return false;
        host = text.substr(0, close + 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return false;
            port = text.substr(close + 2);
        }
    } else if (const std::size_t colon = text.find(':'); colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
    }
    net_address a;
    if (!parse_ip(host, a)) return false;
    a.port = default_port;
    if (!port.empty() || text.back() == ':') {
        if (port.empty() || port.size() > 5) return false;
        unsigned v = 0;
        for (char c : port) {
            if (c < '0' || c > '9') return false;
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        if ((v == 0 && !allow_any_port) || v > 65535) return false;
        a.port = static_cast<std::uint16_t>(v);
    }
    out = a;
    return true;
}

std::string_view format_host(const net_address& a, std::span<char> out) noexcept {
    text_writer w(out);
    if (a.family == 4 && out.size() >= 16) {  // not inet_ntop: it goes through sprintf
        // Four words of "ddd." stored one after another, each at the end of the last one's digits;
        // the last one's dot lies past the text (16 bytes hold the longest, dot and all).
        std::size_t n = 0;
        for (const std::uint8_t octet : std::span(a.ip).first<4>()) {
            std::memcpy(out.data() + n, &octet_text.text[octet], 4);
            n += octet_text.digits[octet] + 1u;
        }
        return {out.data(), n - 1};
    }
    if (a.family == 4) {
        for (std::size_t i = 0; i < 4; ++i) {
            if (i > 0) w.put('.');
            w.number(a.ip[i]);
        }
    } else if (a.family == 6) {
        std::array<char, INET6_ADDRSTRLEN> ip{};
        if (!inet_ntop(AF_INET6, a.ip.data(), ip.data(), ip.size())) return {};
        w.put('[').put(ip.data()).put(']');
    } else {
        return {};
    }
    return w.ok() ? w.view() : std::string_view{};
}

bool same_subnet(const net_address& a, const net_address& b, unsigned prefix) noexcept {
    if (a.family != b.family) return false;
    // The addresses as two big-endian words, compared under the prefix's mask: trust checks ask
    // this for every [[peer]] on every request, so no loop over bits.
    const unsigned bits = std::min(prefix, a.family == 4 ? 32u : 128u);
    const auto word = [](const net_address& x, std::size_t half) {
        std::uint64_t w = 0;
        std::memcpy(&w, x.ip.data() + 8 * half, 8);
        return std::endian::native == std::endian::little ? __builtin_bswap64(w) : w;
    };
    const auto mask = [](unsigned n) { return n == 0 ? 0 : ~std::uint64_t{0} << (64 - std::min(n, 64u)); };
    return ((word(a, 0) ^ word(b, 0)) & mask(bits)) == 0 &&
           ((word(a, 1) ^ word(b, 1)) & mask(bits > 64 ? bits - 64 : 0)) == 0;
}

bool same_ip(std::string_view host, const net_address& a) noexcept {
    net_address h;
    return parse_ip(host, h) && h.family == a.family && h.ip == a.ip;
}

address_scope scope_of(const net_address& a) noexcept {
    const auto& b = a.ip;
    const bool mapped = a.family == 6 && std::all_of(b.begin(), b.begin() + 10, [](std::uint8_t x) { return x == 0; }) &&
                        b[10] == 0xFF && b[11] == 0xFF;
    if (a.family == 4 || mapped) {
        const std::uint8_t* v4 = mapped ? b.data() + 12 : b.data();
        if (v4[0] == 127) return address_scope::loopback;
        if (v4[0] == 0) return address_scope::unspecified;
        if (v4[0] == 169 && v4[1] == 254) return address_scope::link_local;
        if ((v4[0] & 0xF0) == 0xE0) return address_scope::multicast;
        if ((v4[0] & 0xF0) == 0xF0) return address_scope::broadcast;
        return address_scope::routable;
    }
    if (a.family != 6) return address_scope::unspecified;
    const bool zero_head = std::all_of(b.begin(), b.begin() + 15, [](std::uint8_t x) { return x == 0; });
    if (zero_head && b[15] == 1) return address_scope::loopback;
    if (zero_head && b[15] == 0) return address_scope::unspecified;
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return address_scope::link_local;
    if (b[0] == 0xFF) return address_scope::multicast;
    return address_scope::routable;
}

bool is_private(const net_address& a) noexcept {
    const auto& b = a.ip;
    if (a.family == 4)
        return b[0] == 10 || (b[0] == 172 && (b[1] & 0xF0) == 16) || (b[0] == 192 && b[1] == 168) ||
               (b[0] == 100 && (b[1] & 0xC0) == 64) || (b[0] == 169 && b[1] == 254);
    if (a.family == 6) return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80);
    return false;
}

} // namespace sipfast::core
