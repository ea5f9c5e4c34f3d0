// SPDX-License-Identifier: Apache-2.0
// The read-mostly hash table under the registrar's bindings (binding_map.hpp): address-of-record to
// its immutable binding_list, searched by every shard without a lock, written by few.
//
// A power-of-two array of buckets, each an atomic pointer to an immutable bucket: its entries (hash,
// list, where the key is) and the keys' characters in one allocation, so a lookup reads the bucket
// pointer, one cache line of bucket and the list's control block, writes nothing shared but that
// block's count, and never waits. A writer copies the bucket with its change and swaps the pointer,
// under the lock of one of 32 stripes (a stripe holds every bucket whose index is its number modulo
// 32, at every table size); the old bucket is freed once no reader can be reading it (grace_period.hpp).
// The table doubles when it holds more addresses-of-record than buckets: every stripe is locked, the
// buckets are copied into a table twice the size, and that table is swapped in the same way.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "grace_period.hpp"
#include "sipfast/registrar/location_store.hpp"

namespace sipfast::registrar {

class snapshot_table {
    struct bucket;
    struct table;

public:
    snapshot_table();
    ~snapshot_table();
    snapshot_table(const snapshot_table&) = delete;
    snapshot_table& operator=(const snapshot_table&) = delete;

    /// The bindings of `aor`, null when it has none. Lock-free and wait-free but for the list's
    /// reference count: safe from any thread, concurrently with writers.
    [[nodiscard]] binding_list find(std::string_view aor) const noexcept;

    /// The bindings of `aor` without taking a reference: valid until `section` ends, null when it
    /// has none. What find() costs besides is the list's reference count, a write to a line every
    /// reader of that address-of-record shares (bench/RESULTS.md, "Location lookups under a writer").
    [[nodiscard]] const std::vector<binding>* peek(std::string_view aor, const read_section& section) const noexcept;

    /// The write lock of one address-of-record (and of the others in its stripe) and what it holds:
    /// every change goes through one. Writers of other stripes go on; readers never wait for it.
    class writer {
    public:
        writer(snapshot_table& t, std::string_view aor);
        ~writer();
        writer(const writer&) = delete;
        writer& operator=(const writer&) = delete;

        /// What the address-of-record holds now (null: nothing).
        [[nodiscard]] const binding_list& current() const noexcept { return current_; }
        /// The deadline of its expiry timer (binding_map.hpp), 0 for none: writers' bookkeeping,
        /// which readers never read.
        [[nodiscard]] std::uint64_t timer_ns() const noexcept;
        void set_timer_ns(std::uint64_t deadline_ns) noexcept;
        /// Makes `next` what readers find (null: the address-of-record goes), with `timer_ns`.
        void publish(binding_list next, std::uint64_t timer_ns);
        [[nodiscard]] std::uint64_t hash() const noexcept { return hash_; }

    private:
        snapshot_table& t_;
        std::string_view aor_;
        std::uint64_t hash_;
        std::unique_lock<std::mutex> lock_;
        binding_list current_;
        std::uint64_t* timer_ = nullptr;  // in the published bucket, null when there is no entry
    };

    /// The addresses-of-record of hash `h` whose timer is due by `now_ns`: each one's timer is unset
    /// and its key appended to `out`.
    void take_due(std::uint64_t h, std::uint64_t now_ns, std::vector<std::string>& out);

    /// Frees what no reader can hold any more; writers do it every retire_list::batch_size changes,
    /// housekeeping calls it for the changes since.
    void collect() { retired_.collect(); }

    /// Addresses-of-record held.
    [[nodiscard]] std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }
    /// Buckets of the current table.
    [[nodiscard]] std::size_t buckets() const noexcept;

    [[nodiscard]] static std::uint64_t hash_of(std::string_view aor) noexcept;

private:
    // Writers are the shards that take REGISTERs, a few; 32 keeps them apart, and growing holds every
    // stripe at once, which ThreadSanitizer's lock tracking (64 at most) still follows.
    static constexpr std::size_t stripes = 32;
    struct alignas(64) stripe {
        std::mutex m;
    };

    void grow();

    std::atomic<table*> table_;
    std::array<stripe, stripes> stripes_;
    std::atomic<std::size_t> size_{0};
    mutable retire_list retired_;
};

} // namespace sipfast::registrar
