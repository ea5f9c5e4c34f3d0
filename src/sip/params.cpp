// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/params.hpp"

#include "lex.hpp"
#include "span.hpp"

namespace sipfast::sip {

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto x = static_cast<unsigned char>(a[i]);
        const auto y = static_cast<unsigned char>(b[i]);
        if (x == y) continue;
        if ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z') return false;
    }
    return true;
}

namespace {

constexpr std::size_t npos = std::string_view::npos;

// Index of the first ';' outside quotes, or npos (an unterminated quote too), sixteen bytes at a
// time: the values run to dozens of bytes (branches, our dialog marks, sealed route sets).
std::size_t semicolon(std::string_view s) noexcept {
    for (std::size_t i = lex::find_either(s, 0, ';', '"'); i < s.size(); i = lex::find_either(s, i + 1, ';', '"')) {
        if (s[i] == ';') return i;
        i = lex::quoted_end_fast(s, i);
        if (i == npos) return npos;
    }
    return npos;
}

// Pops the text of the first parameter off `rest`.
std::string_view next_item(std::string_view& rest) noexcept {
    const std::size_t semi = semicolon(rest);
    const std::string_view item = lex::slice(rest, 0, semi);
    rest = semi == npos ? std::string_view{} : lex::slice(rest, semi + 1);
    return item;
}

// The parameter `item` holds, its '=' at eq (npos when it has no value).
param split(std::string_view item, std::size_t eq) noexcept {
    param p;
    if (eq == npos) {
        p.name = lex::trim(item);
    } else {
        p.name = lex::trim(lex::slice(item, 0, eq));
        p.value = lex::trim(lex::slice(item, eq + 1));
        p.has_value = true;
    }
    return p;
}

std::size_t equals_sign(std::string_view item) noexcept {
    const std::size_t eq = lex::find_either(item, 0, '=', '=');
    return eq < item.size() ? eq : npos;
}

} // namespace

param param_list::next(std::string_view& rest) noexcept {
    const std::string_view item = next_item(rest);
    return split(item, equals_sign(item));
}

param param_list::find(std::string_view name) const noexcept {
    // The name is compared before the value is trimmed out: most parameters are not the one sought.
    std::string_view rest = text_;
    while (!rest.empty()) {
        const std::string_view item = next_item(rest);
        const std::size_t eq = equals_sign(item);
        if (iequals(lex::trim(lex::slice(item, 0, eq)), name)) return split(item, eq);
    }
    return {};
}

} // namespace sipfast::sip
