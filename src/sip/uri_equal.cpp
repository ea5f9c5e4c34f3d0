// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/uri_equal.hpp"

#include <cstddef>

namespace sipfast::sip {

namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// The next character of `s` from `i` with %XX decoded; advances `i`.
char next_decoded(std::string_view s, std::size_t& i) noexcept {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
        const char c = static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
        i += 3;
        return c;
    }
    return s[i++];
}

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool decoded_equal(std::string_view a, std::string_view b, bool fold_case) noexcept {
    std::size_t i = 0, j = 0;
    while (i < a.size() && j < b.size()) {
        char x = next_decoded(a, i), y = next_decoded(b, j);
        if (fold_case) {
            x = lower(x);
            y = lower(y);
        }
        if (x != y) return false;
    }
    return i == a.size() && j == b.size();
}

// Parameters that make two URIs differ when only one of them has it (§19.1.4).
bool must_match(std::string_view name) noexcept {
    for (std::string_view n : {"user", "ttl", "method", "maddr", "transport"})
        if (iequals(name, n)) return true;
    return false;
}

/// Every parameter of `a` agrees with `b`: equal where `b` has it too, and present in `b` when it
/// is one that must match.
bool params_agree(const param_list& a, const param_list& b) noexcept {
    bool agree = true;
    a.for_each([&](const param& p) {
        const param q = b.find(p.name);
        agree = q.name.empty() ? !must_match(p.name) : decoded_equal(p.value, q.value, true);
        return agree;
    });
    return agree;
}

/// A telephone number without its visual separators (RFC 3966 §5.1.1), compared digit by digit.
bool same_number(std::string_view a, std::string_view b) noexcept {
    const auto separator = [](char c) { return c == '-' || c == '.' || c == '(' || c == ')'; };
    std::size_t i = 0, j = 0;
    for (;;) {
        while (i < a.size() && separator(a[i])) ++i;
        while (j < b.size() && separator(b[j])) ++j;
        if (i == a.size() || j == b.size()) return i == a.size() && j == b.size();
        if (lower(a[i++]) != lower(b[j++])) return false;
    }
}

} // namespace

bool uri_equal(const uri& a, const uri& b) noexcept {
    if (a.scheme != b.scheme) return false;
    switch (a.scheme) {
    case uri_scheme::sip:
    case uri_scheme::sips:
        return decoded_equal(a.user, b.user, false) && decoded_equal(a.password, b.password, false) &&
               decoded_equal(a.host, b.host, true) && a.has_port == b.has_port && a.port == b.port &&
               params_agree(a.params, b.params) && params_agree(b.params, a.params) &&
               decoded_equal(a.headers, b.headers, false);
    case uri_scheme::tel:
        return same_number(a.user, b.user) && params_agree(a.params, b.params) && params_agree(b.params, a.params) &&
               a.params.text().empty() == b.params.text().empty();
    case uri_scheme::none:
    case uri_scheme::other:
        break;
    }
    return a.text == b.text;
}

} // namespace sipfast::sip
