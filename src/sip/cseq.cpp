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
    // RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31. It is read as its digits
    // are found; once past that, no more are added (leading zeros add nothing).
    constexpr std::uint64_t max = 0x7fffffffu;
    std::size_t i = 0;
    std::uint64_t v = 0;
    for (; i < t.size() && lex::is_digit(t[i]); ++i)
        if (v <= max) v = v * 10 + static_cast<std::uint64_t>(t[i] - '0');
    if (i == 0 || i == t.size() || !lex::is_ws(t[i])) return parse_error::invalid_number;
    if (v > max) return parse_error::number_out_of_range;
    out.number = static_cast<std::uint32_t>(v);
    out.method_text = lex::trim_left(lex::slice(t, i));
    out.method = classify_method(out.method_text);  // a known method is a token
    if (out.method == method::other && !lex::all_of(out.method_text, lex::c_token, false))
        return parse_error::invalid_token;
    return parse_error::none;
}

} // namespace sipfast::sip
