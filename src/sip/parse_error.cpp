// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/parse_error.hpp"

namespace sipfast::sip {

namespace {

struct error_text {
    std::string_view name;
    std::string_view phrase;
};

constexpr error_text texts[] = {
    {"none", "OK"},
    {"message_too_large", "Message too large"},
    {"too_many_headers", "Too many header fields"},
    {"missing_end_of_headers", "Header section not terminated by an empty line"},
    {"nul_byte", "NUL byte in header section"},
    {"control_character", "Control character in header section"},
    {"bare_cr", "CR not followed by LF"},
    {"invalid_request_line", "Malformed request line"},
    {"invalid_method", "Malformed method"},
    {"invalid_request_uri", "Malformed Request-URI"},
    {"unsupported_version", "SIP version not supported"},
    {"invalid_status_line", "Malformed status line"},
    {"invalid_status_code", "Malformed status code"},
    {"header_without_colon", "Header line without colon"},
    {"invalid_header_name", "Malformed header name"},
    {"continuation_before_header", "Continuation line before the first header"},
    {"missing_header", "Missing mandatory header"},
    {"duplicate_header", "Header allowed once appears twice"},
    {"empty_value", "empty value"},
    {"invalid_number", "not a number"},
    {"number_out_of_range", "number out of range"},
    {"unterminated_quote", "unterminated quoted string"},
    {"unterminated_angle", "unterminated angle bracket"},
    {"trailing_characters", "unexpected characters after the value"},
    {"invalid_uri", "malformed URI"},
    {"invalid_host", "malformed host"},
    {"invalid_port", "malformed port"},
    {"invalid_param", "malformed parameter"},
    {"invalid_display_name", "malformed display name"},
    {"invalid_sent_protocol", "malformed sent-protocol"},
    {"invalid_call_id", "malformed Call-ID"},
    {"invalid_token", "malformed token"},
    {"cseq_method_mismatch", "CSeq method does not match the request method"},
    {"body_truncated", "Body shorter than Content-Length"},
    {"missing_content_length", "Missing Content-Length on a stream"},
};

static_assert(std::size(texts) == static_cast<std::size_t>(parse_error::missing_content_length) + 1,
              "one text per parse_error");

const error_text& text(parse_error e) noexcept {
    const auto i = static_cast<std::size_t>(e);
    return i < std::size(texts) ? texts[i] : texts[0];
}

} // namespace

std::string_view to_reason_phrase(parse_error e) noexcept { return text(e).phrase; }

std::string_view to_string(parse_error e) noexcept { return text(e).name; }

int to_status_code(parse_error e) noexcept {
    switch (e) {
    case parse_error::unsupported_version: return 505;
    case parse_error::message_too_large:
    case parse_error::too_many_headers: return 513;
    default: return 400;
    }
}

} // namespace sipfast::sip
