// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/hop_request.hpp"

#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/header_id.hpp"

namespace sipfast::txn {

std::size_t write_hop_request(const sip::message& invite, std::string_view method, std::string_view to_value,
                              std::span<char> out) noexcept {
    const sip::header* via = invite.find(sip::header_id::via);
    if (via == nullptr) return 0;
    core::text_writer w(out);
    w.put(method).put(' ').put(invite.request_uri_text).put(" SIP/2.0\r\nVia: ").put(via->value);
    w.put("\r\nMax-Forwards: 70\r\n");
    for (const sip::header& h : invite.headers) {
        if (h.id == sip::header_id::from || h.id == sip::header_id::call_id || h.id == sip::header_id::route ||
            (h.id == sip::header_id::to && to_value.empty()))
            w.put(sip::header_name(h.id)).put(": ").put(h.value).put("\r\n");
    }
    if (!to_value.empty()) w.put("To: ").put(to_value).put("\r\n");
    w.put("CSeq: ").number(invite.cseq.number).put(' ').put(method).put("\r\nContent-Length: 0\r\n\r\n");
    return w.ok() ? w.size() : 0;
}

} // namespace sipfast::txn
