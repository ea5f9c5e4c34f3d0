// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

namespace sipfast::core {

/// The fixed, seeded 64-bit hash of a Call-ID's raw bytes (XXH3). Every backend and every worker
/// computes the same value, so a call has one owner whichever socket or NIC queue its messages
/// arrive on. The seed is a constant, not per process: owners must agree across restarts and
/// between the kernel daemon and the DPDK application.
[[nodiscard]] std::uint64_t call_id_hash(std::string_view call_id) noexcept;

/// The shard that owns a call: the hash's top 32 bits mapped onto [0, shards) by a multiply-shift
/// (Lemire's alternative to modulo: as uniform, no division). shards must be at least 1.
[[nodiscard]] inline std::uint32_t owner_shard(std::uint64_t hash, std::uint32_t shards) noexcept {
    return static_cast<std::uint32_t>(((hash >> 32) * shards) >> 32);
}

[[nodiscard]] inline std::uint32_t owner_shard(std::string_view call_id, std::uint32_t shards) noexcept {
    return owner_shard(call_id_hash(call_id), shards);
}

} // namespace sipfast::core
