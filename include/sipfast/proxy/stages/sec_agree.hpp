// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>

#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// sec-agree (RFC 3329; TS 33.203 §7.2, TS 24.229 §5.2.2) as an edge without IPsec of its own,
/// when [sec_agree] mode is "accept" (the default; "refuse" answers the option tag 420 as any we do
/// not support):
/// - `sec-agree` in Require or Proxy-Require is supported (refuse_unsupported knows it).
/// - A REGISTER for our registrar with Security-Client gets ctx.security_server: the mechanisms
///   it offered, each with our MAC of the whole list (`;sfv=`), which our challenge carries
///   (TS 33.203 §6.1: the 401). A MAC makes the list ours to recognise later without keeping it.
/// - A request with Security-Verify must carry such a list unchanged (RFC 3329 §2.3.1: what the
///   client saw is what we sent, no mechanism dropped on the way): else 494 Security Agreement
///   Required.
/// - Forwarded, a request loses Security-Client, Security-Server, Security-Verify and the
///   sec-agree tag (TS 24.229 §5.2.7.2: the agreement is between the phone and its first hop).
/// No IPsec security association is made: the answer promises none (docs/configuration.md).
/// `room` holds the Security-Server line.
[[nodiscard]] verdict sec_agree(request_context& ctx, std::span<char> room) noexcept;

} // namespace sipfast::proxy
