// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/sip/method.hpp"
#include "sipfast/sip/parse_error.hpp"

namespace sipfast::sip {

/// CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number is below 2**31 (§8.1.1.5).
struct cseq {
    std::uint32_t number = 0;
    sip::method method = sip::method::other;
    std::string_view method_text;
};

[[nodiscard]] parse_error parse_cseq(std::string_view text, cseq& out) noexcept;

/// Parses a header value that is 1*DIGIT (surrounding whitespace already trimmed) no larger than
/// max. Used for Max-Forwards, Content-Length, Expires.
[[nodiscard]] parse_error parse_uint(std::string_view text, std::uint32_t max,
                                     std::uint32_t& out) noexcept;

} // namespace sipfast::sip
