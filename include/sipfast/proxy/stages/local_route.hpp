// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// Route processing (RFC 3261 §16.4): a Request-URI of ours with a Route set came from a strict
/// router, so the last Route value becomes the target and leaves the set; otherwise every leading
/// Route value of ours is removed (a double Record-Route comes back as two, RFC 5658) and the
/// transport the last one named is the side to leave by. Sets ctx.target, new_ruri,
/// have_next_route, next_route and left_by. Refuses (400) a request whose Route value after ours,
/// the one that would lead it on, does not parse: the parser decodes the first value only.
[[nodiscard]] verdict route_locally(request_context& ctx) noexcept;

} // namespace sipfast::proxy
