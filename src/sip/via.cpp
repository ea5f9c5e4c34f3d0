// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/via.hpp"

#include "lex.hpp"
#include "sipfast/sip/cseq.hpp"

namespace sipfast::sip {

namespace {

// token SWS, with the text advanced past it.
std::string_view take_token(std::string_view& s) noexcept {
    std::size_t i = 0;
    while (i < s.size() && lex::is(s[i], lex::c_token)) ++i;
    const std::string_view tok = s.substr(0, i);
    s = lex::trim_left(s.substr(i));
    return tok;
}

bool take_slash(std::string_view& s) noexcept {  // SLASH = SWS "/" SWS
    if (s.empty() || s.front() != '/') return false;
    s = lex::trim_left(s.substr(1));
    return true;
}

} // namespace

transport classify_transport(std::string_view token) noexcept {
    switch (token.size()) {
    case 2:
        if (iequals(token, "WS")) return transport::ws;
        break;
    case 3:
        if (iequals(token, "UDP")) return transport::udp;
        if (iequals(token, "TCP")) return transport::tcp;
        if (iequals(token, "TLS")) return transport::tls;
        if (iequals(token, "WSS")) return transport::wss;
        break;
    case 4:
        if (iequals(token, "SCTP")) return transport::sctp;
        break;
    default: break;
    }
    return transport::unknown;
}

parse_error parse_via(std::string_view text, via& out) noexcept {
    out = via{};
    std::string_view s = lex::trim(text);
    out.text = s;
    if (s.empty()) return parse_error::empty_value;

    // sent-protocol = protocol-name SLASH protocol-version SLASH transport
    out.protocol_name = take_token(s);
    if (out.protocol_name.empty() || !take_slash(s)) return parse_error::invalid_sent_protocol;
    out.protocol_version = take_token(s);
    if (out.protocol_version.empty() || !take_slash(s)) return parse_error::invalid_sent_protocol;
    const std::string_view before = s;
    out.transport_text = take_token(s);
    if (out.transport_text.empty() || s.size() == before.size() - out.transport_text.size())
        return parse_error::invalid_sent_protocol;  // needs LWS before sent-by
    out.transport = classify_transport(out.transport_text);

    // sent-by = host [ COLON port ], COLON = SWS ":" SWS
    const std::size_t semi = s.find(';');
    std::string_view sent_by = lex::trim(s.substr(0, semi));
    std::size_t colon = sent_by.rfind(':');
    if (!sent_by.empty() && sent_by.front() == '[' && colon < sent_by.find(']')) colon = std::string_view::npos;
    std::string_view host = sent_by;
    std::string_view port;
    if (colon != std::string_view::npos) {
        host = lex::trim(sent_by.substr(0, colon));
        port = lex::trim(sent_by.substr(colon + 1));
        if (port.empty()) return parse_error::invalid_port;
    }
    if (host.empty()) return parse_error::invalid_host;
    if (const parse_error e = parse_host_port(host, out.host, out.host_type, out.port, out.has_port);
        e != parse_error::none || out.has_port)
        return e != parse_error::none ? e : parse_error::invalid_host;
    if (!port.empty()) {
        std::uint32_t p = 0;
        if (parse_uint(port, 65535, p) != parse_error::none) return parse_error::invalid_port;
        out.port = static_cast<std::uint16_t>(p);
        out.has_port = true;
    }
    if (semi == std::string_view::npos) return parse_error::none;

    const std::string_view params = s.substr(semi + 1);
    if (const parse_error e = validate_params(params, false); e != parse_error::none) return e;
    out.params = param_list(params);
    parse_error bad = parse_error::none;
    out.params.for_each([&](const param& p) {
        if (iequals(p.name, "branch")) {
            if (out.branch.empty()) out.branch = p.value;
        } else if (iequals(p.name, "received")) {
            if (out.received.empty()) out.received = p.value;
        } else if (iequals(p.name, "rport")) {
            if (!p.has_value) {
                out.rport = rport_state::empty;
            } else {
                std::uint32_t v = 0;
                if (parse_uint(p.value, 65535, v) != parse_error::none) bad = parse_error::invalid_param;
                out.rport = rport_state::value;
                out.rport_value = static_cast<std::uint16_t>(v);
            }
        } else if (iequals(p.name, "maddr")) {
            out.maddr = p.value;
        } else if (iequals(p.name, "ttl")) {
            std::uint32_t v = 0;
            if (parse_uint(p.value, 255, v) != parse_error::none) bad = parse_error::invalid_param;
            out.has_ttl = true;
            out.ttl = static_cast<std::uint8_t>(v);
        }
        return bad == parse_error::none;
    });
    return bad;
}

} // namespace sipfast::sip
