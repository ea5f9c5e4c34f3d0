// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/name_addr.hpp"

#include "lex.hpp"
#include "sipfast/sip/cseq.hpp"

namespace sipfast::sip {

namespace {

parse_error take_params(std::string_view rest, name_addr& out) noexcept {
    rest = lex::trim(rest);
    if (rest.empty()) return parse_error::none;
    if (rest.front() != ';') return parse_error::trailing_characters;
    const std::string_view params = rest.substr(1);
    if (const parse_error e = validate_params(params, false); e != parse_error::none) return e;
    out.params = param_list(params);
    out.tag = out.params.find("tag").value;
    return parse_error::none;
}

bool is_token_display_name(std::string_view s) noexcept {  // *(token LWS)
    for (char c : s)
        if (!lex::is(c, lex::c_token) && !lex::is_ws(c)) return false;
    return true;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
bool parse_qvalue(std::string_view s, std::uint16_t& q) noexcept {
    if (s.empty() || (s[0] != '0' && s[0] != '1')) return false;
    unsigned v = static_cast<unsigned>(s[0] - '0') * 1000;
    if (s.size() > 1) {
        if (s[1] != '.' || s.size() > 5) return false;
        unsigned scale = 100;
        for (char c : s.substr(2)) {
            if (!lex::is_digit(c)) return false;
            v += static_cast<unsigned>(c - '0') * scale;
            scale /= 10;
        }
    }
    if (v > 1000) return false;
    q = static_cast<std::uint16_t>(v);
    return true;
}

} // namespace

parse_error parse_name_addr(std::string_view text, name_addr& out) noexcept {
    out = name_addr{};
    const std::string_view t = lex::trim(text);
    out.text = t;
    if (t.empty()) return parse_error::empty_value;

    std::size_t laquot;
    if (t.front() == '"') {
        const std::size_t q = lex::quoted_end(t, 0);
        if (q == std::string_view::npos) return parse_error::unterminated_quote;
        out.display_name = t.substr(0, q + 1);
        laquot = q + 1;
        while (laquot < t.size() && lex::is_ws(t[laquot])) ++laquot;
        if (laquot == t.size() || t[laquot] != '<') return parse_error::invalid_display_name;
    } else {
        // A display name has no ';', and an addr-spec's parameters come after its first ';', so a
        // '<' before that ';' opens a name-addr.
        laquot = t.find('<');
        if (laquot != std::string_view::npos && laquot > t.find(';')) laquot = std::string_view::npos;
        if (laquot != std::string_view::npos) {
            out.display_name = lex::trim(t.substr(0, laquot));
            if (!is_token_display_name(out.display_name)) return parse_error::invalid_display_name;
        }
    }

    if (laquot != std::string_view::npos) {
        const std::size_t raquot = t.find('>', laquot + 1);
        if (raquot == std::string_view::npos) return parse_error::unterminated_angle;
        out.angle_brackets = true;
        if (const parse_error e = parse_uri(lex::trim(t.substr(laquot + 1, raquot - laquot - 1)),
                                            out.address);
            e != parse_error::none)
            return e;
        return take_params(t.substr(raquot + 1), out);
    }

    const std::size_t semi = t.find(';');
    if (const parse_error e = parse_uri(lex::trim(t.substr(0, semi)), out.address);
        e != parse_error::none)
        return e;
    if (out.address.scheme == uri_scheme::other && out.address.opaque.find(',') != std::string_view::npos)
        return parse_error::invalid_uri;
    return semi == std::string_view::npos ? parse_error::none : take_params(t.substr(semi), out);
}

parse_error parse_contact(std::string_view text, contact& out) noexcept {
    out = contact{};
    if (lex::trim(text) == "*") {
        out.star = true;
        return parse_error::none;
    }
    if (const parse_error e = parse_name_addr(text, out.addr); e != parse_error::none) return e;
    const param exp = out.addr.params.find("expires");
    if (!exp.name.empty()) {
        if (parse_uint(exp.value, 0xffffffffu, out.expires) != parse_error::none)
            return parse_error::invalid_param;
        out.has_expires = true;
    }
    const param q = out.addr.params.find("q");
    if (!q.name.empty()) {
        if (!parse_qvalue(q.value, out.q_milli)) return parse_error::invalid_param;
        out.has_q = true;
    }
    return parse_error::none;
}

} // namespace sipfast::sip
