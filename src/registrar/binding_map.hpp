// SPDX-License-Identifier: Apache-2.0
// The bindings in this process's memory, which every store reads from (memory_store.cpp,
// sqlite_store.cpp): address-of-record to immutable snapshot, in a snapshot_table, read without a
// lock by every shard.
#pragma once

#include <string_view>
#include <vector>

#include "snapshot_table.hpp"
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
    binding_list replace(std::string_view aor, std::vector<binding>&& next);

private:
    snapshot_table table_;
};

} // namespace sipfast::registrar
