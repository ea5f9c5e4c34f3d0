// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/message.hpp"

#include <functional>

#include <emmintrin.h>

#include "lex.hpp"
#include "span.hpp"

namespace sipfast::sip {

// Every field before the on-demand caches is zero in a default message (a test checks each byte),
// so clearing them is storing zeros, sixteen bytes a store. Neither memset nor a copy of a blank
// message: at this size the compiler makes a `rep stos` or `rep movs` of either, microcoded, which
// cost an INVITE's parse 6 ns more (bench/RESULTS.md); the empty asm hides the zero from it so the
// loop stays stores. The caches' 800 bytes need only their state reset.
void message::clear() noexcept {
    const auto prefix = static_cast<std::size_t>(reinterpret_cast<const char*>(&from) - reinterpret_cast<const char*>(this));
    char* const p = reinterpret_cast<char*>(this);
    __m128i zero = _mm_setzero_si128();
    asm("" : "+x"(zero));
#pragma GCC unroll 64
    for (std::size_t i = 0; i + 16 <= prefix; i += 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(p + i), zero);
    if (prefix % 16 != 0) _mm_storeu_si128(reinterpret_cast<__m128i*>(p + prefix - 16), zero);
    from.reset();
    to.reset();
    first_contact.reset();
}

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

std::string_view message::content_type() const noexcept {
    const header* h = find(header_id::content_type);
    std::string_view type;
    if (h == nullptr || parse_media_type(h->value, type) != parse_error::none) return {};
    return type;
}

parse_error parse_media_type(std::string_view value, std::string_view& type) noexcept {
    const std::string_view t = lex::trim(lex::slice(value, 0, value.find(';')));
    const std::size_t slash = t.find('/');
    if (slash == std::string_view::npos || !lex::all_of(lex::trim(lex::slice(t, 0, slash)), lex::c_token, false) ||
        !lex::all_of(lex::trim(lex::slice(t, slash + 1)), lex::c_token, false))
        return parse_error::invalid_token;
    type = t;
    return parse_error::none;
}

std::size_t message::count(header_id id) const noexcept {
    std::size_t n = 0;
    for (const header& h : headers) n += h.id == id;
    return n;
}

std::string_view rest_after(std::string_view list, std::string_view value) noexcept {
    const char* const end = list.data() + list.size();
    const char* const after = value.data() + value.size();
    const std::less<const char*> before;  // total order, even for a value from another text
    if (before(value.data(), list.data()) || before(end, after)) return {};
    const std::string_view tail(after, static_cast<std::size_t>(end - after));
    const std::size_t comma = tail.find_first_not_of(" \t\r\n");
    return comma != std::string_view::npos && tail[comma] == ',' ? lex::slice(tail, comma + 1) : std::string_view{};
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
