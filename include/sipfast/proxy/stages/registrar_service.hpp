// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <span>

#include "sipfast/proxy/request_context.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::proxy {

/// What the registrar needs from the shard that runs it.
struct registrar_host {
    registrar::location_store* store = nullptr;  ///< shared by every shard; null: no registrar
    const registrar::registrar_limits* limits = nullptr;
    registrar::instant now;     ///< bindings expire on its monotonic clock; the 200's Date is its wall clock
    std::span<char> room;       ///< where the answer's header lines are written
};

/// Whether the request is a REGISTER our registrar answers: it is on, the Request-URI is one of
/// our domains (or our address) and no Route leads elsewhere.
[[nodiscard]] bool is_register_for_us(const request_context& ctx) noexcept;

/// The registrar (RFC 3261 §10.3): a REGISTER whose Request-URI is a domain we serve (and no
/// Route leads elsewhere) is answered here. The To URI must name a user of that domain (else 404);
/// the bindings change as apply_register says; the 200 lists every live binding with its expires,
/// echoes Path (RFC 3327) and carries Date. 423 carries Min-Expires. Other requests go on.
[[nodiscard]] verdict serve_register(request_context& ctx, const registrar_host& host) noexcept;

} // namespace sipfast::proxy
