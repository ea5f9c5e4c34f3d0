// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/transaction_table.hpp"

#include <algorithm>

namespace sipfast::txn {

std::size_t transaction_table::slot_bytes(std::size_t timer_bytes) noexcept {
    return core::shard_table<proxy_transaction, max_key_bytes>::bytes_per_entry() + sizeof(std::uint32_t) +
           timers_per_slot * timer_bytes;
}

table_sizing transaction_table::size_for(std::size_t budget_bytes, std::size_t timer_bytes, std::uint32_t slots,
                                         std::size_t message_bytes) noexcept {
    const std::size_t per_slot = slot_bytes(timer_bytes);
    std::size_t n = slots != 0 ? slots : budget_bytes / (per_slot + message_bytes);
    n = std::clamp<std::size_t>(n, 1, std::size_t{1} << 26);  // the slot rides in 26 bits of a timer cookie
    const std::size_t table = n * per_slot;
    const std::size_t rest = budget_bytes > table ? budget_bytes - table : 0;
    return table_sizing{static_cast<std::uint32_t>(n), std::max(rest, message_store::chunk_bytes)};
}

transaction_table::transaction_table(const table_sizing& s)
    : table_(s.slots), generations_(s.slots, 0), store_(s.store_bytes) {}

proxy_transaction* transaction_table::insert(const transaction_key& k) noexcept {
    if (!k.valid()) return nullptr;
    proxy_transaction* t = table_.insert(k.table_key());
    if (t != nullptr) t->slot = table_.index_of(t);
    return t;
}

proxy_transaction* transaction_table::insert_branch(const proxy_transaction& head, std::uint32_t index) noexcept {
    proxy_transaction* t = insert(transaction_key::of_branch(head.slot, generations_[head.slot], index));
    if (t == nullptr) return nullptr;
    t->is_branch = true;
    t->head = transaction_ref{head.slot, generations_[head.slot]};
    return t;
}

void transaction_table::erase(proxy_transaction& t) noexcept {
    for (stored* s : {&t.request, &t.response, &t.cancel_request, &t.ack, &t.best, &t.hidden}) store_.release(*s);
    ++generations_[t.slot];  // stale branches and timers now find nothing
    (void)table_.erase_at(t.slot);
}

} // namespace sipfast::txn
