// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/message.hpp"

#include "lex.hpp"
#include "span.hpp"

namespace sipfast::sip {

const header* message::find(header_id id) const noexcept {
    if (!has(id)) return nullptr;
    for (const header& h : headers)
        if (h.id == id) return &h;
    return nullptr;
}

const header* message::find(std::string_view name) const noexcept {
    for (const header& h : headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

std::size_t message::count(header_id id) const noexcept {
    std::size_t n = 0;
    for (const header& h : headers) n += h.id == id;
    return n;
}

std::string_view next_value(std::string_view& rest) noexcept {
    int angle = 0;
    // Only quotes, angle brackets and commas matter: skip to them sixteen bytes at a time (a Via
    // or Route value has none of them for most of its length).
    for (std::size_t i = lex::find_any(rest, 0, '"', '<', '>', ','); i < rest.size();
         i = lex::find_any(rest, i + 1, '"', '<', '>', ',')) {
        const char c = rest[i];
        if (c == '"') {
            const std::size_t q = lex::quoted_end_fast(rest, i);
            if (q == std::string_view::npos) break;
            i = q;
        } else if (c == '<') {
            ++angle;
        } else if (c == '>') {
            if (angle > 0) --angle;
        } else if (c == ',' && angle == 0) {
            const std::string_view v = lex::trim(lex::slice(rest, 0, i));
            rest = lex::slice(rest, i + 1);
            return v;
        }
    }
    const std::string_view v = lex::trim(rest);
    rest = {};
    return v;
}

} // namespace sipfast::sip
