// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace sipfast::auth {

/// The highest nonce-count each live nonce has been used with, shared by every shard: a count not
/// above it is a replay (RFC 7616 §3.4.5 and §5.4). Credentials without qop carry no count and are
/// taken as count 1, so their nonce serves once. A nonce is forgotten once it has outlived
/// `lifetime_ns` (it is stale by then, and refused as that).
class nonce_counts {
public:
    explicit nonce_counts(std::uint64_t lifetime_ns);
    ~nonce_counts();
    nonce_counts(const nonce_counts&) = delete;
    nonce_counts& operator=(const nonce_counts&) = delete;

    /// True, and `count` recorded, when `count` is above every count seen for `nonce`; made_ns is
    /// when the nonce was made (for forgetting it).
    [[nodiscard]] bool advance(std::string_view nonce, std::uint32_t count, std::uint64_t made_ns, std::uint64_t now_ns);

private:
    struct table;
    std::unique_ptr<table> table_;
    std::uint64_t lifetime_ns_;
    // First uses of nonces in the order they were made, to forget them; touched once per nonce
    // (after a challenge), not per request.
    std::mutex expiry_mutex_;
    std::deque<std::pair<std::uint64_t, std::string>> expiry_;
};

} // namespace sipfast::auth
