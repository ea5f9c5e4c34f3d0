// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "sipfast/sip/message.hpp"

namespace sipfast::proxy {

/// Writes the response a proxy sends itself to request `req` (RFC 3261 §8.2.6, §16.7 step 10): the
/// status line, every Via of the request in order, From, To (with `to_tag` added when the request
/// has none and the status is above 100), Call-ID, CSeq, `extra_lines` (whole header lines, each
/// ending in CRLF) and Content-Length: 0. Uses the header fields as received, so a request that
/// failed to decode past its framing can still be answered 400. Returns the bytes written, or 0
/// when `out` is too small.
std::size_t write_response(const sip::message& req, int status, std::string_view reason,
                           std::string_view to_tag, std::string_view extra_lines,
                           std::span<char> out) noexcept;

} // namespace sipfast::proxy
