// SPDX-License-Identifier: Apache-2.0
// Private to src/auth (not API): reading the name=value list of a digest Authorization, shared by
// parse_credentials (digest.cpp) and parse_aka_credentials (aka.cpp).
#pragma once

#include <cstddef>
#include <string_view>

namespace sipfast::auth::detail {

inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
    return s;
}

/// Pops one `name=value` (value a token or a quoted string, quotes removed; escapes are not
/// expected in digest values) off `rest`; false on malformed text.
inline bool next_param(std::string_view& rest, std::string_view& name, std::string_view& value) noexcept {
    rest = trim(rest);
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return false;
    name = trim(rest.substr(0, eq));
    rest = trim(rest.substr(eq + 1));
    if (!rest.empty() && rest.front() == '"') {
        const std::size_t close = rest.find('"', 1);
        if (close == std::string_view::npos) return false;
        value = rest.substr(1, close - 1);
        rest.remove_prefix(close + 1);
    } else {
        const std::size_t comma = rest.find(',');
        value = trim(rest.substr(0, comma));
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma);
    }
    rest = trim(rest);
    if (!rest.empty()) {
        if (rest.front() != ',') return false;
        rest.remove_prefix(1);
    }
    return !name.empty();
}

} // namespace sipfast::auth::detail
