// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/timer_wheel.hpp"

namespace sipfast::core {

timer_wheel::timer_wheel(std::size_t capacity, std::uint64_t tick_ns, std::uint64_t now_ns, std::size_t slots)
    : capacity_(capacity), tick_ns_(tick_ns == 0 ? 1 : tick_ns), origin_ns_(now_ns) {
    std::size_t n = 1;
    while (n < slots) n <<= 1;
    mask_ = n - 1;
    nodes_ = std::make_unique<node[]>(capacity_);
    buckets_ = std::make_unique<std::uint32_t[]>(n);
    for (std::size_t b = 0; b < n; ++b) buckets_[b] = none;
    // Free list threaded through `next`, lowest index first.
    for (std::size_t i = capacity_; i-- > 0;) {
        nodes_[i] = node{0, 0, none, free_, 0, false};
        free_ = static_cast<std::uint32_t>(i);
    }
}

timer_handle timer_wheel::schedule(std::uint64_t deadline_ns, std::uint64_t cookie) noexcept {
    if (free_ == none) return {};
    const std::uint32_t i = free_;
    node& n = nodes_[i];
    free_ = n.next;
    // The first tick whose time is at or past the deadline, and never the tick already processed.
    std::uint64_t due = deadline_ns <= origin_ns_ ? 0 : (deadline_ns - origin_ns_ + tick_ns_ - 1) / tick_ns_;
    if (due <= tick_) due = tick_ + 1;
    n.due_tick = due;
    n.cookie = cookie;
    n.pending = true;
    link(i);
    ++active_;
    return timer_handle{i, n.generation};
}

bool timer_wheel::cancel(timer_handle h) noexcept {
    if (!h.valid() || h.index >= capacity_) return false;
    node& n = nodes_[h.index];
    if (!n.pending || n.generation != h.generation) return false;
    if (cursor_ == h.index) cursor_ = n.next;  // advance() is walking this bucket
    unlink(h.index);
    release(h.index);
    return true;
}

void timer_wheel::link(std::uint32_t i) noexcept {
    node& n = nodes_[i];
    std::uint32_t& head = buckets_[n.due_tick & mask_];
    n.prev = none;
    n.next = head;
    if (head != none) nodes_[head].prev = i;
    head = i;
}

void timer_wheel::unlink(std::uint32_t i) noexcept {
    node& n = nodes_[i];
    if (n.prev != none) nodes_[n.prev].next = n.next;
    else buckets_[n.due_tick & mask_] = n.next;
    if (n.next != none) nodes_[n.next].prev = n.prev;
}

void timer_wheel::release(std::uint32_t i) noexcept {
    node& n = nodes_[i];
    n.pending = false;
    ++n.generation;
    n.next = free_;
    free_ = i;
    --active_;
}

} // namespace sipfast::core
