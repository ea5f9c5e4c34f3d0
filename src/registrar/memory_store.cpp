// SPDX-License-Identifier: Apache-2.0
#include <memory>
#include <utility>

#include "binding_map.hpp"

namespace sipfast::registrar {

register_fault next_bindings(const binding_list& current, const register_request& r, std::uint64_t now_ns,
                             const registrar_limits& limits, std::vector<binding>& next) {
    std::vector<binding> made = current ? *current : std::vector<binding>{};
    const register_fault f = apply_register(r, made, now_ns, limits);
    if (f != register_fault::none) return f;
    order_by_preference(made);
    next = std::move(made);
    return f;
}

register_fault binding_map::update(std::string_view aor, const register_request& r, std::uint64_t now_ns,
                                   const registrar_limits& limits, binding_list& after) {
    map::accessor a;  // the write lock of this address-of-record, held until the snapshot is replaced
    (void)map_.insert(a, std::string(aor));
    std::vector<binding> next;
    const register_fault f = next_bindings(a->second, r, now_ns, limits, next);
    if (f == register_fault::none) a->second = next.empty() ? nullptr : std::make_shared<const std::vector<binding>>(std::move(next));
    after = a->second;
    if (!after) (void)map_.erase(a);
    return f;
}

binding_list binding_map::replace(std::string_view aor, std::vector<binding>&& next) {
    if (next.empty()) {
        (void)map_.erase(aor);
        return nullptr;
    }
    binding_list list = std::make_shared<const std::vector<binding>>(std::move(next));
    map::accessor a;
    (void)map_.insert(a, std::string(aor));
    a->second = list;
    return list;
}

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
