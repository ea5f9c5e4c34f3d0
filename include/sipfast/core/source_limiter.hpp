// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "sipfast/core/net_address.hpp"

namespace sipfast::core {

/// How much one source may send (docs/configuration.md, [limits]): messages and bytes per second,
/// each with the burst it may spend at once, and how long a source that went over is then refused.
/// A rate of 0 turns that bucket off.
struct source_limits {
    std::uint32_t messages_per_s = 0;
    std::uint32_t message_burst = 0;
    std::uint32_t bytes_per_s = 0;
    std::uint32_t byte_burst = 0;
    std::uint64_t ban_ns = 0;  ///< 0: a source over its rate loses only what is over
    [[nodiscard]] bool enabled() const noexcept { return messages_per_s != 0 || bytes_per_s != 0; }
};

/// What the limiter says of one message.
enum class source_verdict : std::uint8_t {
    pass,
    over_rate,  ///< the source's messages or bytes are over its rate: drop this one
    banned,     ///< the source went over its rate within the ban period: drop everything
};

/// Per-source token buckets (pike-like), asked before a message is parsed: a source is an IPv4
/// address or an IPv6 /64 (one host's share of a subnet), ports aside, so a sender cannot escape its
/// budget by changing port or interface identifier.
///
/// Each bucket is a GCRA (the "virtual scheduling" form of a token bucket): one time per bucket, the
/// theoretical arrival time `tat`, advanced by the cost of each message admitted; a message is
/// refused when `tat` would run more than the burst ahead of now. A source whose every `tat` is in
/// the past is exactly a source never seen, so such an entry is free to reuse and the table needs no
/// sweeping. The table is fixed (power of two, probed in a window of 8 entries, the slot picked by a
/// hash seeded at random per limiter so nobody aims a flood of sources at one window); when a window
/// holds eight sources all still spending their bursts, the newcomer takes the entry of the one
/// furthest from its limit, never a banned one. No allocation after construction, no lock: one
/// limiter per worker.
class source_limiter {
public:
    /// A table of at least `sources` entries (rounded up to a power of two, at least 8).
    explicit source_limiter(std::size_t sources = 16384, const source_limits& limits = {});
    ~source_limiter();
    source_limiter(const source_limiter&) = delete;
    source_limiter& operator=(const source_limiter&) = delete;

    /// Takes new rates (a reload); what each source has spent stays.
    void set_limits(const source_limits& limits) noexcept;
    [[nodiscard]] const source_limits& limits() const noexcept { return limits_; }

    /// Charges one message of `bytes` received from `from` at now_ns.
    [[nodiscard]] source_verdict admit(const net_address& from, std::size_t bytes, std::uint64_t now_ns) noexcept;
    /// Charges `bytes` of an answer we would send to `to` (our own 4xx, a challenge, the
    /// registrar's 200) against that address's byte budget: false when it has none left, so what
    /// we answer toward an address nobody verified is bounded by its rate like what it sends.
    [[nodiscard]] bool charge_answer(const net_address& to, std::size_t bytes, std::uint64_t now_ns) noexcept;

    [[nodiscard]] std::size_t capacity() const noexcept { return mask_ + 1; }

private:
    struct entry;
    [[nodiscard]] entry* find(const net_address& a, std::uint64_t now_ns) noexcept;

    source_limits limits_;
    std::uint64_t message_cost_ns_ = 0;     // time one message advances the message bucket
    std::uint64_t message_tolerance_ns_ = 0;
    std::uint64_t byte_cost_ns_x1024_ = 0;  // per byte, in 1/1024 ns
    std::uint64_t byte_tolerance_ns_ = 0;
    std::uint64_t seed_;
    std::size_t mask_;
    std::unique_ptr<entry[]> table_;
};

} // namespace sipfast::core
