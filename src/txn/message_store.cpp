// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/message_store.hpp"

#include <bit>
#include <cstring>

namespace sipfast::txn {

namespace {

constexpr std::size_t class_size(std::size_t c) noexcept { return message_store::min_block << c; }

std::size_t class_of(std::size_t len) noexcept {
    const std::size_t need = len + message_store::padding;
    if (need <= message_store::min_block) return 0;
    return static_cast<std::size_t>(std::bit_width(need - 1)) - 8;  // 2^8 = min_block
}

} // namespace

static_assert(class_size(message_store::classes - 1) == message_store::chunk_bytes);

message_store::message_store(std::size_t arena_bytes)
    : chunks_(arena_bytes < chunk_bytes ? 1 : arena_bytes / chunk_bytes),
      // Not value-initialised: pages the store never carves are never touched (nor made resident).
      arena_(new char[chunks_ * chunk_bytes]) {
    free_.fill(none);
}

std::size_t message_store::block_for(std::size_t len) noexcept {
    return len > max_message ? 0 : class_size(class_of(len));
}

bool message_store::carve(std::size_t c) noexcept {
    if (carved_ == chunks_) return false;
    const std::size_t base = carved_++ * chunk_bytes;
    const std::size_t size = class_size(c);
    // Threaded lowest offset first, so blocks are handed out in address order.
    for (std::size_t at = base + chunk_bytes; at > base;) {
        at -= size;
        std::memcpy(arena_.get() + at, &free_[c], sizeof(std::uint32_t));
        free_[c] = static_cast<std::uint32_t>(at);
    }
    return true;
}

char* message_store::allocate(std::size_t len, stored& h) noexcept {
    if (len > max_message) {
        ++refused_;
        return nullptr;
    }
    const std::size_t c = class_of(len);
    if (free_[c] == none && !carve(c)) {
        ++refused_;
        return nullptr;
    }
    const std::uint32_t at = free_[c];
    std::memcpy(&free_[c], arena_.get() + at, sizeof(std::uint32_t));
    in_use_ += class_size(c);
    h = stored{at, static_cast<std::uint32_t>(len), static_cast<std::uint8_t>(c), true};
    return arena_.get() + at;
}

bool message_store::put(std::string_view bytes, stored& h) noexcept {
    char* p = allocate(bytes.size(), h);
    if (p == nullptr) return false;
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());
    return true;
}

void message_store::shrink(stored& h, std::size_t len) noexcept {
    if (h.live && len < h.len) h.len = static_cast<std::uint32_t>(len);
}

void message_store::release(stored& h) noexcept {
    if (!h.live) return;
    std::memcpy(arena_.get() + h.offset, &free_[h.size_class], sizeof(std::uint32_t));
    free_[h.size_class] = h.offset;
    in_use_ -= class_size(h.size_class);
    h = stored{};
}

} // namespace sipfast::txn
