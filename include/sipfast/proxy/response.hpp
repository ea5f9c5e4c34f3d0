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
/// `skip_first_via` leaves out the first Via header line: a request rebuilt from what the proxy
/// forwarded has the proxy's own Via there.
std::size_t write_response(const sip::message& req, int status, std::string_view reason,
                           std::string_view to_tag, std::string_view extra_lines,
                           std::span<char> out, bool skip_first_via = false) noexcept;

} // namespace sipfast::proxy
