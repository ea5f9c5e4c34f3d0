// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sipfast/core/shard_table.hpp"
#include "sipfast/core/timer_wheel.hpp"

namespace sipfast::proxy {

/// The dialogs of one shard (docs/architecture.md, "Shards"), for counts and timeouts: created by a
/// 2xx to an initial INVITE, kept alive by in-dialog requests, ended by the final answer to a BYE
/// or by silence. A dialog is known by its Call-ID and the two tags in either order, so requests
/// from both ends find it. Fixed capacity: a full table leaves a dialog untracked, it refuses
/// nothing.
class dialog_tracker {
public:
    struct dialog {
        core::timer_handle timeout;
    };
    struct ref {
        std::uint32_t slot = 0;
        std::uint32_t generation = 0;
        dialog* d = nullptr;
    };

    explicit dialog_tracker(std::uint32_t capacity);

    /// A new dialog (d null when it exists already or the table is full).
    [[nodiscard]] ref create(std::string_view call_id, std::string_view tag_a, std::string_view tag_b) noexcept;
    [[nodiscard]] ref find(std::string_view call_id, std::string_view tag_a, std::string_view tag_b) noexcept;
    /// Forgets the dialog at `slot` if it is still the one of `generation`; false otherwise.
    bool erase(std::uint32_t slot, std::uint32_t generation) noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return table_.size(); }

private:
    [[nodiscard]] ref ref_to(dialog* d) const noexcept;

    static constexpr std::size_t key_max = 256;
    core::shard_table<dialog, key_max> table_;
    std::vector<std::uint32_t> generations_;
};

} // namespace sipfast::proxy
