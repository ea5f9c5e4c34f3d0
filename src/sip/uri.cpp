// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/uri.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#include "lex.hpp"
#include "decode.hpp"
#include "host_port.hpp"
#include "span.hpp"
#include "param_scan.hpp"

namespace sipfast::sip {

namespace detail {

parse_error host_port_at(std::string_view s, std::size_t i, std::string_view& host, host_kind& kind,
                         std::uint16_t& port, bool& has_port, std::size_t& end) noexcept {
    const std::size_t begin = i;
    if (i < s.size() && s[i] == '[') {
        // IPv6reference, checked loosely: hex digits, ':' and '.' (for a v4 tail), 2..7 colons.
        unsigned colons = 0;
        ++i;
        while (i < s.size() && (lex::is_hex(s[i]) || s[i] == ':' || s[i] == '.')) colons += s[i++] == ':';
        if (i == s.size() || s[i] != ']' || colons < 2 || colons > 7) return parse_error::invalid_host;
        ++i;
        kind = host_kind::ipv6;
    } else {
        // IPv4address first, as most hosts in the field are: four octets read in one pass.
        kind = host_kind::hostname;
        if (i < s.size() && lex::is_digit(s[i])) {
            // dec-octet "." dec-octet "." dec-octet "." dec-octet, one to three digits each.
            // Sixteen bytes left hold any address and the byte after it: no end to check per digit.
            const bool room = s.size() - i >= 16;
            const auto digit = [&](std::size_t k) {
                return room || k < s.size() ? static_cast<unsigned>(static_cast<unsigned char>(s[k])) - '0' : 10u;
            };
            std::size_t j = i;
            bool ok = true;
            for (unsigned octet = 0; ok && octet < 4; ++octet) {
                unsigned v = digit(j);
                ok = v <= 9;
                if (!ok) break;
                ++j;
                if (const unsigned d1 = digit(j); d1 <= 9) {
                    v = v * 10 + d1;
                    ++j;
                    if (const unsigned d2 = digit(j); d2 <= 9) {
                        v = v * 10 + d2;
                        ++j;
                    }
                }
                ok = v <= 255 && (octet == 3 || ((room || j < s.size()) && s[j++] == '.'));
            }
            if (ok && (j == s.size() || !lex::is(s[j], lex::c_host))) {
                kind = host_kind::ipv4;
                i = j;
            }
        }
        if (kind == host_kind::hostname) {
            // hostname = *( domainlabel "." ) toplabel [ "." ]. Checked as Kamailio does: host
            // characters (with '_', seen in the field), not starting with '.' or '-', not ending in '-'.
            i = lex::span<lex::c_host>(s, i);
            if (i == begin || s[begin] == '.' || s[begin] == '-' || s[i - 1] == '-') return parse_error::invalid_host;
        }
    }
    host = lex::slice(s, begin, i - begin);
    has_port = false;
    port = 0;
    if (i < s.size() && s[i] == ':') {
        ++i;
        std::uint32_t v = 0;
        const std::size_t digits_begin = i;
        const std::size_t stop = std::min(s.size(), i + 6);  // a sixth digit is already too many
        while (i < stop && lex::is_digit(s[i])) v = v * 10 + static_cast<std::uint32_t>(s[i++] - '0');
        if (i == digits_begin || i - digits_begin > 5 || v > 65535) return parse_error::invalid_port;
        port = static_cast<std::uint16_t>(v);
        has_port = true;
    }
    end = i;
    return parse_error::none;
}

} // namespace detail

namespace {

parse_error parse_sip_uri(std::string_view s, std::size_t i, uri& out) noexcept {
    // userinfo: user [":" password] "@". A span over the user's characters, and on past a ':'
    // over what userinfo may hold; if an '@' ends it, it was userinfo, else the host starts back
    // at i.
    const std::size_t user_end = lex::span_escaped<lex::c_user>(s, i);
    const bool colon = user_end < s.size() && s[user_end] == ':';
    const std::size_t span = colon ? lex::span_escaped<lex::c_userinfo>(s, user_end + 1) : user_end;
    if (span < s.size() && s[span] == '@') {
        out.user = lex::slice(s, i, user_end - i);
        if (out.user.empty()) return parse_error::invalid_uri;
        if (colon) {
            out.password = lex::slice(s, user_end + 1, span - user_end - 1);
            if (!out.password.empty() && !lex::all_of(out.password, lex::c_password, true))
                return parse_error::invalid_uri;
        }
        i = span + 1;
    }
    // A fault after an '@' that did not end the userinfo span is a fault in the userinfo.
    const auto fault = [&](parse_error e) {
        for (std::size_t k = i; k < s.size(); ++k)
            if (s[k] == '@') return parse_error::invalid_uri;
        return e;
    };
    std::size_t end = 0;
    if (const parse_error e = detail::host_port_at(s, i, out.host, out.host_type, out.port, out.has_port, end);
        e != parse_error::none)
        return fault(e);
    i = end;
    if (i < s.size() && s[i] == ';') {
        std::size_t params_end = 0;
        if (detail::scan_params(s, i + 1, detail::param_syntax::uri, false, params_end, [](const param&) {}) !=
            parse_error::none)
            return parse_error::invalid_param;
        out.params = param_list(lex::slice(s, i + 1, params_end - i - 1));
        i = params_end;
    }
    if (i < s.size() && s[i] == '?') {
        const std::size_t h = i + 1;
        for (i = h; i < s.size(); ++i) {
            const char c = s[i];
            if (lex::is(c, lex::c_hnv) || c == '=' || c == '&') continue;
            if (c == '%' && i + 2 < s.size() && lex::is_hex(s[i + 1]) && lex::is_hex(s[i + 2])) {
                i += 2;
                continue;
            }
            return parse_error::invalid_uri;
        }
        out.headers = lex::slice(s, h);
    }
    if (i != s.size()) return fault(s[i] == ':' ? parse_error::invalid_port : parse_error::invalid_host);
    return parse_error::none;
}

parse_error parse_tel_uri(std::string_view s, std::size_t i, uri& out) noexcept {
    // RFC 3966: telephone-subscriber *par; checked loosely, as phones write it.
    const std::size_t end = lex::span_escaped<lex::c_tel>(s, i);
    out.user = lex::slice(s, i, end - i);
    if (out.user.empty()) return parse_error::invalid_uri;
    if (end == s.size()) return parse_error::none;
    if (s[end] != ';') return parse_error::invalid_uri;
    std::size_t params_end = 0;
    if (detail::scan_params(s, end + 1, detail::param_syntax::uri, false, params_end, [](const param&) {}) !=
            parse_error::none ||
        params_end != s.size())
        return parse_error::invalid_param;
    out.params = param_list(lex::slice(s, end + 1));
    return parse_error::none;
}

bool scheme_is(std::string_view scheme, char a, char b, char c, char d = 0) noexcept {
    const auto low = [](char x) { return static_cast<char>(x | 0x20); };
    if (scheme.size() != (d ? 4u : 3u)) return false;
    return low(scheme[0]) == a && low(scheme[1]) == b && low(scheme[2]) == c && (!d || low(scheme[3]) == d);
}

} // namespace

parse_error parse_uri(std::string_view text, uri& out) noexcept {
    static constexpr uri blank{};  // see decode.hpp: not a temporary
    out = blank;
    return detail::decode_uri(text, out);
}

parse_error detail::decode_uri(std::string_view text, uri& out) noexcept {
    out.text = text;
    // Most URIs are sip: ones, read as one word: OR 0x20 folds the letters and leaves ':', and
    // only 's'/'S', 'i'/'I' and 'p'/'P' fold onto those letters.
    if (text.size() > 4) {
        constexpr auto word = [](char a, char b, char c, char d) {
            return std::bit_cast<std::uint32_t>(std::array<char, 4>{a, b, c, d});
        };
        std::uint32_t w = 0;
        std::memcpy(&w, text.data(), 4);
        if ((w | word(0x20, 0x20, 0x20, 0)) == word('s', 'i', 'p', ':')) {
            out.scheme_text = lex::slice(text, 0, 3);
            out.scheme = uri_scheme::sip;
            return parse_sip_uri(text, 4, out);
        }
    }
    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    const std::size_t colon = lex::span<lex::c_scheme>(text, 0);
    if (colon == 0 || colon == text.size() || text[colon] != ':' || lex::is_digit(text[0]) ||
        text[0] == '+' || text[0] == '-' || text[0] == '.')
        return parse_error::invalid_uri;
    out.scheme_text = lex::slice(text, 0, colon);
    const std::size_t i = colon + 1;
    if (i == text.size()) return parse_error::invalid_uri;
    if (scheme_is(out.scheme_text, 's', 'i', 'p')) {
        out.scheme = uri_scheme::sip;
        return parse_sip_uri(text, i, out);
    }
    if (scheme_is(out.scheme_text, 's', 'i', 'p', 's')) {
        out.scheme = uri_scheme::sips;
        return parse_sip_uri(text, i, out);
    }
    if (scheme_is(out.scheme_text, 't', 'e', 'l')) {
        out.scheme = uri_scheme::tel;
        return parse_tel_uri(text, i, out);
    }
    out.scheme = uri_scheme::other;
    out.opaque = lex::slice(text, i);
    for (char c : out.opaque)
        if (lex::is_ws(c) || c == '<' || c == '>' || c == '"' || static_cast<unsigned char>(c) < 0x20)
            return parse_error::invalid_uri;
    return parse_error::none;
}

} // namespace sipfast::sip
