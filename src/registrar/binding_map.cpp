// SPDX-License-Identifier: Apache-2.0
#include "binding_map.hpp"

#include <algorithm>

namespace sipfast::registrar {

namespace {

// Timers of the first wheel: 32 bytes each; later wheels double.
constexpr std::size_t first_wheel_timers = 1024;

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
    if (f == register_fault::none) settle(w, snapshot_of(std::move(next)), now_ns);
    after = w.current();
    return f;
}

binding_list binding_map::replace(std::string_view aor, std::vector<binding>&& next, std::uint64_t now_ns) {
    snapshot_table::writer w(table_, aor);
    settle(w, snapshot_of(std::move(next)), now_ns);
    return w.current();
}

void binding_map::settle(snapshot_table::writer& w, binding_list next, std::uint64_t now_ns) {
    if (!next) {
        w.publish(nullptr, 0);  // a timer left pending fires and finds nothing
        return;
    }
    std::uint64_t first = next->front().expires_ns;
    for (const binding& b : *next) first = std::min(first, b.expires_ns);
    std::uint64_t timer = w.timer_ns();
    if (timer == 0 || first < timer) {
        schedule(first, w.hash(), now_ns);
        timer = first;
    }
    if (next == w.current()) w.set_timer_ns(timer);
    else w.publish(std::move(next), timer);
}

void binding_map::schedule(std::uint64_t deadline_ns, std::uint64_t hash, std::uint64_t now_ns) {
    const std::lock_guard<std::mutex> l(expiry_mutex_);
    if (wheels_.empty() || !wheels_.back()->schedule(deadline_ns, hash).valid()) {
        const std::size_t timers = wheels_.empty() ? first_wheel_timers : wheels_.back()->capacity() * 2;
        // One tick is a second of 4 096 slots: a wheel turns in about 68 minutes, so even the longest
        // expiry (max_expires_s) is passed over a few times at most before it is due.
        wheels_.push_back(std::make_unique<core::timer_wheel>(timers, tick_ns, now_ns));
        (void)wheels_.back()->schedule(deadline_ns, hash);  // an empty wheel has room
    }
}

std::vector<std::string> binding_map::due(std::uint64_t now_ns) {
    std::vector<std::uint64_t> fired;
    {
        const std::lock_guard<std::mutex> l(expiry_mutex_);
        for (const auto& wheel : wheels_) (void)wheel->advance(now_ns, [&](std::uint64_t hash) { fired.push_back(hash); });
        // A full wheel's successor takes every new timer: once the older has none left, it goes.
        if (wheels_.size() > 1)
            wheels_.erase(std::remove_if(wheels_.begin(), wheels_.end() - 1, [](const auto& w) { return w->active() == 0; }),
                          wheels_.end() - 1);
    }
    std::vector<std::string> out;
    for (const std::uint64_t hash : fired) table_.take_due(hash, now_ns, out);
    table_.collect();
    return out;
}

std::size_t binding_map::timers() const {
    const std::lock_guard<std::mutex> l(expiry_mutex_);
    std::size_t n = 0;
    for (const auto& wheel : wheels_) n += wheel->active();
    return n;
}

} // namespace sipfast::registrar
