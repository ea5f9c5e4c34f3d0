// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/core/steer_hash.h"

namespace sipfast::core {

/// A seeded 64-bit hash of a Call-ID's raw bytes (XXH3) for placing keys in a table's buckets. The
/// seed is drawn per process: whoever picks Call-IDs cannot aim them at one bucket (a flood of
/// collisions). Not what decides a call's owner: that is owner_hash.
[[nodiscard]] std::uint64_t call_id_hash(std::string_view call_id) noexcept;

/// The seed of owner_hash, drawn at start, the same in every thread of the process; sipfastd hands
/// it to its kernel steering program (io/reuseport_steering.hpp) so the kernel computes the same
/// owners as the shards.
[[nodiscard]] std::uint64_t steer_seed() noexcept;

/// The hash a call's owner is chosen by: core/steer_hash.h's, word-wise over the Call-ID's bytes,
/// which a BPF program computes too. Every worker of a process (and its kernel program) gets the
/// same value for a Call-ID, so a call has one owner whichever socket or NIC queue its messages
/// arrive on.
[[nodiscard]] std::uint64_t owner_hash(std::string_view call_id, std::uint64_t seed) noexcept;
[[nodiscard]] inline std::uint64_t owner_hash(std::string_view call_id) noexcept { return owner_hash(call_id, steer_seed()); }

/// The shard that owns a call: the hash's top 32 bits mapped onto [0, shards) by a multiply-shift
/// (Lemire's alternative to modulo: as uniform, no division). shards must be at least 1.
[[nodiscard]] inline std::uint32_t owner_shard(std::uint64_t hash, std::uint32_t shards) noexcept {
    return sf_steer_owner(hash, shards);
}

[[nodiscard]] inline std::uint32_t owner_shard(std::string_view call_id, std::uint32_t shards) noexcept {
    return owner_shard(owner_hash(call_id), shards);
}

} // namespace sipfast::core
