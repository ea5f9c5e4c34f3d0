// SPDX-License-Identifier: Apache-2.0
#include "grace_period.hpp"

#include <algorithm>

namespace sipfast::registrar {

namespace detail {

namespace {

// Every slot ever made, newest first. Slots are never freed: a thread's slot goes back to the list
// when the thread ends, for the next thread to take, so there are never more than the most threads
// that were ever reading at once. Pushing a slot is rare (a thread's first section) and takes a lock
// against other pushers only; writers walk the list without it.
std::atomic<reader_slot*> slots{nullptr};
std::mutex slots_mutex;

/// Gives the thread's slot back when the thread ends.
struct slot_owner {
    reader_slot* slot = nullptr;
    ~slot_owner() {
        if (slot == nullptr) return;
        this_thread_slot = nullptr;
        slot->taken.store(false, std::memory_order_release);
    }
};
thread_local slot_owner owner;

/// The first slot, for writers to walk from.
const reader_slot* first_slot() noexcept { return slots.load(std::memory_order_acquire); }

} // namespace

thread_local reader_slot* this_thread_slot = nullptr;

reader_slot* claim_slot() {
    reader_slot* s = nullptr;
    for (reader_slot* p = slots.load(std::memory_order_acquire); p != nullptr && s == nullptr; p = p->next) {
        bool expected = false;
        if (p->taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) s = p;
    }
    if (s == nullptr) {
        s = new reader_slot;  // lives as long as the process (see `slots`)
        s->taken.store(true, std::memory_order_relaxed);
        const std::lock_guard<std::mutex> l(slots_mutex);
        s->next = slots.load(std::memory_order_relaxed);
        slots.store(s, std::memory_order_release);
    }
    owner.slot = s;
    this_thread_slot = s;
    return s;
}

} // namespace detail

retire_list::~retire_list() {
    for (batch& b : closed_)
        for (const retired& r : b.items) r.free(r.p);
    for (const retired& r : open_) r.free(r.p);
}

void retire_list::retire(void* p, void (*free)(void*)) {
    const std::lock_guard<std::mutex> l(mutex_);
    open_.push_back({p, free});
    if (open_.size() < batch_size) return;
    close_locked();
    free_ready_locked();
}

void retire_list::collect() {
    const std::lock_guard<std::mutex> l(mutex_);
    if (!open_.empty()) close_locked();
    free_ready_locked();
}

std::size_t retire_list::pending() const {
    const std::lock_guard<std::mutex> l(mutex_);
    std::size_t n = open_.size();
    for (const batch& b : closed_) n += b.items.size();
    return n;
}

void retire_list::close_locked() {
    batch b;
    b.items = std::move(open_);
    open_ = {};
    // Pairs with the fence in read_section: every item was unlinked before it was retired, so a
    // reader whose section this does not see open will not find it.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (const detail::reader_slot* s = detail::first_slot(); s != nullptr; s = s->next) {
        const std::uint64_t n = s->sections.load(std::memory_order_acquire);
        if ((n & 1) != 0) b.readers.emplace_back(s, n);
    }
    closed_.push_back(std::move(b));
}

void retire_list::free_ready_locked() {
    // Batches close in order, so once one must wait, every later one would have to wait at least for
    // readers as old: stop at the first.
    std::size_t ready = 0;
    for (const batch& b : closed_) {
        const bool left = std::all_of(b.readers.begin(), b.readers.end(), [](const auto& r) {
            // Acquire: what that section read happened before the free below.
            return r.first->sections.load(std::memory_order_acquire) != r.second;
        });
        if (!left) break;
        ++ready;
    }
    for (std::size_t i = 0; i < ready; ++i)
        for (const retired& r : closed_[i].items) r.free(r.p);
    closed_.erase(closed_.begin(), closed_.begin() + static_cast<std::ptrdiff_t>(ready));
}

} // namespace sipfast::registrar
