// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// Whether `uri` is an emergency service URN: urn:service:sos or a sub-service of it (RFC 5031).
[[nodiscard]] bool is_emergency_urn(std::string_view uri) noexcept;

/// Request validation (RFC 3261 §16.3): a scheme we route, sip or tel (416 otherwise: sips needs
/// TLS, which we do not serve; an emergency URN goes on, ctx.emergency, or is answered 503 when
/// no [emergency] next hop is configured), Max-Forwards (483 at 0,
/// but an OPTIONS to us is answered), every Proxy-Require option tag one we support (420 with
/// Unsupported), and no loop (482: our own Via with this request's loop hash, §16.3 step 4).
/// Sets ctx.ruri_is_us and ctx.loop_hash.
[[nodiscard]] verdict validate(request_context& ctx) noexcept;

/// Every option tag of the `which` header (Proxy-Require; Require of a request we answer) must be
/// one we support: in `also`, in the configuration's extensions, or sec-agree when [sec_agree]
/// accepts it. Otherwise 420 Bad Extension
/// with Unsupported listing the others (RFC 3261 §8.2.2.3, §16.3 step 6).
[[nodiscard]] verdict refuse_unsupported(request_context& ctx, sip::header_id which,
                                         std::initializer_list<std::string_view> also) noexcept;

/// The hash of what decides where a request goes (Request-URI, Call-ID, From tag, To tag but an
/// ACK's, Route values): a request that comes back with it unchanged is a loop, one whose
/// Request-URI changed a spiral.
[[nodiscard]] std::uint64_t loop_hash(const sip::message& m) noexcept;

/// A hash of what a request, its retransmissions, its CANCEL and the ACK of a non-2xx answer
/// share (the received branch and sent-by; for RFC 2543 peers the Via, From tag, Call-ID, CSeq
/// number and Request-URI): the stateless branch's middle part (§16.11).
[[nodiscard]] std::uint64_t request_hash(const sip::message& m) noexcept;

} // namespace sipfast::proxy
