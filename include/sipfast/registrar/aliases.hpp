// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipfast/sip/uri.hpp"

namespace sipfast::registrar {

/// Identities reachable through another's registration (TS 24.229 §5.4.1.2: the implicitly
/// registered set): a phone registered as its IMSI identity is also sip:1012@domain and tel:1012.
/// Built with the configuration ([[alias]]), then only read.
class alias_map {
public:
    /// Makes each of `identities` (sip: or tel: URIs) reach the address-of-record `aor` (a sip:
    /// URI). Returns "" or what is wrong with which one.
    [[nodiscard]] std::string add(std::string_view aor, const std::vector<std::string>& identities);

    /// The address-of-record key (write_aor's) that `identity` reaches, empty when none. A tel:
    /// number, or a sip: URI with user=phone, is compared digit by digit without separators.
    [[nodiscard]] std::string_view aor_of(const sip::uri& identity) const noexcept;
    /// The identities reachable through the address-of-record key, as configured (for
    /// P-Associated-URI), or nullptr.
    [[nodiscard]] const std::vector<std::string>* identities_of(std::string_view aor_key) const noexcept;
    [[nodiscard]] bool empty() const noexcept { return reach_.empty(); }

private:
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
    };
    template <class V>
    using map = std::unordered_map<std::string, V, key_hash, std::equal_to<>>;
    map<std::string> reach_;                    ///< identity key -> address-of-record key
    map<std::vector<std::string>> identities_;  ///< address-of-record key -> identities as written
};

} // namespace sipfast::registrar
