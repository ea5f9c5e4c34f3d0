// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// What the proxy answers itself instead of forwarding: an OPTIONS to us (Request-URI our
/// address, no user part, no Route leading elsewhere) is answered 200 with Allow and Accept
/// (RFC 3261 §11). The registrar and authentication plug in here.
[[nodiscard]] verdict serve_locally(request_context& ctx) noexcept;

/// Whether the request is an OPTIONS to the proxy itself (answered even at Max-Forwards 0).
[[nodiscard]] bool is_options_to_us(const request_context& ctx) noexcept;

/// The answer to an OPTIONS to us.
[[nodiscard]] verdict answer_options() noexcept;

} // namespace sipfast::proxy
