// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace sipfast::core {

/// A bounded single-producer single-consumer queue of variable-size records in one byte buffer:
/// the mailbox between two workers, sized in bytes so a 64 kB message and a 400-byte one each take
/// what they need. The producer claims contiguous room, fills it in place, stages it and makes
/// everything staged visible with publish() (one release store per burst); the consumer takes a
/// batch in order and frees it with one release store. A record never wraps: when the room left
/// before the end of the buffer is too short, a skip marker sends the producer back to the start.
/// Capacity is fixed at construction; a full ring refuses the claim (the caller stops reading its
/// input, or counts the drop).
class message_ring {
public:
    /// `capacity_bytes` is rounded up to a power of two, at least 4 KiB.
    explicit message_ring(std::size_t capacity_bytes)
        : mask_(round_up(capacity_bytes) - 1), buf_(new unsigned char[mask_ + 1]) {}
    message_ring(const message_ring&) = delete;
    message_ring& operator=(const message_ring&) = delete;

    [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }
    /// The largest record a claim can ever get.
    [[nodiscard]] std::size_t max_record() const noexcept { return (mask_ + 1) / 2 - header; }

    // ---- producer side --------------------------------------------------------------------
    /// Room for a record of n bytes, to be filled and then staged with push_claimed(); nullptr when
    /// the ring has no room for it now (or ever: n > max_record()).
    [[nodiscard]] unsigned char* claim(std::size_t n) noexcept {
        if (n > max_record()) return nullptr;
        const std::size_t need = align(header + n);
        std::size_t at = staged_ & mask_;
        const std::size_t to_end = mask_ + 1 - at;
        const std::size_t skip = need > to_end ? to_end : 0;  // a record never wraps
        if (!has_room(skip + need)) return nullptr;
        if (skip != 0) {
            std::memcpy(buf_.get() + at, &skip_marker, sizeof skip_marker);
            staged_ += skip;
            at = 0;
        }
        claimed_ = need;
        const auto len = static_cast<std::uint32_t>(n);
        std::memcpy(buf_.get() + at, &len, sizeof len);
        return buf_.get() + at + header;
    }
    /// Stages the record of the last claim().
    void push_claimed() noexcept {
        staged_ += claimed_;
        claimed_ = 0;
    }
    /// Makes every staged record visible to the consumer.
    void publish() noexcept {
        if (staged_ != published_) {
            published_ = staged_;
            tail_.store(staged_, std::memory_order_release);
        }
    }
    /// Bytes free as the producer last learned (the consumer may have freed more since).
    [[nodiscard]] std::size_t free_bytes() noexcept {
        cached_head_ = head_.load(std::memory_order_acquire);
        return mask_ + 1 - (staged_ - cached_head_);
    }

    // ---- consumer side --------------------------------------------------------------------
    /// Calls f(std::span<const unsigned char>) for up to `max` published records in order, then
    /// frees them. Returns how many were taken.
    template <class F>
    std::size_t consume(F&& f, std::size_t max = ~std::size_t{0}) {
        const std::size_t tail = tail_.load(std::memory_order_acquire);
        std::size_t n = 0;
        while (read_ != tail && n < max) {
            const std::size_t at = read_ & mask_;
            std::uint32_t len = 0;
            std::memcpy(&len, buf_.get() + at, sizeof len);
            if (len == skip_marker) {
                read_ += mask_ + 1 - at;
                continue;
            }
            f(std::span<const unsigned char>(buf_.get() + at + header, len));
            read_ += align(header + len);
            ++n;
        }
        head_.store(read_, std::memory_order_release);
        return n;
    }
    /// Whether published records wait (a hint from any thread).
    [[nodiscard]] bool empty_hint() const noexcept {
        return tail_.load(std::memory_order_relaxed) == head_.load(std::memory_order_relaxed);
    }

private:
    static constexpr std::size_t header = 8;  // u32 length, then padding to keep payloads 8-aligned
    static constexpr std::uint32_t skip_marker = ~std::uint32_t{0};
    static std::size_t align(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
    static std::size_t round_up(std::size_t n) noexcept {
        std::size_t c = 4096;
        while (c < n) c <<= 1;
        return c;
    }
    bool has_room(std::size_t n) noexcept {
        if (mask_ + 1 - (staged_ - cached_head_) >= n) return true;
        cached_head_ = head_.load(std::memory_order_acquire);
        return mask_ + 1 - (staged_ - cached_head_) >= n;
    }

    const std::size_t mask_;
    const std::unique_ptr<unsigned char[]> buf_;

    // Each side's indices on their own cache line: the producer's writes never invalidate the line
    // the consumer polls, and the reverse.
    static constexpr std::size_t line = 64;
    alignas(line) std::atomic<std::size_t> tail_{0};  // written by the producer
    alignas(line) std::atomic<std::size_t> head_{0};  // written by the consumer

    alignas(line) std::size_t staged_ = 0;  // producer only
    std::size_t published_ = 0;
    std::size_t cached_head_ = 0;
    std::size_t claimed_ = 0;

    alignas(line) std::size_t read_ = 0;  // consumer only
};

} // namespace sipfast::core
