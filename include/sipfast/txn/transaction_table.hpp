// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "sipfast/core/shard_table.hpp"
#include "sipfast/txn/message_store.hpp"
#include "sipfast/txn/proxy_transaction.hpp"
#include "sipfast/txn/transaction_key.hpp"

namespace sipfast::txn {

/// How one shard's transaction memory is split: slots in the table, bytes for stored messages.
struct table_sizing {
    std::uint32_t slots = 0;
    std::size_t store_bytes = 0;
};

/// One shard's proxied transactions (docs/architecture.md, "Transactions"): a fixed table of
/// slots keyed by the §17.2.3 key, a generation per slot so a stale branch or timer finds nothing,
/// and the message_store their copies live in. Written by its worker only.
class transaction_table {
public:
    /// Timers a slot may hold at once (proxy_timers), which the shard's timer wheel must have room for.
    static constexpr std::size_t timers_per_slot = 7;
    /// What a slot costs besides its stored messages: the entry, its buckets, its generation and
    /// its timers (`timer_bytes` each).
    [[nodiscard]] static std::size_t slot_bytes(std::size_t timer_bytes) noexcept;
    /// The split of `budget_bytes` that gives each slot `message_bytes` of stored messages on
    /// average; with `slots` non-zero that many slots and the rest for messages. The store has at
    /// least one chunk.
    [[nodiscard]] static table_sizing size_for(std::size_t budget_bytes, std::size_t timer_bytes, std::uint32_t slots = 0,
                                               std::size_t message_bytes = 640) noexcept;

    explicit transaction_table(const table_sizing& s);
    transaction_table(const transaction_table&) = delete;
    transaction_table& operator=(const transaction_table&) = delete;

    /// The transaction with key k, or nullptr.
    [[nodiscard]] proxy_transaction* find(const transaction_key& k) noexcept {
        return k.valid() ? table_.find(k.table_key()) : nullptr;
    }
    /// A new transaction for k (its slot set), or nullptr when the table is full or k is invalid.
    [[nodiscard]] proxy_transaction* insert(const transaction_key& k) noexcept;
    /// A further branch of `head` (its `index`th), under a key no request has, or nullptr when the
    /// table is full.
    [[nodiscard]] proxy_transaction* insert_branch(const proxy_transaction& head, std::uint32_t index) noexcept;
    /// The transaction at `slot` if it is still the one of `generation`.
    [[nodiscard]] proxy_transaction* at(std::uint32_t slot, std::uint32_t generation) noexcept {
        return slot < generations_.size() && generations_[slot] == generation ? table_.at(slot) : nullptr;
    }
    [[nodiscard]] std::uint32_t generation(const proxy_transaction& t) const noexcept { return generations_[t.slot]; }
    [[nodiscard]] transaction_ref ref(const proxy_transaction& t) const noexcept { return {t.slot, generations_[t.slot]}; }
    [[nodiscard]] proxy_transaction* at(const transaction_ref& r) noexcept { return at(r.slot, r.generation); }
    /// Frees t: its stored copies go back to the store and its slot's generation moves on.
    void erase(proxy_transaction& t) noexcept;

    [[nodiscard]] message_store& store() noexcept { return store_; }
    [[nodiscard]] std::size_t size() const noexcept { return table_.size(); }
    [[nodiscard]] std::size_t capacity() const noexcept { return table_.capacity(); }

private:
    core::shard_table<proxy_transaction, max_key_bytes> table_;
    std::vector<std::uint32_t> generations_;
    message_store store_;
};

} // namespace sipfast::txn
