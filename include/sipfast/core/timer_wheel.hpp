// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace sipfast::core {

/// A scheduled timer: its slot and that slot's generation, so a handle kept past its timer's end
/// cancels nothing.
struct timer_handle {
    std::uint32_t index = ~std::uint32_t{0};
    std::uint32_t generation = 0;
    [[nodiscard]] bool valid() const noexcept { return index != ~std::uint32_t{0}; }
};

/// A hashed timing wheel driven by an explicit clock: one per shard, for the transaction timers
/// (RFC 3261 §17, Timers A–K) and binding expiry. Nothing reads the system clock, so tests run hours
/// of protocol time in milliseconds. Timers live in a slab sized at construction; scheduling and
/// cancelling are O(1) and allocate nothing; a full slab refuses the timer (the caller answers 503).
///
/// A timer fires on the first advance() whose `now` is at or past its deadline, rounded up to the
/// tick; timers fire in deadline order (ticks are walked one by one, an empty wheel is skipped).
class timer_wheel {
public:
    /// `capacity` timers at most; `tick_ns` granularity; `slots` buckets (rounded to a power of
    /// two); `now_ns` is the clock's reading at start.
    timer_wheel(std::size_t capacity, std::uint64_t tick_ns, std::uint64_t now_ns, std::size_t slots = 4096);
    timer_wheel(const timer_wheel&) = delete;
    timer_wheel& operator=(const timer_wheel&) = delete;

    /// Schedules `cookie` to be handed back at `deadline_ns`; an invalid handle when the slab is full.
    [[nodiscard]] timer_handle schedule(std::uint64_t deadline_ns, std::uint64_t cookie) noexcept;

    /// Cancels a pending timer; false when it already fired, was cancelled, or the handle is stale.
    bool cancel(timer_handle h) noexcept;
    /// Cancels `h`'s timer if it is pending and forgets it: a handle kept after its timer ended
    /// costs a read of the timer's node (a cache miss) at every later cancel, this one none.
    void stop(timer_handle& h) noexcept {
        (void)cancel(h);
        h = {};
    }
    /// Whether `h`'s timer is still to fire.
    [[nodiscard]] bool pending(timer_handle h) const noexcept {
        return h.valid() && h.index < capacity_ && nodes_[h.index].pending && nodes_[h.index].generation == h.generation;
    }

    /// Moves the clock to `now_ns` and calls on_expire(cookie) for every timer due by then, in
    /// deadline order. on_expire may schedule and cancel timers. Returns how many fired.
    template <class F>
    std::size_t advance(std::uint64_t now_ns, F&& on_expire);

    [[nodiscard]] std::size_t active() const noexcept { return active_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    /// Memory per timer of capacity.
    [[nodiscard]] static constexpr std::size_t bytes_per_timer() noexcept { return sizeof(node); }
    /// The clock time of the last tick processed.
    [[nodiscard]] std::uint64_t now_ns() const noexcept { return origin_ns_ + tick_ * tick_ns_; }

private:
    static constexpr std::uint32_t none = ~std::uint32_t{0};

    struct node {
        std::uint64_t due_tick;
        std::uint64_t cookie;
        std::uint32_t prev;
        std::uint32_t next;
        std::uint32_t generation;
        bool pending;
    };

    void link(std::uint32_t i) noexcept;
    void unlink(std::uint32_t i) noexcept;
    void release(std::uint32_t i) noexcept;

    std::size_t capacity_;
    std::uint64_t tick_ns_;
    std::uint64_t origin_ns_;
    std::uint64_t tick_ = 0;          // ticks processed since origin
    std::size_t mask_;
    std::size_t active_ = 0;
    std::uint32_t free_ = none;
    std::uint32_t cursor_ = none;     // next node of the bucket being walked, kept valid across cancel()
    std::unique_ptr<node[]> nodes_;
    std::unique_ptr<std::uint32_t[]> buckets_;
};

template <class F>
std::size_t timer_wheel::advance(std::uint64_t now_ns, F&& on_expire) {
    if (now_ns < origin_ns_) return 0;
    const std::uint64_t target = (now_ns - origin_ns_) / tick_ns_;
    std::size_t fired = 0;
    while (tick_ < target) {
        if (active_ == 0) {  // nothing can fire: jump
            tick_ = target;
            break;
        }
        ++tick_;
        std::uint32_t i = buckets_[tick_ & mask_];
        while (i != none) {
            cursor_ = nodes_[i].next;
            if (nodes_[i].due_tick <= tick_) {
                const std::uint64_t cookie = nodes_[i].cookie;
                unlink(i);
                release(i);
                ++fired;
                on_expire(cookie);
            }
            i = cursor_;
        }
        cursor_ = none;
    }
    return fired;
}

} // namespace sipfast::core
