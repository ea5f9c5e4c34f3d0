// SPDX-License-Identifier: Apache-2.0
// The bindings in this process's memory, which every store reads from (memory_store.cpp,
// sqlite_store.cpp): a TBB concurrent hash map from address-of-record to immutable snapshot.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <oneapi/tbb/concurrent_hash_map.h>
#include <xxhash.h>

#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {

/// What `r` makes of `current` at `now_ns`, best first: on none `next` holds it (empty when no
/// binding is left); on a fault `next` is left as it was.
[[nodiscard]] register_fault next_bindings(const binding_list& current, const register_request& r, std::uint64_t now_ns,
                                           const registrar_limits& limits, std::vector<binding>& next);

class binding_map {
public:
    /// Takes the bucket's read lock only to copy the snapshot's pointer.
    [[nodiscard]] binding_list find(std::string_view aor) const {
        map::const_accessor a;
        if (!map_.find(a, aor)) return nullptr;
        return a->second;
    }

    /// Applies `r` under the write lock of `aor` (writers of other addresses-of-record go on).
    register_fault update(std::string_view aor, const register_request& r, std::uint64_t now_ns,
                          const registrar_limits& limits, binding_list& after);

    /// Publishes `next` as the snapshot of `aor` (none left: `aor` goes) and returns it. For a
    /// writer that made `next` from find() outside the map's locks: it must keep other writers of
    /// `aor` out from find() to here itself.
    binding_list replace(std::string_view aor, std::vector<binding>&& next);

private:
    /// Looks keys up by string_view, so a lookup makes no std::string.
    struct aor_hash_compare {
        using is_transparent = void;
        static std::size_t hash(std::string_view k) noexcept { return XXH3_64bits(k.data(), k.size()); }
        static bool equal(std::string_view a, std::string_view b) noexcept { return a == b; }
    };
    using map = oneapi::tbb::concurrent_hash_map<std::string, binding_list, aor_hash_compare>;
    mutable map map_;  // TBB's find by string_view is not const; a lookup changes nothing
};

} // namespace sipfast::registrar
