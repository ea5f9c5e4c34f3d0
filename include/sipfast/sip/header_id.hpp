// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

namespace sipfast::sip {

/// Every header the parser knows by name (full and compact forms map to the same id).
/// Unknown and extension headers are `other`; the parser still indexes them.
enum class header_id : std::uint8_t {
    other = 0,
    accept, accept_contact, accept_encoding, accept_language, alert_info, allow, allow_events,
    authentication_info, authorization, call_id, call_info, contact, content_disposition,
    content_encoding, content_language, content_length, content_type, cseq, date, error_info,
    event, expires, flow_timer, from, identity, identity_info, in_reply_to, max_forwards,
    mime_version, min_expires, min_se, organization, p_access_network_info, p_asserted_identity,
    p_associated_uri, p_called_party_id, p_charging_function_addresses, p_charging_vector,
    p_preferred_identity, p_visited_network_id, path, priority, privacy, proxy_authenticate,
    proxy_authorization, proxy_require, rack, reason, record_route, refer_to, referred_by,
    reject_contact, replaces, reply_to, request_disposition, require, retry_after, route, rseq,
    security_client, security_server, security_verify, server, service_route, session_expires,
    subject, subscription_state, supported, timestamp, to, unsupported, user_agent, via, warning,
    www_authenticate,
    count_  ///< number of ids; not a header
};

inline constexpr std::size_t header_id_count = static_cast<std::size_t>(header_id::count_);

/// The id of a header name, compared case-insensitively; compact forms ("v", "i", ...) included.
/// A name that is not a known header gives header_id::other.
[[nodiscard]] header_id classify_header_name(std::string_view name) noexcept;

/// The same, for a name inside a larger buffer: `readable` bytes from name.data() may be read (at
/// least name.size()), which lets a short name be compared in one 16-byte load.
[[nodiscard]] header_id classify_header_name(std::string_view name, std::size_t readable) noexcept;

/// The canonical full name of a known header ("Call-ID"); "" for other.
[[nodiscard]] std::string_view header_name(header_id id) noexcept;

} // namespace sipfast::sip
