// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace sipfast::txn {

/// A message copy kept by a transaction: where it lives in its shard's message_store. Empty when
/// nothing is kept.
struct stored {
    std::uint32_t offset = 0;
    std::uint32_t len = 0;
    std::uint8_t size_class = 0;
    bool live = false;
    [[nodiscard]] bool empty() const noexcept { return !live; }
};

/// What a transaction keeps of its messages (the request as forwarded, the last response sent
/// upstream, the CANCEL or ACK we built), per shard, sized to the message rather than to the
/// largest one. Blocks come in power-of-two size classes from 256 bytes to 128 KiB, carved from one
/// arena in chunks that, once given to a class, stay with it; a freed block goes back on its
/// class's free list. Allocation and release are O(1) and touch no system allocator. The arena is
/// reserved at construction and its pages are first touched as they are carved, so resident memory
/// follows the high-water mark of what is kept, not the budget.
///
/// Every block keeps `padding` readable bytes after the message, so a stored copy can be parsed
/// again in place (the parser's padding contract). One writer (the shard's worker), no locks.
class message_store {
public:
    static constexpr std::size_t padding = 64;
    static constexpr std::size_t min_block = 256;
    static constexpr std::size_t chunk_bytes = 128 * 1024;
    static constexpr std::size_t classes = 10;  // 256 B .. 128 KiB
    /// The largest message a block holds.
    static constexpr std::size_t max_message = chunk_bytes - padding;

    /// An arena of `arena_bytes` (rounded down to whole chunks; at least one chunk).
    explicit message_store(std::size_t arena_bytes);
    message_store(const message_store&) = delete;
    message_store& operator=(const message_store&) = delete;

    /// Room for a message of `len` bytes (with padding after it), recorded in `h`; an empty pointer
    /// when the message is larger than max_message or its class has no block left and the arena no
    /// chunk. `h` must be empty.
    [[nodiscard]] char* allocate(std::size_t len, stored& h) noexcept;
    /// A copy of `bytes`; false (h left empty) when there is no room.
    [[nodiscard]] bool put(std::string_view bytes, stored& h) noexcept;
    /// Gives the block back; `h` becomes empty. Releasing an empty handle does nothing.
    void release(stored& h) noexcept;
    /// Shortens a stored message to its first `len` bytes (after writing less than allocated).
    void shrink(stored& h, std::size_t len) noexcept;

    [[nodiscard]] std::string_view view(const stored& h) const noexcept {
        return h.live ? std::string_view(arena_.get() + h.offset, h.len) : std::string_view{};
    }

    /// Bytes of blocks in use (by class size), of the arena carved so far, and of the arena.
    [[nodiscard]] std::size_t bytes_in_use() const noexcept { return in_use_; }
    [[nodiscard]] std::size_t bytes_carved() const noexcept { return carved_ * chunk_bytes; }
    [[nodiscard]] std::size_t capacity() const noexcept { return chunks_ * chunk_bytes; }
    /// Allocations refused for want of room.
    [[nodiscard]] std::uint64_t refused() const noexcept { return refused_; }

    /// The size of the class that holds `len` bytes of message, 0 when none does.
    [[nodiscard]] static std::size_t block_for(std::size_t len) noexcept;

private:
    static constexpr std::uint32_t none = ~std::uint32_t{0};
    [[nodiscard]] bool carve(std::size_t size_class) noexcept;

    std::size_t chunks_;
    std::unique_ptr<char[]> arena_;
    std::size_t carved_ = 0;
    std::array<std::uint32_t, classes> free_{};  // head of each class's free list (an offset), none when empty
    std::size_t in_use_ = 0;
    std::uint64_t refused_ = 0;
};

} // namespace sipfast::txn
