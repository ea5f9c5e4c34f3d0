// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

#include "sipfast/auth/nonce.hpp"
#include "sipfast/auth/nonce_counts.hpp"
#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// What authentication needs from the shard that runs it: the process's nonce secret and
/// nonce-count memory (shared by every shard), the clock, and room for the answer's lines.
struct auth_host {
    const auth::nonce_source* nonces = nullptr;  ///< null: nobody is challenged
    auth::nonce_counts* counts = nullptr;
    std::uint64_t now_ns = 0;
    std::span<char> room;
};

/// Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760), by [auth] mode: a REGISTER for a
/// domain we serve is challenged 401 (WWW-Authenticate); with mode `all`, an initial request from
/// a user of our domains is challenged 407 (Proxy-Authenticate). ACK and CANCEL never are (they
/// cannot be resubmitted), nor anything from a trusted peer. The realm is the domain of the
/// address-of-record (To of a REGISTER, else From). Credentials must be for that realm, with a
/// nonce of ours that is fresh (stale=true otherwise) and a nonce-count not used before; the
/// username must be the user of that address (403 otherwise). An unknown user and a wrong password
/// get the same challenge after the same work. On success our credentials are removed from what is
/// forwarded and ctx.auth_info holds the Authentication-Info for our own 2xx.
[[nodiscard]] verdict authenticate(request_context& ctx, const auth_host& host) noexcept;

} // namespace sipfast::proxy
