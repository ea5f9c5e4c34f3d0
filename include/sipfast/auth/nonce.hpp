// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "sipfast/core/text_writer.hpp"

namespace sipfast::auth {

/// Stateless nonces (RFC 7616 §3.3, §5.4): the time it was made and an HMAC-SHA-256 of that time
/// and the realm under a secret of this process, so any shard checks any shard's nonce without
/// shared state, and a nonce from another process (or a restart) is not ours.
class nonce_source {
public:
    static constexpr std::size_t secret_bytes = 32;
    /// A random secret (the kernel's random source).
    nonce_source();
    explicit nonce_source(const std::array<std::uint8_t, secret_bytes>& secret) noexcept : secret_(secret) {}
    nonce_source(const nonce_source&) = delete;
    nonce_source& operator=(const nonce_source&) = delete;

    /// Writes a nonce made at `now_ns` (any monotonic clock the checker shares): 16 hex digits of
    /// time, then 32 of MAC. No two are alike: two made in the same nanosecond (two shards
    /// challenging at once) take the next nanoseconds, so one client's counts never look like
    /// another's replay.
    void make(std::uint64_t now_ns, std::string_view realm, core::text_writer& out) const noexcept;

    enum class verdict : std::uint8_t {
        fresh,   ///< ours and younger than the lifetime
        stale,   ///< ours but too old: the client retries with a new one without asking its user
        forged,  ///< not one we made (or not for this realm)
    };
    [[nodiscard]] verdict check(std::string_view nonce, std::string_view realm, std::uint64_t now_ns,
                                std::uint64_t lifetime_ns) const noexcept;
    /// When a nonce that check() found ours was made.
    [[nodiscard]] static std::uint64_t made_at(std::string_view nonce) noexcept;

private:
    [[nodiscard]] bool mac(std::uint64_t made_ns, std::string_view realm, std::array<char, 32>& out) const noexcept;
    std::array<std::uint8_t, secret_bytes> secret_{};
    mutable std::atomic<std::uint64_t> last_made_{0};
};

} // namespace sipfast::auth
