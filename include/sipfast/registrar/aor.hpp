// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/uri.hpp"

namespace sipfast::registrar {

/// The key of an address-of-record (RFC 3261 §10.3 step 5): `user@host`, the host in lower case,
/// without scheme, port, parameters or headers, so sip: and sips:, with or without the port,
/// reach the same bindings. False for a URI with no user or not sip/sips, or when `w` is full.
[[nodiscard]] bool write_aor(const sip::uri& u, core::text_writer& w) noexcept;

} // namespace sipfast::registrar
