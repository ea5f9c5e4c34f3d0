// SPDX-License-Identifier: Apache-2.0
#include "binding_map.hpp"

#include <memory>
#include <utility>

namespace sipfast::registrar {

namespace {

binding_list snapshot_of(std::vector<binding>&& next) {
    return next.empty() ? nullptr : std::make_shared<const std::vector<binding>>(std::move(next));
}

} // namespace

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
    snapshot_table::writer w(table_, aor);  // held until the snapshot is replaced
    std::vector<binding> next;
    const register_fault f = next_bindings(w.current(), r, now_ns, limits, next);
    if (f == register_fault::none) w.publish(snapshot_of(std::move(next)), 0);
    after = w.current();
    return f;
}

binding_list binding_map::replace(std::string_view aor, std::vector<binding>&& next) {
    snapshot_table::writer w(table_, aor);
    w.publish(snapshot_of(std::move(next)), 0);
    return w.current();
}

} // namespace sipfast::registrar
