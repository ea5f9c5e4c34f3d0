// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/hop_request.hpp"

#include <array>
#include <charconv>
#include <cstring>

#include "sipfast/sip/header_id.hpp"

namespace sipfast::txn {

std::size_t write_hop_request(const sip::message& invite, std::string_view method, std::string_view to_value,
                              std::span<char> out) noexcept {
    std::size_t n = 0;
    bool ok = true;
    const auto put = [&](std::string_view s) {
        if (s.size() > out.size() - n) {
            ok = false;
            return;
        }
        std::memcpy(out.data() + n, s.data(), s.size());
        n += s.size();
    };
    std::array<char, 16> num{};
    const auto [end, ec] = std::to_chars(num.data(), num.data() + num.size(), invite.cseq.number);
    (void)ec;  // ten digits always fit
    const sip::header* via = invite.find(sip::header_id::via);
    if (via == nullptr) return 0;
    put(method);
    put(" ");
    put(invite.request_uri_text);
    put(" SIP/2.0\r\nVia: ");
    put(via->value);
    put("\r\nMax-Forwards: 70\r\n");
    for (const sip::header& h : invite.headers) {
        if (h.id == sip::header_id::from || h.id == sip::header_id::call_id || h.id == sip::header_id::route ||
            (h.id == sip::header_id::to && to_value.empty())) {
            put(sip::header_name(h.id));
            put(": ");
            put(h.value);
            put("\r\n");
        }
    }
    if (!to_value.empty()) {
        put("To: ");
        put(to_value);
        put("\r\n");
    }
    put("CSeq: ");
    put({num.data(), static_cast<std::size_t>(end - num.data())});
    put(" ");
    put(method);
    put("\r\nContent-Length: 0\r\n\r\n");
    return ok ? n : 0;
}

} // namespace sipfast::txn
