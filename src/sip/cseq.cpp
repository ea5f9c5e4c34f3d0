// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/cseq.hpp"

#include "lex.hpp"

namespace sipfast::sip {

parse_error parse_uint(std::string_view text, std::uint32_t max, std::uint32_t& out) noexcept {
    if (text.empty()) return parse_error::empty_value;
    std::uint64_t v = 0;
    for (char c : text) {
        if (!lex::is_digit(c)) return parse_error::invalid_number;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > max) return parse_error::number_out_of_range;
    }
    out = static_cast<std::uint32_t>(v);
    return parse_error::none;
}

parse_error parse_cseq(std::string_view text, cseq& out) noexcept {
    static constexpr cseq blank{};  // see decode.hpp: not a temporary
    out = blank;
    const std::string_view t = lex::trim(text);
    if (t.empty()) return parse_error::empty_value;
    std::size_t i = 0;
    while (i < t.size() && lex::is_digit(t[i])) ++i;
    if (i == 0 || i == t.size() || !lex::is_ws(t[i])) return parse_error::invalid_number;
    // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31.
    if (const parse_error e = parse_uint(lex::slice(t, 0, i), 0x7fffffffu, out.number);
        e != parse_error::none)
        return e;
    out.method_text = lex::trim_left(lex::slice(t, i));
    out.method = classify_method(out.method_text);  // a known method is a token
    if (out.method == method::other && !lex::all_of(out.method_text, lex::c_token, false))
        return parse_error::invalid_token;
    return parse_error::none;
}

} // namespace sipfast::sip
