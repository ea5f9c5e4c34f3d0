// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/params.hpp"

#include "lex.hpp"

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

param param_list::next(std::string_view& rest) noexcept {
    const std::size_t semi = lex::find_semicolon(rest);
    std::string_view item = lex::slice(rest, 0, semi);
    rest = semi == std::string_view::npos ? std::string_view{} : lex::slice(rest, semi + 1);
    param p;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
        p.name = lex::trim(item);
    } else {
        p.name = lex::trim(lex::slice(item, 0, eq));
        p.value = lex::trim(lex::slice(item, eq + 1));
        p.has_value = true;
    }
    return p;
}

param param_list::find(std::string_view name) const noexcept {
    std::string_view rest = text_;
    while (!rest.empty()) {
        const param p = next(rest);
        if (iequals(p.name, name)) return p;
    }
    return {};
}

} // namespace sipfast::sip
