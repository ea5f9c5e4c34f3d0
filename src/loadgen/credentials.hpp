// SPDX-License-Identifier: Apache-2.0
// A client's answer to a digest challenge, shared by the registrant and the caller. Private to
// src/loadgen.
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::loadgen::detail {

/// What the 401 or 407 `m` asks, as a client answering it sees it.
struct challenge_seen {
    bool usable = false;  ///< a Digest challenge we can answer (MD5 or SHA-256) was found
    bool stale = false;   ///< stale=true: the credentials were right, the nonce old (RFC 7616 §3.3)
};

/// Writes the Authorization (401) or Proxy-Authorization (407) line, CRLF included, answering the
/// first challenge of `m` we can answer (RFC 3261 §22.2; RFC 7616: qop=auth when offered, nc 1,
/// the opaque returned) for `user` with `password`, `method` and Request-URI `uri`; `cnonce_seed`
/// makes the client nonce. Nothing written (and `usable` false) when no challenge is usable; `out`
/// not ok() when the line did not fit.
challenge_seen write_credentials(const sip::message& m, std::string_view user, std::string_view password,
                                 std::string_view method, std::string_view uri, std::uint64_t cnonce_seed,
                                 core::text_writer& out) noexcept;

} // namespace sipfast::loadgen::detail
