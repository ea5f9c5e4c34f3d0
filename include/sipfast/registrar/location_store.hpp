// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sipfast/registrar/binding.hpp"
#include "sipfast/registrar/reg_subscription.hpp"
#include "sipfast/registrar/register_rules.hpp"

namespace sipfast::registrar {

/// The bindings of one address-of-record, as a reader sees them: an immutable snapshot, best
/// first (order_by_preference). A writer replaces the snapshot; a reader holding one keeps it.
using binding_list = std::shared_ptr<const std::vector<binding>>;

/// Where the registrar keeps bindings (docs/architecture.md, "Registrar and authentication"). Every shard reads it;
/// the shard that handles a REGISTER writes the REGISTER's address-of-record. Nothing above this
/// interface assumes the bindings are in this process: a store shared between nodes fits behind it.
class location_store {
public:
    virtual ~location_store() = default;

    /// Applies `r` to the bindings of `aor` (apply_register, on `now.monotonic_ns`), atomically with
    /// respect to other writers of the same address-of-record; `after` is what they are then (even on
    /// a fault). When it returns none the change is as durable as the store promises: the 200 that
    /// follows may be the last thing the process does.
    [[nodiscard]] virtual register_fault update(std::string_view aor, const register_request& r, const instant& now,
                                                const registrar_limits& limits, binding_list& after) = 0;

    /// The bindings of `aor`, null when it has none. Some may have lapsed: a reader checks
    /// binding::live against its own clock, so a binding vanishes exactly at its expiry.
    [[nodiscard]] virtual binding_list lookup(std::string_view aor) const = 0;

    /// Removes bindings lapsed by `now` from wherever the store keeps them (memory, rows of a file),
    /// and returns how many went. Lookups stopped seeing them at their expiry; this frees them.
    /// Each address-of-record is judged again under its writers' lock by their rule (binding::live),
    /// so a binding refreshed meanwhile stays. Housekeeping: called about once a second by one thread
    /// (daemon::bindings_store's), never from a shard's loop; it adds nothing to lookups.
    virtual std::size_t expire(const instant& now) = 0;

    /// Reg-event subscriptions (RFC 3680) kept with the bindings, so that they survive what the
    /// bindings survive: `keep` writes `s` (its dialog, CSeqs, version and expiry) before it returns,
    /// `drop` removes it, and restored_subscriptions() lists what the store held when it was opened,
    /// for each shard to take back those it owns. Called from the shard that owns the subscription;
    /// writers of bindings are not held up beyond one row. The defaults keep nothing (a store in
    /// memory: what it would keep ends with the process).
    [[nodiscard]] virtual bool keep_subscription(const reg_subscription& s, const instant& now) {
        (void)s;
        (void)now;
        return true;
    }
    virtual void drop_subscription(std::string_view call_id, std::string_view remote_tag) {
        (void)call_id;
        (void)remote_tag;
    }
    [[nodiscard]] virtual std::vector<reg_subscription> restored_subscriptions() const { return {}; }
};

/// The store in this process's memory: a hash table from address-of-record to snapshot whose readers
/// take no lock and wait for no writer (src/registrar/snapshot_table.hpp); a lookup copies the
/// snapshot's pointer.
[[nodiscard]] std::unique_ptr<location_store> make_memory_store();

} // namespace sipfast::registrar
