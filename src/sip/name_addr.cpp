// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/name_addr.hpp"

#include "decode.hpp"
#include "lex.hpp"
#include "span.hpp"
#include "param_scan.hpp"
#include "sipfast/sip/cseq.hpp"

namespace sipfast::sip {

namespace {

constexpr std::size_t npos = std::string_view::npos;

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
bool parse_qvalue(std::string_view s, std::uint16_t& q) noexcept {
    if (s.empty() || (s[0] != '0' && s[0] != '1')) return false;
    unsigned v = static_cast<unsigned>(s[0] - '0') * 1000;
    if (s.size() > 1) {
        if (s[1] != '.' || s.size() > 5) return false;
        unsigned scale = 100;
        for (char c : lex::slice(s, 2)) {
            if (!lex::is_digit(c)) return false;
            v += static_cast<unsigned>(c - '0') * scale;
            scale /= 10;
        }
    }
    if (v > 1000) return false;
    q = static_cast<std::uint16_t>(v);
    return true;
}

// The value ends at s[i]: nothing, or (in a list) a comma, may follow.
parse_error finish(std::string_view s, std::size_t i, std::string_view* rest) noexcept {
    i = detail::skip_ws(s, i);
    if (i == s.size()) {
        if (rest) *rest = {};
        return parse_error::none;
    }
    if (rest && s[i] == ',') {
        *rest = lex::slice(s, i + 1);
        return parse_error::none;
    }
    return parse_error::trailing_characters;
}

// Header parameters after the address, starting at s[i]; calls on_param for each.
template <class F>
parse_error take_params(std::string_view s, std::size_t& i, name_addr& out, bool list, F&& on_param) noexcept {
    i = detail::skip_ws(s, i);
    if (i == s.size() || s[i] != ';') return parse_error::none;
    const std::size_t begin = i + 1;
    const parse_error e = detail::scan_params(s, begin, detail::param_syntax::header, list, i, [&](const param& p) {
        if (out.tag.empty() && lex::iequal_letters(p.name, "tag")) out.tag = p.value;
        on_param(p);
    });
    if (e != parse_error::none) return e;
    std::size_t end = i;
    while (end > begin && lex::is_ws(s[end - 1])) --end;
    out.params = param_list(lex::slice(s, begin, end - begin));
    return parse_error::none;
}

// Where the parts of one value lie, found without decoding them.
struct shape {
    std::size_t begin = 0;          // the value's first byte
    std::string_view display_name;  // as written, quotes kept
    std::string_view address;       // the URI's text
    bool angle_brackets = false;
    std::size_t after = 0;          // just past the address (and its '>')
};

// Splits s into display name and address: the part of the value every reader needs first. With
// `Parts` false only `after` is wanted (find_tag): the display name and address are not trimmed.
template <bool Parts = true>
parse_error locate(std::string_view s, bool list, shape& out) noexcept {
    std::size_t i = detail::skip_ws(s, 0);
    if (i == s.size() || (list && s[i] == ',')) return parse_error::empty_value;
    out.begin = i;

    std::size_t laquot = npos;
    if (s[i] == '"') {
        const std::size_t q = lex::quoted_end_fast(s, i);
        if (q == npos) return parse_error::unterminated_quote;
        out.display_name = lex::slice(s, i, q + 1 - i);
        laquot = detail::skip_ws(s, q + 1);
        if (laquot == s.size() || s[laquot] != '<') return parse_error::invalid_display_name;
    } else if (s[i] == '<') {  // no display name, the usual shape
        laquot = i;
        if constexpr (Parts) out.display_name = lex::slice(s, i, 0);
    } else {
        // A '<' before the first ';' or ',' opens a name-addr; what precedes it is the display
        // name, *(token LWS). (A '<' later belongs to a quoted parameter or to the next value.)
        const std::size_t j = lex::find_any(s, i, '<', ';', ',');
        if (j < s.size() && s[j] == '<') {
            laquot = j;
            if constexpr (Parts) out.display_name = lex::trim(lex::slice(s, i, j - i));
        }
    }

    if (laquot != npos) {
        const std::size_t raquot = lex::find_either(s, laquot + 1, '>', '>');
        if (raquot == s.size()) return parse_error::unterminated_angle;
        out.angle_brackets = true;
        if constexpr (Parts) out.address = lex::trim(lex::slice(s, laquot + 1, raquot - laquot - 1));
        out.after = raquot + 1;
    } else {
        // addr-spec: the URI ends at the first ';' (header params follow), ',' or whitespace.
        std::size_t j = i;
        while (j < s.size() && s[j] != ';' && s[j] != ',' && !lex::is_ws(s[j])) ++j;
        out.address = lex::slice(s, i, j - i);
        out.after = j;
    }
    return parse_error::none;
}

template <class F>
parse_error parse_one(std::string_view s, name_addr& out, std::string_view* rest, F&& on_param) noexcept {
    shape sh;
    if (const parse_error e = locate(s, rest != nullptr, sh); e != parse_error::none) return e;
    if (sh.display_name.empty() || sh.display_name[0] != '"')
        for (char c : sh.display_name)
            if (!lex::is(c, lex::c_token) && !lex::is_ws(c)) return parse_error::invalid_display_name;
    out.display_name = sh.display_name;
    out.angle_brackets = sh.angle_brackets;
    if (const parse_error e = detail::decode_uri(sh.address, out.address); e != parse_error::none) return e;
    std::size_t i = sh.after;
    if (const parse_error e = take_params(s, i, out, rest != nullptr, on_param); e != parse_error::none) return e;
    out.text = lex::trim(lex::slice(s, sh.begin, i - sh.begin));
    return finish(s, i, rest);
}

} // namespace

parse_error parse_name_addr(std::string_view text, name_addr& out, std::string_view* rest) noexcept {
    static constexpr name_addr blank{};  // see decode.hpp: not a temporary
    out = blank;
    return detail::decode_name_addr(text, out, rest);
}

parse_error detail::decode_name_addr(std::string_view text, name_addr& out, std::string_view* rest) noexcept {
    return parse_one(text, out, rest, [](const param&) {});
}

parse_error parse_contact(std::string_view text, contact& out, std::string_view* rest) noexcept {
    static constexpr contact blank{};  // see decode.hpp: not a temporary
    out = blank;
    return detail::decode_contact(text, out, rest);
}

parse_error detail::decode_contact(std::string_view text, contact& out, std::string_view* rest) noexcept {
    const std::size_t i = detail::skip_ws(text, 0);
    if (i < text.size() && text[i] == '*') {
        out.star = true;
        return finish(text, i + 1, rest);
    }
    parse_error bad = parse_error::none;
    const parse_error e = parse_one(text, out.addr, rest, [&](const param& p) {
        if (lex::iequal_letters(p.name, "expires")) {
            if (parse_uint(p.value, 0xffffffffu, out.expires) != parse_error::none) bad = parse_error::invalid_param;
            out.has_expires = true;
        } else if (p.name.size() == 1 && (p.name[0] == 'q' || p.name[0] == 'Q')) {
            if (!parse_qvalue(p.value, out.q_milli)) bad = parse_error::invalid_param;
            out.has_q = true;
        }
    });
    return e != parse_error::none ? e : bad;
}

parse_error find_tag(std::string_view value, std::string_view& tag) noexcept {
    tag = {};
    shape sh;
    if (const parse_error e = locate<false>(value, false, sh); e != parse_error::none) return e;
    // The header parameters, read only as far as the tag: take_params' grammar without its checks.
    std::size_t i = sh.after;
    // Most often the tag comes first, written ";tag=" with a token value: that shape at once.
    if (value.size() - i > 5 && value[i] == ';' && lex::iequal_letters(lex::slice(value, i + 1, 3), "tag") &&
        value[i + 4] == '=') {
        const std::size_t end = lex::span<lex::c_gen_value>(value, i + 5);
        if (end > i + 5) {
            tag = lex::slice(value, i + 5, end - i - 5);
            return parse_error::none;
        }
    }
    for (;;) {
        i = lex::find_either(value, i, ';', '"');
        if (i == value.size()) return parse_error::none;
        if (value[i] == '"') {  // a quoted parameter value, whose ';' is not ours
            const std::size_t q = lex::quoted_end_fast(value, i);
            if (q == npos) return parse_error::unterminated_quote;
            i = q + 1;
            continue;
        }
        i = detail::skip_ws(value, i + 1);
        const std::size_t name_end = lex::span<lex::c_token>(value, i);
        const bool is_tag = lex::iequal_letters(lex::slice(value, i, name_end - i), "tag");
        i = detail::skip_ws(value, name_end);
        if (!is_tag || i == value.size() || value[i] != '=') continue;
        i = detail::skip_ws(value, i + 1);
        std::size_t end = lex::span<lex::c_gen_value>(value, i);
        if (i < value.size() && value[i] == '"') {
            const std::size_t q = lex::quoted_end_fast(value, i);
            if (q == npos) return parse_error::unterminated_quote;
            end = q + 1;
        }
        tag = lex::slice(value, i, end - i);
        if (!tag.empty()) return parse_error::none;  // as take_params: the first tag with a value
    }
}

} // namespace sipfast::sip
