// SPDX-License-Identifier: Apache-2.0
// HTTP digest as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760): the credentials a request
// carries and the hashes that check them. MD5 and SHA-256, qop=auth.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sipfast::auth {

enum class algorithm : std::uint8_t { md5, sha256 };

/// "MD5" or "SHA-256", as written in challenges.
[[nodiscard]] std::string_view algorithm_name(algorithm a) noexcept;

/// One Authorization or Proxy-Authorization value (RFC 7616 §3.4); views into the header.
struct credentials {
    std::string_view username;
    std::string_view realm;
    std::string_view nonce;
    std::string_view uri;
    std::string_view response;
    std::string_view cnonce;
    std::string_view qop;
    std::string_view nc;  ///< eight hex digits, as written
    std::uint32_t nonce_count = 0;
    algorithm alg = algorithm::md5;
};

enum class credentials_fault : std::uint8_t {
    none,
    not_digest,       ///< another scheme (Basic, ...)
    malformed,        ///< not a list of name=value
    missing,          ///< username, realm, nonce, uri or response absent
    bad_algorithm,    ///< neither MD5 nor SHA-256 (the -sess variants are not offered)
    bad_qop,          ///< qop present but not auth, or cnonce/nc missing with it
};

[[nodiscard]] credentials_fault parse_credentials(std::string_view value, credentials& out) noexcept;

/// A WWW-Authenticate or Proxy-Authenticate Digest challenge (RFC 7616 §3.3) as a client reads it;
/// views into the header.
struct challenge {
    std::string_view realm;
    std::string_view nonce;
    std::string_view opaque;  ///< returned as given
    bool qop_auth = false;    ///< qop offers "auth" (else the RFC 2069 response)
    bool stale = false;
    algorithm alg = algorithm::md5;
};

enum class challenge_fault : std::uint8_t {
    none,
    not_digest,     ///< another scheme
    malformed,      ///< not a list of name=value
    missing,        ///< realm or nonce absent
    bad_algorithm,  ///< neither MD5 nor SHA-256: a client answers another of the challenges
};

[[nodiscard]] challenge_fault parse_challenge(std::string_view value, challenge& out) noexcept;

/// A digest in lower-case hex: 32 characters for MD5, 64 for SHA-256.
struct hex_digest {
    std::array<char, 64> text{};
    std::uint8_t size = 0;
    [[nodiscard]] std::string_view view() const noexcept { return {text.data(), size}; }
};

/// H(a:b:...): the parts joined by ':' and hashed.
[[nodiscard]] hex_digest hash(algorithm a, std::initializer_list<std::string_view> parts) noexcept;

/// HA1 = H(username:realm:password).
[[nodiscard]] inline hex_digest ha1(algorithm a, std::string_view user, std::string_view realm,
                                    std::string_view password) noexcept {
    return hash(a, {user, realm, password});
}

/// The response a client holding `ha1` sends for `method` (RFC 7616 §3.4.1): with qop,
/// H(HA1:nonce:nc:cnonce:qop:H(method:uri)); without (RFC 2069), H(HA1:nonce:H(method:uri)).
/// The rspauth of Authentication-Info is the same with an empty method.
[[nodiscard]] hex_digest response_for(const credentials& c, std::string_view ha1, std::string_view method) noexcept;

/// Compares in time independent of where they differ.
[[nodiscard]] bool same_digest(std::string_view a, std::string_view b) noexcept;

} // namespace sipfast::auth
