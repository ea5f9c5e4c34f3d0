// SPDX-License-Identifier: Apache-2.0
// One pass over a parameter list that checks its grammar and hands each parameter to the caller,
// so decoders read their parameters (branch, tag, expires, ...) without a second walk. Private.
#pragma once

#include <cstddef>
#include <string_view>

#include "lex.hpp"
#include "span.hpp"
#include "sipfast/sip/params.hpp"
#include "sipfast/sip/parse_error.hpp"

namespace sipfast::sip::detail {

enum class param_syntax : unsigned char {
    uri,     // uri-parameter: paramchar and escapes, no whitespace; ends at '?' or '>'
    header,  // generic-param: token [EQUAL (token / host / quoted-string)], LWS around ; and =
};

inline constexpr std::size_t skip_ws(std::string_view s, std::size_t i) noexcept {
    while (i < s.size() && lex::is_ws(s[i])) ++i;
    return i;
}

/// Scans parameters starting at s[i], just past a ';'. Calls on_param(const param&) for each.
/// Stops at the end of s, at a top-level ',' when stop_at_comma (header syntax), or at '?' / '>'
/// (uri syntax); `end` is where it stopped. Returns none or the fault.
template <class F>
parse_error scan_params(std::string_view s, std::size_t i, param_syntax syntax, bool stop_at_comma,
                        std::size_t& end, F&& on_param) noexcept {
    const bool hdr = syntax == param_syntax::header;
    for (;;) {
        if (hdr) i = skip_ws(s, i);
        param p;
        const std::size_t name_begin = i;
        i = hdr ? lex::span<lex::c_token>(s, i) : lex::span_escaped<lex::c_param>(s, i);
        p.name = lex::slice(s, name_begin, i - name_begin);
        if (p.name.empty()) return parse_error::invalid_param;
        if (hdr) i = skip_ws(s, i);
        if (i < s.size() && s[i] == '=') {
            ++i;
            if (hdr) i = skip_ws(s, i);
            const std::size_t value_begin = i;
            if (hdr && i < s.size() && s[i] == '"') {
                const std::size_t q = lex::quoted_end_fast(s, i);
                if (q == std::string_view::npos) return parse_error::unterminated_quote;
                i = q + 1;
            } else if (hdr) {
                i = lex::span<lex::c_gen_value>(s, i);
            } else {
                i = lex::span_escaped<lex::c_param>(s, i);
            }
            p.value = lex::slice(s, value_begin, i - value_begin);
            if (p.value.empty()) return parse_error::invalid_param;
            p.has_value = true;
            if (hdr) i = skip_ws(s, i);
        }
        on_param(p);
        if (i == s.size()) break;
        const char c = s[i];
        if (c == ';') {
            ++i;
            continue;
        }
        if ((hdr && stop_at_comma && c == ',') || (!hdr && (c == '?' || c == '>'))) break;
        if (hdr && c == '"') return parse_error::unterminated_quote;
        return parse_error::invalid_param;
    }
    end = i;
    return parse_error::none;
}

} // namespace sipfast::sip::detail
