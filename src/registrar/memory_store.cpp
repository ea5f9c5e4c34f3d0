// SPDX-License-Identifier: Apache-2.0
#include <memory>
#include <string>
#include <vector>

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

    std::size_t expire(const instant& now) override {
        std::size_t n = 0;
        for (const std::string& aor : bindings_.due(now.monotonic_ns))
            n += bindings_.expire(aor, now.monotonic_ns, [](const binding_list&, const std::vector<binding>&) { return true; });
        return n;
    }

private:
    binding_map bindings_;
};

} // namespace

std::unique_ptr<location_store> make_memory_store() { return std::make_unique<memory_store>(); }

} // namespace sipfast::registrar
