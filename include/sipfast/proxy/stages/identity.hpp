// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// Asserted identity (RFC 3325, TS 24.229 §5.2.6.3), the [[peer]]s being the trust domain: a
/// P-Asserted-Identity from outside it is removed (anyone can write one); a user of ours who just
/// proved who they are (digest) is asserted as the address-of-record they authenticated for,
/// `P-Asserted-Identity: <sip:USER@DOMAIN>`, toward a [[peer]], and their P-Preferred-Identity is
/// removed; toward anyone else an asserted identity is removed when the request asks for
/// Privacy: id. A fork is judged by its first target.
///
/// An IMS phone does not authenticate its calls: it registered (with AKA, or as its network
/// allows), and its edge asserts the identity it registered (TS 24.229 §5.2.6.3.3). So an initial
/// request toward a [[peer]] from exactly where a live binding of the From's address-of-record was
/// registered (same source address, port and transport: the flow, RFC 5626 §5.2; IPsec would tie
/// it tighter) is asserted too: as its P-Preferred-Identity when that is one of the same
/// registration's identities (the address-of-record or an [[alias]] of it), else as the From's
/// identity. `bindings` may be null (no registrar): then only authentication asserts.
[[nodiscard]] verdict assert_identity(request_context& ctx, const registrar::location_store* bindings = nullptr,
                                      std::uint64_t now_ns = 0) noexcept;

} // namespace sipfast::proxy
