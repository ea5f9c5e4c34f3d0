// SPDX-License-Identifier: Apache-2.0
// The bindings in this process's memory, which every store reads from (memory_store.cpp,
// sqlite_store.cpp): address-of-record to immutable snapshot, in a snapshot_table, read without a
// lock by every shard, and the timers that take lapsed bindings out of it.
//
// Expiry. Readers already skip a lapsed binding (binding::live), so what a timer does is free what
// nobody can see any more: an address-of-record has one timer, on a timer wheel of the map's own, at
// the expiry of the first of its bindings to lapse (a refresh that moves expiries later leaves it; one
// that moves the first earlier adds an earlier one). When it fires, expire() drops what has lapsed
// under the same write lock a REGISTER takes, judged by the same rule (binding::live at the sweep's
// clock), so a binding refreshed meanwhile stays, and sets the timer for what is left.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "snapshot_table.hpp"
#include "sipfast/core/timer_wheel.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {

/// What `r` makes of `current` at `now_ns`, best first: on none `next` holds it (empty when no
/// binding is left); on a fault `next` is left as it was.
[[nodiscard]] register_fault next_bindings(const binding_list& current, const register_request& r, std::uint64_t now_ns,
                                           const registrar_limits& limits, std::vector<binding>& next);

class binding_map {
public:
    /// Takes no lock and waits for no writer (snapshot_table::find).
    [[nodiscard]] binding_list find(std::string_view aor) const noexcept { return table_.find(aor); }

    /// Applies `r` under the write lock of `aor` (writers of other stripes go on).
    register_fault update(std::string_view aor, const register_request& r, std::uint64_t now_ns,
                          const registrar_limits& limits, binding_list& after);

    /// Publishes `next` as the snapshot of `aor` (none left: `aor` goes) and returns it. For a
    /// writer that made `next` from find() outside the map's locks: it must keep other writers of
    /// `aor` out from find() to here itself.
    binding_list replace(std::string_view aor, std::vector<binding>&& next, std::uint64_t now_ns);

    /// The addresses-of-record whose timer fired by `now_ns`: each may have a binding lapsed, and
    /// has no timer until expire() (or a REGISTER) sets the next. Also frees the snapshots no reader
    /// holds any more. For the one thread that sweeps.
    [[nodiscard]] std::vector<std::string> due(std::uint64_t now_ns);

    /// Drops the bindings of `aor` lapsed at `now_ns`, under its write lock, once `commit(before,
    /// next)` (the snapshot and what is left of it) says the change may be made (a store that keeps
    /// bindings elsewhere too removes them there first); sets its timer for what is left. Returns the
    /// bindings dropped. When commit refuses, nothing changes and the timer fires again at the next
    /// tick.
    template <class Commit>
    std::size_t expire(std::string_view aor, std::uint64_t now_ns, Commit&& commit) {
        snapshot_table::writer w(table_, aor);
        const binding_list before = w.current();
        if (!before) return 0;
        std::vector<binding> next;
        for (const binding& b : *before)
            if (b.live(now_ns)) next.push_back(b);
        const std::size_t lapsed = before->size() - next.size();
        if (lapsed == 0 || !commit(before, std::as_const(next))) {
            settle(w, before, now_ns);
            return 0;
        }
        settle(w, next.empty() ? nullptr : std::make_shared<const std::vector<binding>>(std::move(next)), now_ns);
        return lapsed;
    }

    /// Addresses-of-record held, and expiry timers pending (stale ones included: see settle()).
    [[nodiscard]] std::size_t size() const noexcept { return table_.size(); }
    [[nodiscard]] std::size_t timers() const;

    /// The granularity of expiry: a lapsed binding leaves memory within this of its expiry.
    static constexpr std::uint64_t tick_ns = 1'000'000'000;

private:
    /// Publishes `next` (unless it is what `w` holds already) with a timer at or before its first
    /// expiry. A timer already there is kept when it is not later than that; an earlier expiry gets
    /// a timer of its own and the later one is left to fire and find nothing due (cheaper than
    /// keeping every timer's handle to cancel it).
    void settle(snapshot_table::writer& w, binding_list next, std::uint64_t now_ns);
    void schedule(std::uint64_t deadline_ns, std::uint64_t hash, std::uint64_t now_ns);

    snapshot_table table_;
    // Writers schedule (under their stripe's lock, then this), the sweeper advances. The wheel has a
    // fixed slab; when it is full another twice its size is added, and one emptied goes.
    mutable std::mutex expiry_mutex_;
    std::vector<std::unique_ptr<core::timer_wheel>> wheels_;
};

} // namespace sipfast::registrar
