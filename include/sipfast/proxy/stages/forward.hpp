// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string_view>

#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// RFC 3261 §18.1.1: a request within 200 bytes of the path MTU (1300 when unknown) that would go
/// over UDP goes over TCP when it can.
inline constexpr std::size_t max_udp_request = 1300;

/// Forwarding (RFC 3261 §16.6) as edits of the received request: the new Request-URI, the target's
/// Route (a binding's Path), Max-Forwards
/// decremented (70 inserted when absent), received and rport on the top Via (§18.2.1, RFC 3581 §4;
/// both always over a stream), our Via with `branch`, and Record-Route on initial dialog-forming
/// requests (INVITE, SUBSCRIBE, NOTIFY, REFER) when configured, naming both sides when the request
/// changes transport or family (RFC 5658). A UDP request over max_udp_request moves to TCP when we
/// listen on TCP and the message fits the stream path. 500 when an edit does not fit.
[[nodiscard]] verdict forward(request_context& ctx, std::string_view branch) noexcept;

} // namespace sipfast::proxy
