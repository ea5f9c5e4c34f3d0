// SPDX-License-Identifier: Apache-2.0
#include "sipfast/registrar/aliases.hpp"

#include <array>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/registrar/aor.hpp"
#include "sipfast/sip/params.hpp"

namespace sipfast::registrar {

namespace {

/// "tel:" and the number without visual separators (RFC 3966 §5.1.1).
bool write_number(std::string_view number, core::text_writer& w) noexcept {
    w.put("tel:");
    bool digits = false;
    for (char c : number) {
        if (c == '-' || c == '.' || c == '(' || c == ')') continue;
        w.put(c);
        digits = true;
    }
    return digits && w.ok();
}

/// The key an identity is found by: a number for tel: and sip:...;user=phone, else write_aor's.
bool write_identity_key(const sip::uri& u, core::text_writer& w) noexcept {
    if (u.scheme == sip::uri_scheme::tel) return write_number(u.user, w);
    if (sip::iequals(u.params.find("user").value, "phone")) return write_number(u.user, w);
    return write_aor(u, w);
}

} // namespace

std::string alias_map::add(std::string_view aor, const std::vector<std::string>& identities) {
    sip::uri a;
    std::array<char, 256> aor_buf{};
    core::text_writer aor_key(aor_buf);
    if (sip::parse_uri(aor, a) != sip::parse_error::none || !write_aor(a, aor_key))
        return "'" + std::string(aor) + "' is not a sip: URI with a user";
    for (const std::string& text : identities) {
        sip::uri u;
        std::array<char, 256> buf{};
        core::text_writer key(buf);
        if (sip::parse_uri(text, u) != sip::parse_error::none || !write_identity_key(u, key))
            return "'" + text + "' is not a sip: URI with a user or a tel: number";
        const auto [it, fresh] = reach_.try_emplace(std::string(key.view()), aor_key.view());
        if (!fresh && it->second != aor_key.view())
            return "'" + text + "' already reaches " + it->second;
        identities_[std::string(aor_key.view())].push_back(text);
    }
    return {};
}

std::string_view alias_map::aor_of(const sip::uri& identity) const noexcept {
    if (reach_.empty()) return {};
    std::array<char, 256> buf{};
    core::text_writer key(buf);
    if (!write_identity_key(identity, key)) return {};
    const auto it = reach_.find(key.view());
    return it == reach_.end() ? std::string_view{} : std::string_view(it->second);
}

const std::vector<std::string>* alias_map::identities_of(std::string_view aor_key) const noexcept {
    const auto it = identities_.find(aor_key);
    return it == identities_.end() ? nullptr : &it->second;
}

} // namespace sipfast::registrar
