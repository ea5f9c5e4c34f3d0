// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sipfast/core/net_address.hpp"

namespace sipfast::dpdk {

/// The traffic of the kernel-bypass benchmark (bench/RESULTS.md): a caller (alice) and a callee
/// (bob) making calls through the proxy as fast as it answers, with `window` calls in flight. Each
/// call is INVITE, 180, 200, ACK, BYE, 200 (plus the proxy's 100 Trying when stateful); the
/// callee answers from what the proxy forwarded (its Vias, Record-Route, our branches), so a
/// stateful proxy sees fresh transactions and matching answers, as from real user agents. Plain SIP
/// text in and out; the lcore around it does the framing. No retransmissions: a call not done in
/// `timeout_ns` counts as failed and its slot is reused.
class call_generator {
public:
    struct config {
        core::net_address proxy;   ///< where alice and bob send (the proxy's UDP listen point)
        core::net_address alice;   ///< port: the first of 1000 alice uses, one per call slot
        core::net_address bob;
        std::string_view domain;    ///< bob@domain must be in the proxy's location service
        unsigned window = 64;
        std::uint64_t timeout_ns = 2'000'000'000;
    };

    /// A message to send: from one of our agents to the proxy.
    struct message {
        core::net_address from;
        std::string_view text;  ///< valid until the next call that writes messages
    };

    explicit call_generator(const config& c);

    /// Starts calls until `window` are in flight; returns the INVITEs to send.
    [[nodiscard]] std::span<const message> start_calls(std::uint64_t now_ns);
    /// What the proxy sent to `to` (alice or bob); returns the answers to send.
    [[nodiscard]] std::span<const message> on_message(const core::net_address& to, std::string_view text, std::uint64_t now_ns);
    /// Fails calls older than the timeout, freeing their slots.
    void expire(std::uint64_t now_ns);

    [[nodiscard]] std::uint64_t completed() const noexcept { return completed_; }
    [[nodiscard]] std::uint64_t failed() const noexcept { return failed_; }
    [[nodiscard]] std::uint64_t started() const noexcept { return started_; }
    /// Call setup as alice sees it (INVITE sent to 200 received), nanoseconds, one entry per call
    /// completed (bounded: the first million).
    [[nodiscard]] const std::vector<std::uint32_t>& setup_times() const noexcept { return setup_ns_; }

private:
    struct slot {
        std::uint64_t started_ns = 0;  // 0: free
        std::uint64_t invited_ns = 0;
        std::uint32_t generation = 0;
    };
    void finish(std::uint32_t index, bool ok);
    void answer_as_bob(std::string_view text);
    void answer_as_alice(std::string_view text, std::uint64_t now_ns);
    bool invite(std::uint32_t index, std::uint64_t now_ns);
    core::net_address alice_at(std::uint32_t index) const noexcept;

    config c_;
    std::vector<slot> slots_;
    std::vector<std::uint32_t> free_;
    std::array<char, 65536> arena_{};
    std::size_t used_ = 0;
    std::array<message, 64> out_{};
    std::size_t count_ = 0;
    std::uint64_t completed_ = 0, failed_ = 0, started_ = 0;
    std::vector<std::uint32_t> setup_ns_;
    std::array<char, 48> proxy_host_{}, alice_host_{}, bob_host_{};
    std::string_view proxy_text_, alice_text_, bob_text_;
};

} // namespace sipfast::dpdk
