// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sipfast/core/shard_table.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::txn {

/// The longest key a transaction is kept for: a request whose branch and sent-by are longer is
/// handled without state.
inline constexpr std::size_t max_key_bytes = 128;

/// The identity of a server transaction (RFC 3261 §17.2.3): the top Via's branch, its sent-by
/// (host and port, 5060 when absent) and the method, an ACK matching its INVITE. The bytes live in
/// the key's own buffer.
class transaction_key {
public:
    /// The key of request `m` as if its method were `method` (a CANCEL looks up its INVITE so).
    transaction_key(const sip::message& m, std::string_view method) noexcept;
    /// The key of request `m`: its own method, INVITE for an ACK.
    explicit transaction_key(const sip::message& m) noexcept;

    /// The key of the `index`th further branch of the transaction at `slot` of `generation`: it
    /// starts with a byte no Via branch holds, so no request ever matches it.
    [[nodiscard]] static transaction_key of_branch(std::uint32_t slot, std::uint32_t generation, std::uint32_t index) noexcept;

    /// False when the key is longer than max_key_bytes (no transaction is kept for it).
    [[nodiscard]] bool valid() const noexcept { return len_ != 0; }
    [[nodiscard]] std::string_view bytes() const noexcept { return {buf_.data(), len_}; }
    /// The bytes with their hash, computed once when the key is made.
    [[nodiscard]] core::table_key table_key() const noexcept { return core::table_key{hash_, bytes()}; }

private:
    transaction_key() noexcept = default;
    void seal() noexcept;

    std::array<char, max_key_bytes> buf_;
    std::size_t len_ = 0;
    std::uint64_t hash_ = 0;
};

} // namespace sipfast::txn
