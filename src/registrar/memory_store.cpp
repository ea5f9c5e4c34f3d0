// SPDX-License-Identifier: Apache-2.0
#include <string>

#include <oneapi/tbb/concurrent_hash_map.h>
#include <xxhash.h>

#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {

namespace {

/// Looks keys up by string_view, so a lookup makes no std::string.
struct aor_hash_compare {
    using is_transparent = void;
    static std::size_t hash(std::string_view k) noexcept { return XXH3_64bits(k.data(), k.size()); }
    static bool equal(std::string_view a, std::string_view b) noexcept { return a == b; }
};

class memory_store final : public location_store {
public:
    register_fault update(std::string_view aor, const register_request& r, std::uint64_t now_ns,
                          const registrar_limits& limits, binding_list& after) override {
        map::accessor a;  // the write lock of this address-of-record, held until the snapshot is replaced
        (void)map_.insert(a, std::string(aor));
        std::vector<binding> next = a->second ? *a->second : std::vector<binding>{};
        const register_fault f = apply_register(r, next, now_ns, limits);
        if (f == register_fault::none) {
            order_by_preference(next);
            a->second = std::make_shared<const std::vector<binding>>(std::move(next));
        }
        after = a->second;
        if (!after || after->empty()) {
            (void)map_.erase(a);
            after = nullptr;
        }
        return f;
    }

    binding_list lookup(std::string_view aor) const override {
        map::const_accessor a;
        if (!map_.find(a, aor)) return nullptr;
        return a->second;
    }

private:
    using map = oneapi::tbb::concurrent_hash_map<std::string, binding_list, aor_hash_compare>;
    mutable map map_;  // TBB's find by string_view is not const; a lookup changes nothing
};

} // namespace

std::unique_ptr<location_store> make_memory_store() { return std::make_unique<memory_store>(); }

} // namespace sipfast::registrar
