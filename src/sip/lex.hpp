// SPDX-License-Identifier: Apache-2.0
// Character classes of RFC 3261 §25 and small cursor helpers shared by the decoders. Private.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sipfast::sip::lex {

enum : std::uint16_t {
    c_token = 1 << 0,       // token
    c_unreserved = 1 << 1,  // alphanum / mark
    c_user = 1 << 2,        // unreserved / user-unreserved (escaped handled apart)
    c_password = 1 << 3,    // unreserved / & = + $ ,
    c_param = 1 << 4,       // paramchar without escaped: param-unreserved / unreserved
    c_hnv = 1 << 5,         // hname/hvalue without escaped: hnv-unreserved / unreserved
    c_host = 1 << 6,        // hostname characters: alphanum - . (and _ seen in the field)
    c_ws = 1 << 7,          // SP HT CR LF: LWS inside a (possibly folded) value
    c_word = 1 << 8,        // word (Call-ID)
    c_digit = 1 << 9,
    c_hex = 1 << 10,
    c_tel = 1 << 11,        // telephone-subscriber characters (RFC 3966), lenient
    c_scheme = 1 << 12,     // scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    c_userinfo = 1 << 13,   // user / ":" password (escapes apart)
    c_ipv4 = 1 << 14,       // DIGIT / "."
    c_gen_value = 1 << 15,  // gen-value without quotes: token / host (":" "[" "]")
};

constexpr std::array<std::uint16_t, 256> make_classes() {
    std::array<std::uint16_t, 256> t{};
    auto add = [&t](std::string_view chars, std::uint16_t bits) {
        for (char c : chars) t[static_cast<unsigned char>(c)] |= bits;
    };
    for (int c = 0; c < 256; ++c) {
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        if (alpha || digit)
            t[static_cast<std::size_t>(c)] |= c_token | c_unreserved | c_user | c_password |
                                               c_param | c_hnv | c_host | c_word | c_scheme;
        if (digit) t[static_cast<std::size_t>(c)] |= c_digit | c_hex | c_tel;
        if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
            t[static_cast<std::size_t>(c)] |= c_hex | c_tel;
    }
    constexpr std::string_view mark = "-_.!~*'()";
    add(mark, c_unreserved | c_user | c_password | c_param | c_hnv);
    add("-.!%*_+`'~", c_token);
    add("-.!%*_+`'~()<>:\\\"/[]?{}", c_word);
    add("&=+$,;?/", c_user);
    for (int c = 0; c < 256; ++c)
        if (t[static_cast<std::size_t>(c)] & c_user) t[static_cast<std::size_t>(c)] |= c_userinfo;
    add(":", c_userinfo);
    add("&=+$,", c_password);
    add("[]/:&+$", c_param);
    add("[]/?:+$", c_hnv);
    add("-._", c_host);
    add(" \t\r\n", c_ws);
    add("*#-.()+pPwW", c_tel);
    add("+-.", c_scheme);
    add("0123456789.", c_ipv4);
    for (int c = 0; c < 256; ++c)
        if (t[static_cast<std::size_t>(c)] & c_token) t[static_cast<std::size_t>(c)] |= c_gen_value;
    add(":[]", c_gen_value);
    return t;
}

inline constexpr auto classes = make_classes();

constexpr bool is(char c, std::uint16_t bits) noexcept {
    return (classes[static_cast<unsigned char>(c)] & bits) != 0;
}
constexpr bool is_ws(char c) noexcept { return is(c, c_ws); }
constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_hex(char c) noexcept { return is(c, c_hex); }

/// Whether s equals `lower`, a lower-case literal of letters only, ignoring case. For letters,
/// OR-ing 0x20 folds case and matches nothing else; callers pass letter-only literals.
inline bool iequal_letters(std::string_view s, std::string_view lower) noexcept {
    if (s.size() != lower.size()) return false;
    for (std::size_t i = 0; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) | 0x20u) != static_cast<unsigned char>(lower[i])) return false;
    return true;
}

/// s.substr(pos, n) without the range check and its throw path, which kept GCC from inlining
/// substr in the decoders (4 % of a message's time). Every caller has pos <= s.size() (they are
/// noexcept: a throwing substr would have terminated under the fuzzer).
constexpr std::string_view slice(std::string_view s, std::size_t pos, std::size_t n = std::string_view::npos) noexcept {
    const std::size_t left = s.size() - pos;
    return {s.data() + pos, n < left ? n : left};
}

/// Trims LWS (SP, HT and the CRLF of folding) from both ends. Always inlined: most values it
/// meets have nothing to trim, and a call cost more than the two tests.
[[gnu::always_inline]] constexpr std::string_view trim(std::string_view s) noexcept {
    std::size_t b = 0, e = s.size();
    while (b < e && is_ws(s[b])) ++b;
    while (e > b && is_ws(s[e - 1])) --e;
    return slice(s, b, e - b);
}

constexpr std::string_view trim_left(std::string_view s) noexcept {
    std::size_t b = 0;
    while (b < s.size() && is_ws(s[b])) ++b;
    return slice(s, b);
}

/// Whether every character of s (non-empty) is in class `bits`, `%HH` escapes allowed when
/// `escapes` is set.
constexpr bool all_of(std::string_view s, std::uint16_t bits, bool escapes) noexcept {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (is(c, bits)) continue;
        if (escapes && c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            i += 2;
            continue;
        }
        return false;
    }
    return true;
}

} // namespace sipfast::sip::lex
