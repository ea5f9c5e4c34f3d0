// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

namespace sipfast::core {

/// A key as the table sees it: the caller's 64-bit hash of the bytes and the bytes themselves
/// (compared in full on a hash hit, so a collision is never a false match).
struct table_key {
    std::uint64_t hash;
    std::string_view bytes;
};

/// One shard's transaction or dialog table (docs/architecture.md, "Transactions"): fixed capacity,
/// open addressing with linear probing over a bucket array twice the capacity, entries in a slab
/// whose indices stay put (so an entry's index can ride in a Via branch), deletion by backward
/// shift (no tombstones, so probe lengths do not grow with churn). Written by its worker only: no
/// locks, no atomics. A full table refuses the insert; the caller answers 503.
template <class Value, std::size_t KeyMax = 128>
class shard_table {
public:
    static constexpr std::uint32_t none = ~std::uint32_t{0};

    explicit shard_table(std::size_t capacity)
        : capacity_(capacity), mask_(buckets_for(capacity) - 1), buckets_(new bucket[mask_ + 1]),
          entries_(new entry[capacity]) {
        for (std::size_t b = 0; b <= mask_; ++b) buckets_[b] = bucket{0, none};
        for (std::size_t i = capacity; i-- > 0;) {  // free list through `next_free`, lowest index first
            entries_[i].next_free = free_;
            free_ = static_cast<std::uint32_t>(i);
        }
        // Every page of the slab written now: a first touch later is a page fault (a kernel
        // allocation, microseconds) on the fast path, once per entry in a large Value's buffers.
        auto* bytes = reinterpret_cast<volatile unsigned char*>(entries_.get());
        for (std::size_t at = 0; at < capacity * sizeof(entry); at += 4096) bytes[at] = bytes[at];
    }
    shard_table(const shard_table&) = delete;
    shard_table& operator=(const shard_table&) = delete;

    /// The entry for k, or nullptr.
    [[nodiscard]] Value* find(const table_key& k) noexcept {
        const std::uint32_t b = locate(k);
        return b == none ? nullptr : &entries_[buckets_[b].index].value;
    }

    /// Adds k and returns its value-initialised entry; nullptr when k is present already, the table
    /// is full, or k is longer than KeyMax.
    [[nodiscard]] Value* insert(const table_key& k) noexcept {
        if (free_ == none || k.bytes.size() > KeyMax || locate(k) != none) return nullptr;
        const std::uint32_t i = free_;
        entry& e = entries_[i];
        free_ = e.next_free;
        e.hash = k.hash;
        e.key_len = static_cast<std::uint16_t>(k.bytes.size());
        if (!k.bytes.empty()) std::memcpy(e.key, k.bytes.data(), k.bytes.size());
        e.value = Value{};
        e.live = true;
        std::size_t b = k.hash & mask_;
        while (buckets_[b].index != none) b = (b + 1) & mask_;
        buckets_[b] = bucket{tag(k.hash), i};
        ++size_;
        return &e.value;
    }

    /// Removes k; false when absent.
    bool erase(const table_key& k) noexcept {
        const std::uint32_t b = locate(k);
        if (b == none) return false;
        release(b);
        return true;
    }

    /// Removes the entry at slab index i (as given by index_of); false when it is not live.
    bool erase_at(std::uint32_t i) noexcept {
        if (i >= capacity_ || !entries_[i].live) return false;
        const entry& e = entries_[i];
        std::size_t b = e.hash & mask_;
        while (buckets_[b].index != i) b = (b + 1) & mask_;
        release(static_cast<std::uint32_t>(b));
        return true;
    }

    /// The slab index of an entry returned by find or insert: stable for the entry's life.
    [[nodiscard]] std::uint32_t index_of(const Value* v) const noexcept {
        const auto* first = reinterpret_cast<const char*>(&entries_[0].value);
        return static_cast<std::uint32_t>(static_cast<std::size_t>(reinterpret_cast<const char*>(v) - first) / sizeof(entry));
    }
    /// The live entry at slab index i, or nullptr.
    [[nodiscard]] Value* at(std::uint32_t i) noexcept { return i < capacity_ && entries_[i].live ? &entries_[i].value : nullptr; }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    /// Memory per entry of capacity: the entry and its share of the bucket array.
    [[nodiscard]] static constexpr std::size_t bytes_per_entry() noexcept { return sizeof(entry) + 2 * sizeof(bucket); }

private:
    struct bucket {
        std::uint32_t tag;    // high half of the hash: most misses end here without touching the slab
        std::uint32_t index;  // slab index, none when empty
    };
    struct entry {
        Value value{};
        std::uint64_t hash = 0;
        std::uint32_t next_free = none;
        std::uint16_t key_len = 0;
        bool live = false;
        char key[KeyMax];
    };

    static std::size_t buckets_for(std::size_t capacity) noexcept {
        std::size_t n = 8;
        while (n < capacity * 2) n <<= 1;  // load factor at most one half
        return n;
    }
    static std::uint32_t tag(std::uint64_t h) noexcept { return static_cast<std::uint32_t>(h >> 32); }

    std::uint32_t locate(const table_key& k) const noexcept {
        for (std::size_t b = k.hash & mask_;; b = (b + 1) & mask_) {
            const bucket& bk = buckets_[b];
            if (bk.index == none) return none;
            if (bk.tag != tag(k.hash)) continue;
            const entry& e = entries_[bk.index];
            if (e.hash == k.hash && e.key_len == k.bytes.size() &&
                (k.bytes.empty() || std::memcmp(e.key, k.bytes.data(), k.bytes.size()) == 0))
                return static_cast<std::uint32_t>(b);
        }
    }

    void release(std::uint32_t b) noexcept {
        entry& e = entries_[buckets_[b].index];
        e.live = false;
        e.value = Value{};
        e.next_free = free_;
        free_ = buckets_[b].index;
        --size_;
        // Backward shift: pull later members of the probe run into the hole while their home
        // bucket does not lie cyclically after it.
        std::size_t hole = b;
        for (std::size_t j = (hole + 1) & mask_; buckets_[j].index != none; j = (j + 1) & mask_) {
            const std::size_t home = entries_[buckets_[j].index].hash & mask_;
            const bool movable = ((j - home) & mask_) >= ((j - hole) & mask_);
            if (movable) {
                buckets_[hole] = buckets_[j];
                hole = j;
            }
        }
        buckets_[hole] = bucket{0, none};
    }

    std::size_t capacity_;
    std::size_t mask_;
    std::unique_ptr<bucket[]> buckets_;
    std::unique_ptr<entry[]> entries_;
    std::uint32_t free_ = none;
    std::size_t size_ = 0;
};

} // namespace sipfast::core
