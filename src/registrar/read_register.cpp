// SPDX-License-Identifier: Apache-2.0
#include "sipfast/registrar/read_register.hpp"

#include <charconv>

#include "sipfast/sip/name_addr.hpp"

namespace sipfast::registrar {

namespace {

// reg-id is a positive 31-bit number (RFC 5626 §4.2); anything else counts as none.
std::uint32_t reg_id_of(const sip::param_list& params) noexcept {
    const std::string_view v = params.find("reg-id").value;
    std::uint32_t n = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    return ec == std::errc{} && end == v.data() + v.size() && n < (1u << 31) ? n : 0;
}

} // namespace

register_fault read_register(const sip::message& m, const flow& received, register_room& room,
                             register_request& out) noexcept {
    out = {};
    out.call_id = m.call_id;
    out.cseq = m.cseq.number;
    out.has_expires = m.has_expires;
    out.expires_s = m.expires;
    out.received = received;
    std::size_t contacts = 0, paths = 0;
    for (const sip::header& h : m.headers) {
        if (h.id == sip::header_id::path) {
            std::string_view rest = h.value;
            while (!rest.empty()) {
                sip::name_addr value;
                if (sip::parse_name_addr(rest, value, &rest) != sip::parse_error::none) return register_fault::bad_contact;
                if (paths == room.path.size()) return register_fault::too_many_bindings;
                room.path[paths++] = value.text;
            }
            continue;
        }
        if (h.id != sip::header_id::contact) continue;
        std::string_view rest = h.value;
        while (!rest.empty()) {
            sip::contact c;
            if (sip::parse_contact(rest, c, &rest) != sip::parse_error::none) return register_fault::bad_contact;
            if (c.star) {
                out.star = true;
                continue;
            }
            if (contacts == room.contacts.size()) return register_fault::too_many_bindings;
            contact_request& r = room.contacts[contacts++];
            r.uri = c.addr.address.text;
            r.params = c.addr.params.text();
            r.instance = c.addr.params.find("+sip.instance").value;
            r.reg_id = r.instance.empty() ? 0 : reg_id_of(c.addr.params);
            r.has_expires = c.has_expires;
            r.expires_s = c.expires;
            r.has_q = c.has_q;
            r.q_milli = c.q_milli;
        }
    }
    out.contacts = {room.contacts.data(), contacts};
    out.path = {room.path.data(), paths};
    return register_fault::none;
}

} // namespace sipfast::registrar
