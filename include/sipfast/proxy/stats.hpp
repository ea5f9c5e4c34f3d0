// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sipfast/core/counter.hpp"
#include "sipfast/core/histogram.hpp"
#include "sipfast/core/metric.hpp"
#include "sipfast/sip/method.hpp"
#include "sipfast/sip/parse_error.hpp"

namespace sipfast::proxy {

inline constexpr std::size_t method_count = static_cast<std::size_t>(sip::method::publish) + 1;
inline constexpr std::size_t parse_error_count = static_cast<std::size_t>(sip::parse_error::missing_content_length) + 1;
inline constexpr std::size_t status_classes = 7;  // index 1..6: 1xx..6xx

/// Why a message was not forwarded or answered.
enum class drop_cause : std::uint8_t {
    malformed,     ///< failed to parse (a request among them was answered 400)
    not_ours,      ///< a response whose top Via is not ours, or one to a request we originated
    no_route,      ///< a destination we cannot send to
    outbox_full,   ///< more output in one turn than the outbox holds
    table_full,    ///< stateful: the transaction table was full (the request was answered 503)
    mailbox_full,  ///< the owner shard's mailbox was full
    unverified,    ///< a response our branch's MAC, its Call-ID and CSeq, or its source did not vouch for
    send_refused,  ///< the kernel refused its destination (port 0, broadcast, no route)
    send_busy,     ///< the socket's buffer was full
    relay_denied,  ///< a request the relay policy did not let through (answered 403, an ACK silently)
    scanner,       ///< a request from a known SIP scanner (its User-Agent), dropped unanswered
    rate_limited,  ///< a message from a source over its [limits] rate, dropped before parsing
    banned,        ///< a message from a source banned for going over its rate, dropped before parsing
    answer_limited,  ///< an answer or NOTIFY of ours (UDP) toward an unverified address whose byte budget was spent, or a NOTIFY retransmission toward one: not sent
    count_
};
inline constexpr std::size_t drop_cause_count = static_cast<std::size_t>(drop_cause::count_);
[[nodiscard]] std::string_view drop_cause_name(drop_cause c) noexcept;

/// What one shard did (docs/architecture.md, "Operations"): written only by its worker, read by
/// anyone, summed on read.
struct shard_stats {
    std::array<core::counter, method_count> received_requests{};      ///< by method
    std::array<core::counter, status_classes> received_responses{};   ///< by status class
    std::array<core::counter, method_count> forwarded_requests{};
    std::array<core::counter, status_classes> forwarded_responses{};
    std::array<core::counter, status_classes> replied{};              ///< answers we made ourselves
    std::array<core::counter, parse_error_count> parse_errors{};      ///< by reason
    std::array<core::counter, drop_cause_count> drops{};
    core::counter transactions_created;
    core::counter transactions_active;
    core::counter transactions_pending;  ///< open and still without a final answer upstream
    core::counter transactions_timed_out;
    core::counter branches_forked;           ///< stateful: branches besides the first of a forked request
    core::counter retransmissions_absorbed;  ///< stateful: requests and responses not forwarded again
    core::counter dialogs_created;           ///< stateful: 2xx to initial INVITEs forwarded
    core::counter dialogs_active;
    core::counter dialogs_ended;             ///< by the final answer to a BYE
    core::counter dialogs_timed_out;         ///< by silence (dialog_timeout_s)
    core::counter mailbox_hops;              ///< messages handed to their owner shard
    core::counter reg_subscriptions_active;  ///< reg-event subscriptions held (RFC 3680)
    core::counter reg_subscriptions_ended;   ///< by un-SUBSCRIBE, expiry, or a NOTIFY that failed
    core::counter reg_notifies_sent;         ///< NOTIFYs we originated (retransmissions not counted)
    // Written by the backend that drives the shard.
    core::counter bytes_in;
    core::counter bytes_out;
    core::counter busy_ns;  ///< time spent working (receive, pipeline, send)
    core::counter idle_ns;  ///< time spent waiting for traffic
    // Latency from receipt to forwarding (the backend records it once the message is sent).
    std::array<core::histogram, method_count> request_latency{};
    std::array<core::histogram, status_classes> response_latency{};
    core::histogram call_setup;  ///< INVITE received → its 2xx forwarded (stateful)

    void count_drop(drop_cause c) noexcept { ++drops[static_cast<std::size_t>(c)]; }
    [[nodiscard]] std::uint64_t dropped(drop_cause c) const noexcept { return drops[static_cast<std::size_t>(c)]; }

    [[nodiscard]] static std::uint64_t sum(const auto& counters) noexcept {
        std::uint64_t n = 0;
        for (const core::counter& c : counters) n += c.get();
        return n;
    }
    [[nodiscard]] std::uint64_t requests() const noexcept { return sum(received_requests); }
    [[nodiscard]] std::uint64_t responses() const noexcept { return sum(received_responses); }
    [[nodiscard]] std::uint64_t requests_forwarded() const noexcept { return sum(forwarded_requests); }
    [[nodiscard]] std::uint64_t responses_forwarded() const noexcept { return sum(forwarded_responses); }
    [[nodiscard]] std::uint64_t answered() const noexcept { return sum(replied); }
    [[nodiscard]] std::uint64_t malformed() const noexcept { return sum(parse_errors); }

    /// What every view shows of these fields (docs/architecture.md, "Operations").
    [[nodiscard]] static std::span<const core::metric> metrics() noexcept;
};

/// The label of a method index ("INVITE", ..., "OTHER").
[[nodiscard]] std::string_view method_label(std::size_t m) noexcept;

/// The status class index of a status code: 1 for 1xx ... 6 for 6xx.
[[nodiscard]] constexpr std::size_t status_class(int status) noexcept {
    return static_cast<std::size_t>(status / 100 % 7);
}

/// Which latency histogram an outgoing message's delay goes to: 0 none, 1 + method for a request,
/// 1 + method_count + class for a response.
[[nodiscard]] constexpr std::uint8_t latency_of_request(sip::method m) noexcept {
    return static_cast<std::uint8_t>(1 + static_cast<std::size_t>(m));
}
[[nodiscard]] constexpr std::uint8_t latency_of_response(int status) noexcept {
    return static_cast<std::uint8_t>(1 + method_count + status_class(status));
}
/// Records `ns` where `slot` says (0: nowhere).
void record_latency(shard_stats& s, std::uint8_t slot, std::uint64_t ns) noexcept;

} // namespace sipfast::proxy
