// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "sipfast/auth/digest.hpp"

namespace sipfast::auth {

/// The secrets of one user in one realm: HA1 for each algorithm it can answer (an htdigest line
/// gives MD5 only; a password gives both).
struct user_secret {
    hex_digest md5;
    hex_digest sha256;  ///< size 0 when unknown
};

/// Who may authenticate (RFC 7616 §3.4.4: HA1 is what the server keeps), by user and realm.
/// Built when the configuration is loaded, then only read (shared by every shard).
class user_directory {
public:
    void add_password(std::string_view user, std::string_view realm, std::string_view password);
    /// An htdigest line's HA1 (32 hex digits, MD5).
    void add_md5_ha1(std::string_view user, std::string_view realm, std::string_view ha1_hex);

    /// The user's secret in `realm` (compared case-insensitively), or nullptr.
    [[nodiscard]] const user_secret* find(std::string_view user, std::string_view realm) const noexcept;
    /// Whether every user of `realm` can answer SHA-256: only then is it offered (a client that
    /// picks it for a user with an MD5 secret only could never succeed).
    [[nodiscard]] bool sha256_everywhere(std::string_view realm) const noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return users_.size(); }

    /// Reads an Apache htdigest file (`user:realm:HA1` per line, # comments and blank lines
    /// allowed). Returns "" or "FILE:LINE: fault".
    [[nodiscard]] std::string load_htdigest(const std::string& path);

private:
    struct key_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
    };
    [[nodiscard]] static std::string key(std::string_view user, std::string_view realm);
    std::unordered_map<std::string, user_secret, key_hash, std::equal_to<>> users_;
    std::unordered_map<std::string, bool> realm_sha256_;  ///< realm (lower case) -> every user has SHA-256
};

} // namespace sipfast::auth
