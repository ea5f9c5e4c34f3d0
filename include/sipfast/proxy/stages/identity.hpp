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
[[nodiscard]] verdict assert_identity(request_context& ctx) noexcept;

} // namespace sipfast::proxy
