// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sipfast/core/siphash.hpp"
#include "sipfast/core/text_writer.hpp"

namespace sipfast::txn {

/// RFC 3261 §8.1.1.7: a branch that starts with the magic cookie was made unique by an RFC 3261
/// element.
inline constexpr std::string_view magic_cookie = "z9hG4bK";

/// What a branch of ours vouches for: the request's Call-ID and CSeq number, which its responses,
/// its CANCEL and the ACK of a non-2xx answer repeat.
struct branch_identity {
    std::string_view call_id;
    std::uint32_t cseq = 0;
};

/// The branch of the Via we add to a request we forward, and what it tells us when a response or
/// a looping request brings it back. Layout (lower-case hex):
///
///     z9hG4bKsf SSSS . <middle> MMMMMMMMMMMMMMMM . LLLLLLLLLLLLLLLL
///
/// SSSS the shard that owns the call, so a response finds its owner before its Call-ID is hashed;
/// LLLL… a hash of what decides where the request goes, so a request that comes back unchanged is a
/// loop and one whose Request-URI changed a spiral (§16.3 step 4). The middle part is, statelessly,
/// a hash of the received branch (§16.11: retransmissions, their CANCEL and a non-2xx ACK take the
/// same branch) and, statefully, `t` + the transaction's slot and generation, so a response finds
/// its transaction without a table lookup and a stale one finds nothing. MMMM… is a MAC (SipHash
/// under a secret of the process) of everything before it and the request's branch_identity: only
/// we make branches that verify, so a response we did not ask for (a guessed slot, another call's
/// Call-ID) is refused before it touches a transaction.
class our_branch {
public:
    static constexpr std::string_view prefix = "z9hG4bKsf";

    /// A stateless branch: shard, hash of the received request's identity, loop hash.
    static our_branch stateless(std::uint32_t shard, std::uint64_t request_hash, const branch_identity& id,
                                std::uint64_t loop_hash) noexcept;
    /// A stateful branch naming transaction `slot` of `generation`.
    static our_branch stateful(std::uint32_t shard, std::uint32_t slot, std::uint32_t generation, const branch_identity& id,
                               std::uint64_t loop_hash) noexcept;

    [[nodiscard]] std::string_view text() const noexcept { return {buf_.data(), len_}; }

private:
    std::array<char, 80> buf_{};
    std::size_t len_ = 0;
};

/// The mark our Record-Route carries (its `sfd` parameter) for the dialog of `call_id`: a MAC under
/// the branch key, so an in-dialog request whose Route brings it back shows that we record-routed
/// that dialog, which no one can claim by writing our address in a Route.
void write_dialog_mark(std::string_view call_id, core::text_writer& out) noexcept;
[[nodiscard]] bool dialog_mark_verifies(std::string_view mark, std::string_view call_id) noexcept;

/// The longest text seal() takes: a Contact URI, or a route set of a few Record-Route values.
inline constexpr std::size_t max_sealed_plain = 768;

/// Seals `plain` for topology hiding (docs/configuration.md, [topology]): writes, in base64url
/// (letters, digits, '-' and '_', fit for a URI parameter), a synthetic IV and `plain` encrypted
/// under the branch key. The IV is SipHash of `purpose`, `context` and `plain` (so the same input
/// seals the same way: SIV), the key stream SipHash of the IV and a counter. Only this process (or
/// one sharing SIPFAST_BRANCH_SECRET) can read or make one; `context` (a Call-ID, or empty) must be
/// given again to open it. False when `plain` is longer than max_sealed_plain or `out` is full.
bool seal(std::string_view purpose, std::string_view context, std::string_view plain, core::text_writer& out) noexcept;
/// Opens what seal() wrote for the same `purpose` and `context` into `out`; false when it was not
/// made so (altered, forged, another context) or does not fit.
[[nodiscard]] bool unseal(std::string_view purpose, std::string_view context, std::string_view sealed,
                          core::text_writer& out) noexcept;

/// Why SIPFAST_BRANCH_SECRET cannot be the branch key ("" when it is unset or fine): a daemon
/// refuses to start rather than fall back to a random key its peers do not share.
[[nodiscard]] std::string branch_secret_fault();

/// The shard a branch of ours names; false for a branch that is not ours or names a shard
/// >= `shards`.
[[nodiscard]] bool branch_shard(std::string_view branch, std::uint32_t shards, std::uint32_t& shard) noexcept;

/// Whether `branch` is one this process made for a request of identity `id`.
[[nodiscard]] bool branch_verifies(std::string_view branch, const branch_identity& id) noexcept;

/// The transaction a stateful branch of ours names; false when it names none. It does not verify.
[[nodiscard]] bool branch_transaction(std::string_view branch, std::uint32_t& slot, std::uint32_t& generation) noexcept;

/// Whether `branch` is one of ours carrying `loop_hash` (the request came back unchanged: a loop).
[[nodiscard]] bool branch_has_loop_hash(std::string_view branch, std::uint64_t loop_hash) noexcept;

/// SipHash under the branch secret, already fed `purpose` (each use its own word, so a MAC made
/// for one cannot pass as another's): for other values we hand out and must recognise as ours
/// later without keeping them (sec-agree's Security-Server, stages/sec_agree.hpp).
[[nodiscard]] core::siphash secret_mac(std::string_view purpose) noexcept;

} // namespace sipfast::txn
