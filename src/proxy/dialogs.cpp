// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/dialogs.hpp"

#include <array>
#include <utility>

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/core/text_writer.hpp"

namespace sipfast::proxy {

namespace {

// Call-ID, then the smaller tag, then the larger: the same key from either end of the call.
std::string_view make_key(std::string_view call_id, std::string_view a, std::string_view b,
                          std::array<char, 256>& buf) noexcept {
    if (b < a) std::swap(a, b);
    core::text_writer w(buf);
    w.put(call_id).put('\x1f').put(a).put('\x1f').put(b);
    return w.ok() ? w.view() : std::string_view{};
}

} // namespace

dialog_tracker::dialog_tracker(std::uint32_t capacity) : table_(capacity), generations_(capacity, 0) {}

dialog_tracker::ref dialog_tracker::create(std::string_view call_id, std::string_view tag_a,
                                           std::string_view tag_b) noexcept {
    std::array<char, 256> buf{};
    const std::string_view k = make_key(call_id, tag_a, tag_b, buf);
    if (k.empty()) return {};
    return ref_to(table_.insert(core::table_key{core::call_id_hash(k), k}));
}

dialog_tracker::ref dialog_tracker::find(std::string_view call_id, std::string_view tag_a,
                                         std::string_view tag_b) noexcept {
    std::array<char, 256> buf{};
    const std::string_view k = make_key(call_id, tag_a, tag_b, buf);
    if (k.empty()) return {};
    return ref_to(table_.find(core::table_key{core::call_id_hash(k), k}));
}

dialog_tracker::ref dialog_tracker::ref_to(dialog* d) const noexcept {
    if (d == nullptr) return {};
    const std::uint32_t slot = table_.index_of(d);
    return {slot, generations_[slot], d};
}

bool dialog_tracker::erase(std::uint32_t slot, std::uint32_t generation) noexcept {
    if (slot >= generations_.size() || generations_[slot] != generation || table_.at(slot) == nullptr) return false;
    ++generations_[slot];  // a timer still set for it finds nothing
    return table_.erase_at(slot);
}

} // namespace sipfast::proxy
