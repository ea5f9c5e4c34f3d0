// SPDX-License-Identifier: Apache-2.0
#include <memory>

#include "binding_map.hpp"

namespace sipfast::registrar {

namespace {

class memory_store final : public location_store {
public:
    register_fault update(std::string_view aor, const register_request& r, const instant& now,
                          const registrar_limits& limits, binding_list& after) override {
        return bindings_.update(aor, r, now.monotonic_ns, limits, after);
    }

    binding_list lookup(std::string_view aor) const override { return bindings_.find(aor); }

private:
    binding_map bindings_;
};

} // namespace

std::unique_ptr<location_store> make_memory_store() { return std::make_unique<memory_store>(); }

} // namespace sipfast::registrar
