// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/via.hpp"

#include <cstring>

#include "decode.hpp"
#include "host_port.hpp"
#include "span.hpp"
#include "lex.hpp"
#include "param_scan.hpp"
#include "sipfast/sip/cseq.hpp"

namespace sipfast::sip {

namespace {

// token SWS, with i advanced past both.
std::string_view take_token(std::string_view s, std::size_t& i) noexcept {
    const std::size_t begin = i;
    i = lex::span<lex::c_token>(s, i);
    const std::string_view tok = lex::slice(s, begin, i - begin);
    i = detail::skip_ws(s, i);
    return tok;
}

bool take_slash(std::string_view s, std::size_t& i) noexcept {  // SLASH = SWS "/" SWS
    if (i == s.size() || s[i] != '/') return false;
    i = detail::skip_ws(s, i + 1);
    return true;
}

bool name_is(std::string_view name, std::string_view lower) noexcept { return lex::iequal_letters(name, lower); }

} // namespace

transport classify_transport(std::string_view token) noexcept {
    switch (token.size()) {
    case 2:
        if (lex::iequal_letters(token, "ws")) return transport::ws;
        break;
    case 3:
        if (lex::iequal_letters(token, "udp")) return transport::udp;
        if (lex::iequal_letters(token, "tcp")) return transport::tcp;
        if (lex::iequal_letters(token, "tls")) return transport::tls;
        if (lex::iequal_letters(token, "wss")) return transport::wss;
        break;
    case 4:
        if (lex::iequal_letters(token, "sctp")) return transport::sctp;
        break;
    default: break;
    }
    return transport::unknown;
}

parse_error parse_via(std::string_view text, via& out, std::string_view* rest) noexcept {
    static constexpr via blank{};  // see decode.hpp: not a temporary
    out = blank;
    return detail::decode_via(text, out, rest);
}

parse_error detail::decode_via(std::string_view text, via& out, std::string_view* rest) noexcept {
    const std::string_view s = text;
    std::size_t i = detail::skip_ws(s, 0);
    if (i == s.size()) return parse_error::empty_value;

    // sent-protocol = protocol-name SLASH protocol-version SLASH transport. The field writes the
    // first two "SIP/2.0/" without LWS: that shape is matched at once, the grammar reads the rest.
    if (s.size() - i > 8 && std::memcmp(s.data() + i, "SIP/2.0/", 8) == 0) {
        out.protocol_name = lex::slice(s, i, 3);
        out.protocol_version = lex::slice(s, i + 4, 3);
        i = detail::skip_ws(s, i + 8);
    } else {
        out.protocol_name = take_token(s, i);
        if (out.protocol_name.empty() || !take_slash(s, i)) return parse_error::invalid_sent_protocol;
        out.protocol_version = take_token(s, i);
        if (out.protocol_version.empty() || !take_slash(s, i)) return parse_error::invalid_sent_protocol;
    }
    const std::size_t transport_begin = i;
    if (s.size() - i > 4 && s[i + 3] == ' ' && (out.transport = classify_transport(lex::slice(s, i, 3))) != transport::unknown) {
        // "UDP " and its kind: three letters and the one space that ends them, read at once.
        out.transport_text = lex::slice(s, i, 3);
        i = detail::skip_ws(s, i + 4);
    } else {
        out.transport_text = take_token(s, i);
        if (out.transport_text.empty() || i == transport_begin + out.transport_text.size())
            return parse_error::invalid_sent_protocol;  // LWS must separate it from sent-by
        out.transport = classify_transport(out.transport_text);
    }

    // sent-by = host [ COLON port ], COLON = SWS ":" SWS
    std::size_t end = 0;
    if (const parse_error e = detail::host_port_at(s, i, out.host, out.host_type, out.port, out.has_port, end);
        e != parse_error::none)
        return e;
    i = detail::skip_ws(s, end);
    if (!out.has_port && i < s.size() && s[i] == ':') {
        i = detail::skip_ws(s, i + 1);
        std::uint32_t v = 0;
        const std::size_t digits = i;
        while (i < s.size() && lex::is_digit(s[i]) && i - digits < 6) v = v * 10 + static_cast<std::uint32_t>(s[i++] - '0');
        if (i == digits || i - digits > 5 || v > 65535) return parse_error::invalid_port;
        out.port = static_cast<std::uint16_t>(v);
        out.has_port = true;
        i = detail::skip_ws(s, i);
    }

    if (i < s.size() && s[i] == ';') {
        const std::size_t params_begin = i + 1;
        parse_error bad = parse_error::none;
        const parse_error e = detail::scan_params(
            s, params_begin, detail::param_syntax::header, rest != nullptr, i, [&](const param& p) {
                switch (p.name.size()) {
                case 3:
                    if (name_is(p.name, "ttl")) {
                        std::uint32_t v = 0;
                        if (parse_uint(p.value, 255, v) != parse_error::none) bad = parse_error::invalid_param;
                        out.has_ttl = true;
                        out.ttl = static_cast<std::uint8_t>(v);
                    }
                    break;
                case 5:
                    if (name_is(p.name, "rport")) {
                        if (!p.has_value) {
                            out.rport = rport_state::empty;
                        } else {
                            std::uint32_t v = 0;
                            if (parse_uint(p.value, 65535, v) != parse_error::none) bad = parse_error::invalid_param;
                            out.rport = rport_state::value;
                            out.rport_value = static_cast<std::uint16_t>(v);
                        }
                    } else if (name_is(p.name, "maddr")) {
                        out.maddr = p.value;
                    }
                    break;
                case 6:
                    if (out.branch.empty() && name_is(p.name, "branch")) out.branch = p.value;
                    break;
                case 8:
                    if (out.received.empty() && name_is(p.name, "received")) out.received = p.value;
                    break;
                default: break;
                }
            });
        if (e != parse_error::none) return e;
        if (bad != parse_error::none) return bad;
        std::size_t params_end = i;
        while (params_end > params_begin && lex::is_ws(s[params_end - 1])) --params_end;
        out.params = param_list(lex::slice(s, params_begin, params_end - params_begin));
    }
    out.text = lex::trim(lex::slice(s, 0, i));
    if (i == s.size()) {
        if (rest) *rest = {};
        return parse_error::none;
    }
    if (rest && s[i] == ',') {
        *rest = lex::slice(s, i + 1);
        return parse_error::none;
    }
    return s[i] == ':' ? parse_error::invalid_port
                       : (s[i] == '"' ? parse_error::unterminated_quote : parse_error::invalid_host);
}

} // namespace sipfast::sip
