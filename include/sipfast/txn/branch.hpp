// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipfast::txn {

/// RFC 3261 §8.1.1.7: a branch that starts with the magic cookie was made unique by an RFC 3261
/// element.
inline constexpr std::string_view magic_cookie = "z9hG4bK";

/// The branch of the Via we add to a request we forward, and what it tells us when a response or
/// a looping request brings it back. Layout (lower-case hex):
///
///     z9hG4bKsf SSSS . <middle> . LLLLLLLLLLLLLLLL
///
/// SSSS the shard that owns the call, so a response finds its owner before its Call-ID is hashed;
/// LLLL… a hash of what decides where the request goes, so a request that comes back unchanged is a
/// loop and one whose Request-URI changed a spiral (§16.3 step 4). The middle part is, statelessly,
/// a hash of the received branch (§16.11: retransmissions, their CANCEL and a non-2xx ACK take the
/// same branch) and, statefully, `t` + the transaction's slot and generation, so a response finds
/// its transaction without a table lookup and a stale one finds nothing.
class our_branch {
public:
    static constexpr std::string_view prefix = "z9hG4bKsf";

    /// A stateless branch: shard, hash of the received request's identity, loop hash.
    static our_branch stateless(std::uint32_t shard, std::uint64_t request_hash, std::uint64_t loop_hash) noexcept;
    /// A stateful branch naming transaction `slot` of `generation`.
    static our_branch stateful(std::uint32_t shard, std::uint32_t slot, std::uint32_t generation,
                               std::uint64_t loop_hash) noexcept;

    [[nodiscard]] std::string_view text() const noexcept { return {buf_.data(), len_}; }

private:
    std::array<char, 64> buf_{};
    std::size_t len_ = 0;
};

/// The shard a branch of ours names; false for a branch that is not ours or names a shard
/// >= `shards`.
[[nodiscard]] bool branch_shard(std::string_view branch, std::uint32_t shards, std::uint32_t& shard) noexcept;

/// The transaction a stateful branch of ours names; false when it names none.
[[nodiscard]] bool branch_transaction(std::string_view branch, std::uint32_t& slot, std::uint32_t& generation) noexcept;

/// Whether `branch` is one of ours carrying `loop_hash` (the request came back unchanged: a loop).
[[nodiscard]] bool branch_has_loop_hash(std::string_view branch, std::uint64_t loop_hash) noexcept;

} // namespace sipfast::txn
