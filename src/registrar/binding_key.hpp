// SPDX-License-Identifier: Apache-2.0
// One binding found again in another list of an address-of-record's bindings: what the registrar's
// rules (register_rules.cpp's names()) match a binding by, for those that compare two lists (the
// SQLite store's write of what changed, reginfo's events).
#pragma once

#include "sipfast/registrar/binding.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {

/// Whether `a` and `b` are one binding: the same +sip.instance and reg-id (RFC 5626), or with no
/// instance the same Contact URI as written.
[[nodiscard]] inline bool same_binding(const binding& a, const binding& b) noexcept {
    if (a.instance != b.instance) return false;
    return a.instance.empty() ? a.contact == b.contact : a.reg_id == b.reg_id;
}

/// The binding of `list` that is `b`, or null.
[[nodiscard]] inline const binding* find_binding(const binding_list& list, const binding& b) noexcept {
    if (!list) return nullptr;
    for (const binding& x : *list)
        if (same_binding(x, b)) return &x;
    return nullptr;
}

} // namespace sipfast::registrar
