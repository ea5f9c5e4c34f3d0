// SPDX-License-Identifier: Apache-2.0
// Freeing what lock-free readers may still hold (snapshot_table.hpp): a reader marks the span of its
// lookup in a slot of its own thread's (read_section); a writer that unlinked something hands it to a
// retire_list, which frees it once every reader that was inside a section when it was unlinked has
// left that section. The scheme is user-space RCU's, with a counter per reader thread (liburcu's
// urcu-mb flavour): a reader writes only its own cache line, and waits for nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace sipfast::registrar {

namespace detail {

/// Not API. One reader thread's count of sections entered and left: odd while it is inside one.
/// A cache line each, so that readers on different cores never share one.
struct alignas(64) reader_slot {
    std::atomic<std::uint64_t> sections{0};
    std::atomic<bool> taken{false};
    reader_slot* next = nullptr;  // in the list of every slot, which only grows
};

/// Not API. This thread's slot, null until its first section.
extern thread_local reader_slot* this_thread_slot;

/// Not API. Takes a free slot (or makes one) for this thread, given back when it ends.
[[nodiscard]] reader_slot* claim_slot();

} // namespace detail

/// The span in which a reader may hold pointers it found in a lock-free structure. Costs a store to
/// its thread's own slot and one full fence; takes no lock, never waits, allocates nothing after the
/// thread's first. Sections may nest. A section must not outlive its thread, and no section may be
/// entered from a thread_local destructor.
class read_section {
public:
    read_section() noexcept {
        detail::reader_slot* s = detail::this_thread_slot;
        if (s == nullptr) s = detail::claim_slot();
        const std::uint64_t n = s->sections.load(std::memory_order_relaxed);
        if ((n & 1) != 0) return;  // nested: the outer section covers this one
        slot_ = s;
        s->sections.store(n + 1, std::memory_order_relaxed);
        // Pairs with the fence in retire_list::close(): either this reader's loads that follow see
        // the writer's unlink, or the writer sees this section open and waits for it to end.
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
    ~read_section() {
        if (slot_ == nullptr) return;
        // Release: everything this section read is done before a writer may free it.
        slot_->sections.store(slot_->sections.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    }
    read_section(const read_section&) = delete;
    read_section& operator=(const read_section&) = delete;

private:
    detail::reader_slot* slot_ = nullptr;
};

/// Memory unlinked from a lock-free structure, freed once no reader can still hold it. Any thread
/// may retire; freeing happens on the threads that retire and collect, never on a reader's.
class retire_list {
public:
    /// How many retirements close a batch (and check whether older batches may go).
    static constexpr std::size_t batch_size = 16;

    retire_list() = default;
    retire_list(const retire_list&) = delete;
    retire_list& operator=(const retire_list&) = delete;
    /// Frees everything at once: no reader may be inside a section that could reach it.
    ~retire_list();

    /// Hands over `p`, already unreachable to a reader that starts a section from now on;
    /// `free(p)` runs once no section that could have reached it is left.
    void retire(void* p, void (*free)(void*));

    /// Closes the open batch and frees every batch whose readers have all left their sections.
    void collect();

    /// Retired and not yet freed.
    [[nodiscard]] std::size_t pending() const;

private:
    struct retired {
        void* p;
        void (*free)(void*);
    };
    /// Retirements and the readers that were inside a section when the batch closed, with the count
    /// each one's slot then read: the batch may go once every one of those counts has moved on.
    struct batch {
        std::vector<retired> items;
        std::vector<std::pair<const detail::reader_slot*, std::uint64_t>> readers;
    };

    void close_locked();
    void free_ready_locked();

    mutable std::mutex mutex_;
    std::vector<retired> open_;
    std::vector<batch> closed_;  // oldest first
};

} // namespace sipfast::registrar
