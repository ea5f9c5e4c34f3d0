// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/proxy/location.hpp"
#include "sipfast/proxy/request_context.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::proxy {

/// Target resolution (RFC 3261 §16.5) and the transport to use: the next Route value when one
/// leads; for an in-dialog request (To tag) with its Route set used up, its Request-URI, never a
/// static route or the location service (an ACK only when its Request-URI is an address: the ACK
/// of a non-2xx answer follows its INVITE); for an initial request to a domain we serve (or a tel:
/// number whose phone-context is one), the registrar's bindings (the best live one; 480 when the
/// user has bindings and none is live), else the static location service, else a [[route]] naming
/// that domain, else 404; for other initial requests the first matching [[route]], else the Request-URI.
/// Sets ctx.destination, transport, leave and (a binding's contact) new_ruri. Refuses with 503
/// when the destination is not an address or the transport is not one we serve.
[[nodiscard]] verdict resolve_target(request_context& ctx, const location_service& locations,
                                     const registrar::location_store* bindings = nullptr, std::uint64_t now_ns = 0) noexcept;

} // namespace sipfast::proxy
