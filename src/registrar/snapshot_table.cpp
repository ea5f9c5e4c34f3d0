// SPDX-License-Identifier: Apache-2.0
#include "snapshot_table.hpp"

#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <utility>

#include <xxhash.h>

namespace sipfast::registrar {

namespace {

/// One address-of-record in a bucket; its key's characters are in the same allocation.
struct entry {
    std::uint64_t hash;
    binding_list list;
    std::uint32_t key_offset;  // from the bucket's start
    std::uint32_t key_len;
};

/// What a new bucket is made of.
struct item {
    std::uint64_t hash;
    const binding_list* list;
    std::string_view key;
    std::uint64_t timer_ns;
};

constexpr std::size_t round8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }

} // namespace

// What a reader reads comes first: the entries, then the keys (a bucket of one address-of-record with
// a key of 24 bytes is 64); the timers, which only writers read, go last.
struct snapshot_table::bucket {
    std::uint32_t count;
    std::uint32_t timers_offset;  // from the bucket's start: count deadlines (uint64_t) for writers

    [[nodiscard]] std::byte* base() noexcept { return static_cast<std::byte*>(static_cast<void*>(this)); }
    [[nodiscard]] const std::byte* base() const noexcept {
        return static_cast<const std::byte*>(static_cast<const void*>(this));
    }
    [[nodiscard]] entry* entries() noexcept { return static_cast<entry*>(static_cast<void*>(base() + sizeof(bucket))); }
    [[nodiscard]] const entry* entries() const noexcept {
        return static_cast<const entry*>(static_cast<const void*>(base() + sizeof(bucket)));
    }
    [[nodiscard]] std::uint64_t* timers() noexcept {
        return static_cast<std::uint64_t*>(static_cast<void*>(base() + timers_offset));
    }
    [[nodiscard]] std::string_view key(const entry& e) const noexcept {
        return {static_cast<const char*>(static_cast<const void*>(base() + e.key_offset)), e.key_len};
    }

    /// A bucket of `items` (not empty), in their order.
    static bucket* make(std::span<const item> items) {
        static_assert(sizeof(bucket) % alignof(entry) == 0);
        std::size_t keys = 0;
        for (const item& i : items) keys += i.key.size();
        const std::size_t first_key = sizeof(bucket) + items.size() * sizeof(entry);
        const std::size_t timers_at = round8(first_key + keys);
        void* raw = ::operator new(timers_at + items.size() * sizeof(std::uint64_t));
        bucket* b = new (raw) bucket{static_cast<std::uint32_t>(items.size()), static_cast<std::uint32_t>(timers_at)};
        std::size_t at = first_key;
        for (std::size_t n = 0; n < items.size(); ++n) {
            const item& i = items[n];
            if (!i.key.empty()) std::memcpy(b->base() + at, i.key.data(), i.key.size());
            new (b->entries() + n) entry{i.hash, *i.list, static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(i.key.size())};
            b->timers()[n] = i.timer_ns;
            at += i.key.size();
        }
        return b;
    }

    static void destroy(void* p) noexcept {
        bucket* b = static_cast<bucket*>(p);
        for (std::uint32_t n = 0; n < b->count; ++n) b->entries()[n].~entry();
        b->~bucket();
        ::operator delete(p);
    }
};

struct snapshot_table::table {
    std::size_t mask;
    std::unique_ptr<std::atomic<bucket*>[]> heads;  // null: no address-of-record there

    explicit table(std::size_t n) : mask(n - 1), heads(std::make_unique<std::atomic<bucket*>[]>(n)) {}
    static void destroy(void* p) noexcept { delete static_cast<table*>(p); }
};

std::uint64_t snapshot_table::hash_of(std::string_view aor) noexcept { return XXH3_64bits(aor.data(), aor.size()); }

// As many buckets as stripes at least, so that a bucket is always in one stripe.
snapshot_table::snapshot_table() : table_(new table(1024)) {}

snapshot_table::~snapshot_table() {
    table* t = table_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i <= t->mask; ++i)
        if (bucket* b = t->heads[i].load(std::memory_order_relaxed)) bucket::destroy(b);
    delete t;
}

std::size_t snapshot_table::buckets() const noexcept { return table_.load(std::memory_order_acquire)->mask + 1; }

namespace {

/// The entry of `aor` (of hash `h`) in the table `t` points to now, null when there is none; for a
/// reader inside a section.
template <class Table>
const entry* search(const Table* t, std::string_view aor, std::uint64_t h) noexcept {
    const auto* b = t->heads[h & t->mask].load(std::memory_order_acquire);
    if (b == nullptr) return nullptr;
    const entry* e = b->entries();
    for (std::uint32_t n = 0; n < b->count; ++n)
        if (e[n].hash == h && b->key(e[n]) == aor) return e + n;
    return nullptr;
}

} // namespace

binding_list snapshot_table::find(std::string_view aor) const noexcept {
    const std::uint64_t h = hash_of(aor);  // outside the section, which is kept short
    const read_section section;
    const entry* e = search(table_.load(std::memory_order_acquire), aor, h);
    return e != nullptr ? e->list : nullptr;  // the copy is made inside the section
}

const std::vector<binding>* snapshot_table::peek(std::string_view aor, const read_section&) const noexcept {
    const entry* e = search(table_.load(std::memory_order_acquire), aor, hash_of(aor));
    return e != nullptr ? e->list.get() : nullptr;
}

snapshot_table::writer::writer(snapshot_table& t, std::string_view aor)
    : t_(t), aor_(aor), hash_(hash_of(aor)), lock_(t.stripes_[hash_ % stripes].m) {
    // The table and this bucket change only under this stripe's lock, which is held.
    const table* tab = t_.table_.load(std::memory_order_relaxed);
    bucket* b = tab->heads[hash_ & tab->mask].load(std::memory_order_relaxed);
    if (b == nullptr) return;
    for (std::uint32_t n = 0; n < b->count; ++n) {
        const entry& e = b->entries()[n];
        if (e.hash == hash_ && b->key(e) == aor_) {
            current_ = e.list;
            timer_ = b->timers() + n;
            return;
        }
    }
}

snapshot_table::writer::~writer() {
    const bool crowded = t_.size() > t_.buckets();
    lock_.unlock();
    if (crowded) t_.grow();
}

std::uint64_t snapshot_table::writer::timer_ns() const noexcept { return timer_ != nullptr ? *timer_ : 0; }

// Readers never read a timer, and the bucket cannot be freed while this stripe is locked: writing it
// in place races with nothing.
void snapshot_table::writer::set_timer_ns(std::uint64_t deadline_ns) noexcept {
    if (timer_ != nullptr) *timer_ = deadline_ns;
}

void snapshot_table::writer::publish(binding_list next, std::uint64_t timer_ns) {
    const table* tab = t_.table_.load(std::memory_order_relaxed);
    std::atomic<bucket*>& slot = tab->heads[hash_ & tab->mask];
    bucket* old = slot.load(std::memory_order_relaxed);
    std::vector<item> items;
    std::size_t mine = ~std::size_t{0};
    if (old != nullptr) {
        items.reserve(old->count + 1u);
        for (std::uint32_t n = 0; n < old->count; ++n) {
            const entry& e = old->entries()[n];
            if (e.hash == hash_ && old->key(e) == aor_) {
                if (next) {
                    mine = items.size();
                    items.push_back({hash_, &next, aor_, timer_ns});
                }
                continue;
            }
            items.push_back({e.hash, &e.list, old->key(e), old->timers()[n]});
        }
    }
    const bool had = static_cast<bool>(current_);
    if (next && !had) {
        mine = items.size();
        items.push_back({hash_, &next, aor_, timer_ns});
    }
    bucket* made = items.empty() ? nullptr : bucket::make(items);
    slot.store(made, std::memory_order_release);  // a reader that finds the new bucket finds it whole
    if (old != nullptr) t_.retired_.retire(old, &bucket::destroy);
    if (next && !had) t_.size_.fetch_add(1, std::memory_order_relaxed);
    if (!next && had) t_.size_.fetch_sub(1, std::memory_order_relaxed);
    timer_ = made != nullptr && mine != ~std::size_t{0} ? made->timers() + mine : nullptr;
    current_ = std::move(next);
}

void snapshot_table::take_due(std::uint64_t h, std::uint64_t now_ns, std::vector<std::string>& out) {
    const std::lock_guard<std::mutex> l(stripes_[h % stripes].m);
    const table* tab = table_.load(std::memory_order_relaxed);
    bucket* b = tab->heads[h & tab->mask].load(std::memory_order_relaxed);
    if (b == nullptr) return;
    for (std::uint32_t n = 0; n < b->count; ++n) {
        std::uint64_t& timer = b->timers()[n];
        if (b->entries()[n].hash != h || timer == 0 || timer > now_ns) continue;
        timer = 0;
        out.emplace_back(b->key(b->entries()[n]));
    }
}

void snapshot_table::grow() {
    std::array<std::unique_lock<std::mutex>, stripes> all;
    for (std::size_t s = 0; s < stripes; ++s) all[s] = std::unique_lock<std::mutex>(stripes_[s].m);
    table* old = table_.load(std::memory_order_relaxed);
    const std::size_t n = old->mask + 1;
    if (size() <= n) return;  // another writer grew it first
    auto next = std::make_unique<table>(n * 2);
    std::vector<item> low, high;
    for (std::size_t i = 0; i < n; ++i) {
        bucket* b = old->heads[i].load(std::memory_order_relaxed);
        if (b == nullptr) continue;
        low.clear();
        high.clear();
        for (std::uint32_t k = 0; k < b->count; ++k) {
            const entry& e = b->entries()[k];
            ((e.hash & n) != 0 ? high : low).push_back({e.hash, &e.list, b->key(e), b->timers()[k]});
        }
        if (!low.empty()) next->heads[i].store(bucket::make(low), std::memory_order_relaxed);
        if (!high.empty()) next->heads[i + n].store(bucket::make(high), std::memory_order_relaxed);
    }
    // Release: a reader that finds the new table finds its buckets.
    table_.store(next.release(), std::memory_order_release);
    for (std::size_t i = 0; i < n; ++i)
        if (bucket* b = old->heads[i].load(std::memory_order_relaxed)) retired_.retire(b, &bucket::destroy);
    retired_.retire(old, &table::destroy);
}

} // namespace sipfast::registrar
