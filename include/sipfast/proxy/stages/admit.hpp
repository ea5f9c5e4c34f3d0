// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/proxy/request_context.hpp"

namespace sipfast::proxy {

/// The relay policy ([policy], [[peer]]; docs/configuration.md) once the targets are known: with
/// the policy closed a request is forwarded only when it is for a user of our domains (no foreign
/// Route leading), when its sender proved to be a user of ours (digest), within a dialog we
/// record-routed (our mark in its Route), from a [[peer]] (to where its reach allows), or toward a
/// [[peer]]; otherwise 403. Whoever sends it, no target may be on the deny list: unspecified,
/// link-local, multicast or broadcast addresses, port 0, one of our own listen addresses, or
/// loopback unless allow_loopback; a fork's denied branches are left out, and a request with none
/// left is refused 403.
[[nodiscard]] verdict admit(request_context& ctx) noexcept;

} // namespace sipfast::proxy
