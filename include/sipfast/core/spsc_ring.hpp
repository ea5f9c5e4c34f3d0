// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>

namespace sipfast::core {

/// A bounded single-producer single-consumer queue: the mailbox between two workers (one per
/// ordered pair, as Seastar's smp queues). The producer stages items and makes them visible with
/// publish(), so a burst costs one release store; the consumer takes a batch and frees it with one
/// release store. Capacity is fixed at construction (set-up time), never grows: a full ring is
/// back-pressure the caller answers (503 + Retry-After) and counts.
template <class T>
class spsc_ring {
    static_assert(std::is_trivially_copyable_v<T>, "mailbox items are copied as bytes");

public:
    /// Capacity is rounded up to a power of two, at least 2.
    explicit spsc_ring(std::size_t capacity) : mask_(round_up(capacity) - 1), slots_(new T[mask_ + 1]) {}
    spsc_ring(const spsc_ring&) = delete;
    spsc_ring& operator=(const spsc_ring&) = delete;

    [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

    // ---- producer side --------------------------------------------------------------------
    /// Stages one item; false when the ring is full (counting staged items). Not visible to the
    /// consumer until publish().
    [[nodiscard]] bool try_push(const T& item) noexcept {
        if (staged_ - cached_head_ > mask_) {
            cached_head_ = head_.load(std::memory_order_acquire);
            if (staged_ - cached_head_ > mask_) return false;
        }
        slots_[staged_ & mask_] = item;
        ++staged_;
        return true;
    }

    /// The next free slot, to be filled in place and then staged with push_claimed(); nullptr when the
    /// ring is full. For items too large to copy twice (a datagram handed to another shard).
    [[nodiscard]] T* claim() noexcept {
        if (staged_ - cached_head_ > mask_) {
            cached_head_ = head_.load(std::memory_order_acquire);
            if (staged_ - cached_head_ > mask_) return nullptr;
        }
        return &slots_[staged_ & mask_];
    }
    /// Stages the slot returned by the last claim().
    void push_claimed() noexcept { ++staged_; }

    /// Makes every staged item visible to the consumer.
    void publish() noexcept {
        if (staged_ != published_) {
            published_ = staged_;
            tail_.store(staged_, std::memory_order_release);
        }
    }

    /// Items staged and not yet published.
    [[nodiscard]] std::size_t unpublished() const noexcept { return staged_ - published_; }

    // ---- consumer side --------------------------------------------------------------------
    /// Calls f(const T&) for up to `max` published items in order, then frees their slots.
    /// Returns how many were taken.
    template <class F>
    std::size_t consume(F&& f, std::size_t max = ~std::size_t{0}) noexcept(noexcept(f(std::declval<const T&>()))) {
        // One acquire load per batch: it sees every item published before it.
        const std::size_t tail = tail_.load(std::memory_order_acquire);
        if (tail == read_) return 0;
        std::size_t n = tail - read_;
        if (n > max) n = max;
        for (std::size_t i = 0; i < n; ++i) f(slots_[(read_ + i) & mask_]);
        read_ += n;
        head_.store(read_, std::memory_order_release);
        return n;
    }

    /// Published items not yet consumed, as the consumer last saw them (a hint from other threads).
    [[nodiscard]] std::size_t size_hint() const noexcept {
        return tail_.load(std::memory_order_relaxed) - head_.load(std::memory_order_relaxed);
    }

private:
    static std::size_t round_up(std::size_t n) noexcept {
        std::size_t c = 2;
        while (c < n) c <<= 1;
        return c;
    }

    // Each side's indices live on their own cache line so the producer's writes never invalidate
    // the line the consumer polls, and the reverse (false sharing costs a miss per message).
    static constexpr std::size_t line = 64;

    const std::size_t mask_;
    const std::unique_ptr<T[]> slots_;

    alignas(line) std::atomic<std::size_t> tail_{0};  // written by the producer
    alignas(line) std::atomic<std::size_t> head_{0};  // written by the consumer

    alignas(line) std::size_t staged_ = 0;       // producer only
    std::size_t published_ = 0;                  // producer only
    std::size_t cached_head_ = 0;                // producer's copy of head_

    alignas(line) std::size_t read_ = 0;         // consumer only
};

} // namespace sipfast::core
