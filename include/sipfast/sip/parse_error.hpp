// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

namespace sipfast::sip {

/// Why a message failed to parse. One enumerator per fault, so a request that fails can be
/// answered with a reason phrase that names it (see to_reason_phrase and format_reason).
enum class parse_error : std::uint8_t {
    none = 0,
    /// The message (headers, or headers plus Content-Length) exceeds parse_options::max_message_bytes.
    message_too_large,
    /// More header fields than the caller gave slots for.
    too_many_headers,
    /// A datagram whose header section is not closed by an empty line.
    missing_end_of_headers,
    /// A NUL byte in the start line or header section.
    nul_byte,
    /// A control character (other than HT, CR, LF) or DEL in the start line or header section.
    control_character,
    /// A CR not followed by LF.
    bare_cr,
    /// The first line is neither "Method SP Request-URI SP SIP-Version" nor a status line.
    invalid_request_line,
    /// The method is not a token.
    invalid_method,
    /// The Request-URI does not follow the grammar of its scheme.
    invalid_request_uri,
    /// The version is well formed but not SIP/2.0 (answer 505).
    unsupported_version,
    /// The first line starts like a status line but is not "SIP-Version SP Status-Code SP Reason".
    invalid_status_line,
    /// The status code is not three digits in 100..699.
    invalid_status_code,
    /// A header line has no colon.
    header_without_colon,
    /// A header name is empty or holds a character outside token.
    invalid_header_name,
    /// A line starting with whitespace (folding) before any header.
    continuation_before_header,
    /// A header that RFC 3261 §8.1.1 makes mandatory is absent (the header is named in the result).
    missing_header,
    /// A header that may appear only once appears again (named in the result).
    duplicate_header,
    /// A header's value is empty where its grammar needs one.
    empty_value,
    /// A number is not 1*DIGIT.
    invalid_number,
    /// A number is larger than its field allows.
    number_out_of_range,
    /// A quoted string has no closing quote.
    unterminated_quote,
    /// A '<' has no matching '>'.
    unterminated_angle,
    /// Characters after a complete value that its grammar does not allow.
    trailing_characters,
    /// A URI that does not follow the grammar of its scheme.
    invalid_uri,
    /// A host that is neither a hostname, an IPv4 address nor an IPv6 reference.
    invalid_host,
    /// A port that is not 1..5 digits up to 65535.
    invalid_port,
    /// A parameter whose name or value has characters its grammar does not allow.
    invalid_param,
    /// A display name that is neither tokens nor a quoted string.
    invalid_display_name,
    /// A Via whose sent-protocol is not "name/version/transport".
    invalid_sent_protocol,
    /// A Call-ID that is not word ["@" word].
    invalid_call_id,
    /// A token is expected (CSeq method, media type, ...).
    invalid_token,
    /// The CSeq method differs from the request method (RFC 3261 §8.1.1.5).
    cseq_method_mismatch,
    /// A datagram shorter than its header section plus Content-Length.
    body_truncated,
    /// A message on a stream without Content-Length (RFC 3261 §18.3).
    missing_content_length,
};

/// A short phrase for the fault, fit for the reason phrase of a 400 answer. Never null.
[[nodiscard]] std::string_view to_reason_phrase(parse_error e) noexcept;

/// The enumerator's name, for logs and JSON ("missing_header").
[[nodiscard]] std::string_view to_string(parse_error e) noexcept;

/// The status code a server answers a request that failed with e: 505 for an unsupported version,
/// 513 for a message too large, 400 otherwise.
[[nodiscard]] int to_status_code(parse_error e) noexcept;

} // namespace sipfast::sip
