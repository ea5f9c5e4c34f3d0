// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/uri.hpp"

#include "lex.hpp"

namespace sipfast::sip {

namespace {

bool parse_port(std::string_view s, std::uint16_t& port) noexcept {
    if (s.empty() || s.size() > 5) return false;
    std::uint32_t v = 0;
    for (char c : s) {
        if (!lex::is_digit(c)) return false;
        v = v * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

bool is_ipv4(std::string_view s) noexcept {
    unsigned parts = 0, digits = 0, value = 0;
    for (char c : s) {
        if (c == '.') {
            if (digits == 0) return false;
            ++parts;
            digits = value = 0;
        } else if (lex::is_digit(c)) {
            value = value * 10 + static_cast<unsigned>(c - '0');
            if (++digits > 3 || value > 255) return false;
        } else {
            return false;
        }
    }
    return parts == 3 && digits > 0;
}

bool is_ipv6_reference(std::string_view s) noexcept {  // "[" IPv6address "]", checked loosely
    if (s.size() < 4 || s.front() != '[' || s.back() != ']') return false;
    unsigned colons = 0;
    for (char c : s.substr(1, s.size() - 2)) {
        if (c == ':') ++colons;
        else if (!lex::is_hex(c) && c != '.') return false;
    }
    return colons >= 2 && colons <= 7;
}

bool is_hostname(std::string_view s) noexcept {
    // hostname = *( domainlabel "." ) toplabel [ "." ]; labels start and end alphanumeric. Real
    // traffic carries '_' in labels, so it is let through like Kamailio does.
    if (s.empty() || s.front() == '.' || s.front() == '-') return false;
    char prev = '.';
    for (char c : s) {
        if (!lex::is(c, lex::c_host)) return false;
        if (c == '.' && (prev == '.' || prev == '-')) return false;
        prev = c;
    }
    return prev != '-';
}

parse_error parse_sip_uri(std::string_view rest, uri& out) noexcept {
    // userinfo: neither user nor password may hold an unescaped '@', so the first '@' ends it.
    const std::size_t at = rest.find('@');
    if (at != std::string_view::npos) {
        const std::string_view userinfo = rest.substr(0, at);
        const std::size_t colon = userinfo.find(':');
        out.user = userinfo.substr(0, colon);
        if (!lex::all_of(out.user, lex::c_user, true)) return parse_error::invalid_uri;
        if (colon != std::string_view::npos) {
            out.password = userinfo.substr(colon + 1);
            if (!out.password.empty() && !lex::all_of(out.password, lex::c_password, true))
                return parse_error::invalid_uri;
        }
        rest.remove_prefix(at + 1);
    }
    std::size_t end = 0;
    while (end < rest.size() && rest[end] != ';' && rest[end] != '?') ++end;
    if (const parse_error e = parse_host_port(rest.substr(0, end), out.host, out.host_type, out.port,
                                              out.has_port);
        e != parse_error::none)
        return e;
    rest.remove_prefix(end);
    if (!rest.empty() && rest.front() == ';') {
        const std::size_t q = rest.find('?');
        const std::string_view params = rest.substr(1, q == std::string_view::npos ? q : q - 1);
        if (validate_params(params, true) != parse_error::none) return parse_error::invalid_param;
        out.params = param_list(params);
        rest.remove_prefix(q == std::string_view::npos ? rest.size() : q);
    }
    if (!rest.empty()) {  // '?' headers
        out.headers = rest.substr(1);
        for (std::size_t i = 0; i < out.headers.size(); ++i) {
            const char c = out.headers[i];
            if (lex::is(c, lex::c_hnv) || c == '=' || c == '&') continue;
            if (c == '%' && i + 2 < out.headers.size() && lex::is_hex(out.headers[i + 1]) &&
                lex::is_hex(out.headers[i + 2])) {
                i += 2;
                continue;
            }
            return parse_error::invalid_uri;
        }
    }
    return parse_error::none;
}

parse_error parse_tel_uri(std::string_view rest, uri& out) noexcept {
    // RFC 3966: telephone-subscriber *par; checked loosely, as phones write it.
    const std::size_t semi = rest.find(';');
    out.user = rest.substr(0, semi);
    if (!lex::all_of(out.user, lex::c_tel, true)) return parse_error::invalid_uri;
    if (semi != std::string_view::npos) {
        const std::string_view params = rest.substr(semi + 1);
        if (validate_params(params, true) != parse_error::none) return parse_error::invalid_param;
        out.params = param_list(params);
    }
    return parse_error::none;
}

} // namespace

parse_error parse_host_port(std::string_view text, std::string_view& host, host_kind& kind,
                            std::uint16_t& port, bool& has_port) noexcept {
    std::size_t host_end;
    if (!text.empty() && text.front() == '[') {
        host_end = text.find(']');
        if (host_end == std::string_view::npos) return parse_error::invalid_host;
        ++host_end;
        host = text.substr(0, host_end);
        if (!is_ipv6_reference(host)) return parse_error::invalid_host;
        kind = host_kind::ipv6;
    } else {
        host_end = text.find(':');
        host = text.substr(0, host_end);
        if (is_ipv4(host)) kind = host_kind::ipv4;
        else if (is_hostname(host)) kind = host_kind::hostname;
        else return parse_error::invalid_host;
    }
    if (host_end == std::string_view::npos || host_end == text.size()) {
        has_port = false;
        port = 0;
        return parse_error::none;
    }
    if (text[host_end] != ':' || !parse_port(text.substr(host_end + 1), port))
        return parse_error::invalid_port;
    has_port = true;
    return parse_error::none;
}

parse_error parse_uri(std::string_view text, uri& out) noexcept {
    out = uri{};
    out.text = text;
    const std::size_t colon = text.find(':');
    if (colon == 0 || colon == std::string_view::npos) return parse_error::invalid_uri;
    out.scheme_text = text.substr(0, colon);
    if (!(out.scheme_text[0] >= 'a' && out.scheme_text[0] <= 'z') &&
        !(out.scheme_text[0] >= 'A' && out.scheme_text[0] <= 'Z'))
        return parse_error::invalid_uri;
    if (!lex::all_of(out.scheme_text, lex::c_scheme, false)) return parse_error::invalid_uri;
    const std::string_view rest = text.substr(colon + 1);
    if (rest.empty()) return parse_error::invalid_uri;
    if (iequals(out.scheme_text, "sip")) {
        out.scheme = uri_scheme::sip;
        return parse_sip_uri(rest, out);
    }
    if (iequals(out.scheme_text, "sips")) {
        out.scheme = uri_scheme::sips;
        return parse_sip_uri(rest, out);
    }
    if (iequals(out.scheme_text, "tel")) {
        out.scheme = uri_scheme::tel;
        return parse_tel_uri(rest, out);
    }
    out.scheme = uri_scheme::other;
    out.opaque = rest;
    for (char c : rest)
        if (lex::is_ws(c) || c == '<' || c == '>' || c == '"' || static_cast<unsigned char>(c) < 0x20)
            return parse_error::invalid_uri;
    return parse_error::none;
}

} // namespace sipfast::sip
