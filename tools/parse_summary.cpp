// SPDX-License-Identifier: Apache-2.0
#include "parse_summary.hpp"

namespace sipfast::tools {

namespace {

std::string number(bool present, unsigned long v) { return present ? std::to_string(v) : std::string{}; }

std::string rport(const sip::via& v) {
    switch (v.rport) {
    case sip::rport_state::absent: return "absent";
    case sip::rport_state::empty: return "empty";
    case sip::rport_state::value: return std::to_string(v.rport_value);
    }
    return {};
}

} // namespace

summary summarize(const sip::message& m) {
    const bool req = m.is_request();
    const sip::via& v = m.top_via;
    std::string contact;
    const sip::contact* c = m.has_contact ? m.first_contact.get() : nullptr;
    if (c != nullptr) contact = c->star ? "*" : std::string(c->addr.address.text);
    const auto uri_of = [](const sip::party& p) {
        const sip::name_addr* decoded = p.get();
        return decoded != nullptr ? std::string(decoded->address.text) : std::string{};
    };
    return {
        {"type", req ? "request" : m.is_response() ? "response" : "keepalive"},
        {"method", std::string(m.method_text)},
        {"request_uri", std::string(m.request_uri_text)},
        {"status", number(m.is_response(), m.status_code)},
        {"reason", std::string(m.reason)},
        {"via_transport", std::string(v.transport_text)},
        {"via_host", std::string(v.host)},
        {"via_port", number(v.has_port, v.port)},
        {"via_branch", std::string(v.branch)},
        {"via_received", std::string(v.received)},
        {"via_rport", rport(v)},
        {"call_id", std::string(m.call_id)},
        {"cseq", m.cseq.method_text.empty() ? std::string{}
                                            : std::to_string(m.cseq.number) + " " + std::string(m.cseq.method_text)},
        {"from_uri", uri_of(m.from)},
        {"from_tag", std::string(m.from.tag)},
        {"to_uri", uri_of(m.to)},
        {"to_tag", std::string(m.to.tag)},
        {"contact_uri", contact},
        {"max_forwards", number(m.has_max_forwards, m.max_forwards)},
        {"content_length", number(m.has_content_length, m.content_length)},
        {"content_type", std::string(m.content_type())},
        {"expires", number(m.has_expires, m.expires)},
        {"route_uri", m.has_route ? std::string(m.top_route.address.text) : std::string{}},
        {"header_count", std::to_string(m.headers.size())},
        {"body_length", std::to_string(m.body.size())},
    };
}

std::string to_text(const summary& s) {
    std::string out;
    for (const auto& [k, v] : s) {
        out += k;
        out += ':';
        if (!v.empty()) {
            out += ' ';
            out += v;
        }
        out += '\n';
    }
    return out;
}

} // namespace sipfast::tools
