// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/sip/params.hpp"
#include "sipfast/sip/parse_error.hpp"

namespace sipfast::sip {

enum class uri_scheme : std::uint8_t { none = 0, sip, sips, tel, other };

enum class host_kind : std::uint8_t { none = 0, hostname, ipv4, ipv6 };

/// A decoded URI. Every view points into the text that was parsed; escapes are left as written
/// (compare decoded forms with uri_equal when that matters).
struct uri {
    std::string_view text;      ///< the whole URI
    uri_scheme scheme = uri_scheme::none;
    std::string_view scheme_text;
    std::string_view user;      ///< sip/sips: userinfo user; tel: the telephone-subscriber number
    std::string_view password;  ///< sip/sips only
    std::string_view host;      ///< IPv6 references keep their brackets
    host_kind host_type = host_kind::none;
    std::uint16_t port = 0;     ///< 0 when absent
    bool has_port = false;
    param_list params;          ///< uri-parameters (sip/sips) or tel parameters such as phone-context
    std::string_view headers;   ///< after '?', without it
    std::string_view opaque;    ///< other schemes: everything after "scheme:"
};

/// Parses a URI: SIP-URI and SIPS-URI (RFC 3261 §25.1), tel (RFC 3966), and any other
/// absoluteURI as scheme plus opaque part. Returns parse_error::none or the fault.
[[nodiscard]] parse_error parse_uri(std::string_view text, uri& out) noexcept;

} // namespace sipfast::sip
