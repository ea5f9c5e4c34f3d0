// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace sipfast::txn {

/// RFC 3261 §17.1.1.1 and §17.1.2.1: T1 is the RTT estimate, T2 the longest retransmit interval
/// for non-INVITE requests and INVITE responses, T4 the longest a message stays in the network.
struct timer_values {
    std::uint64_t t1_ns = 500'000'000;
    std::uint64_t t2_ns = 4'000'000'000;
    std::uint64_t t4_ns = 5'000'000'000;
};

/// The timers of §17 by their letters. A transaction runs at most two at once: a retransmit timer
/// (A, E, G) and a lifetime timer (the others).
/// C is the proxy's INVITE timer (§16.6 step 11) and `dialog` a dialog's silence timeout: both run
/// by the proxy core, not by these machines; so is L (RFC 6026 §7.1), how long a proxy that hides
/// the topology keeps an accepted INVITE to forward the 2xx retransmissions.
enum class timer : std::uint8_t { none = 0, A, B, D, E, F, G, H, I, J, K, C, dialog, L };

enum class state : std::uint8_t { calling, trying, proceeding, completed, confirmed, terminated };

/// What the owner of a transaction must do after an event. The machines are pure: they read no
/// clock and touch no socket; the shard turns these into sends and timer-wheel entries.
struct actions {
    bool send_request = false;    ///< client: (re)transmit the request
    bool send_response = false;   ///< server: (re)send the most recent response
    bool send_ack = false;        ///< client INVITE: send the ACK for a 300-699 final response
    bool pass_up = false;         ///< client: give the response to the proxy core
    bool timed_out = false;       ///< client: Timer B or F, or server: Timer H (no ACK)
    bool terminated = false;      ///< the transaction is over: free it
    bool stop_retransmit = false; ///< cancel the running retransmit timer
    timer retransmit = timer::none;  ///< arm this retransmit timer ...
    std::uint64_t retransmit_in_ns = 0;  ///< ... to fire in this long
    timer lifetime = timer::none;    ///< arm this lifetime timer (replacing any other) ...
    std::uint64_t lifetime_in_ns = 0;    ///< ... to fire in this long
};

/// A client transaction (§17.1): INVITE (Timers A, B, D) or non-INVITE (E, F, K). Over a reliable
/// transport nothing is retransmitted and D and K are zero.
class client_transaction {
public:
    client_transaction() noexcept : client_transaction(false, false, timer_values{}) {}
    client_transaction(bool invite, bool reliable, const timer_values& t) noexcept
        : invite_(invite), reliable_(reliable), t_(t), state_(invite ? state::calling : state::trying) {}

    /// Sends the request and arms the timers.
    [[nodiscard]] actions start() noexcept;
    /// A response matched this transaction.
    [[nodiscard]] actions on_response(int status) noexcept;
    [[nodiscard]] actions on_timer(timer t) noexcept;

    [[nodiscard]] state current() const noexcept { return state_; }
    [[nodiscard]] bool invite() const noexcept { return invite_; }

private:
    bool invite_;
    bool reliable_;
    timer_values t_;
    state state_;
    std::uint64_t interval_ns_ = 0;  // current retransmit interval
};

/// A server transaction (§17.2): INVITE (Timers G, H, I) or non-INVITE (J).
class server_transaction {
public:
    server_transaction() noexcept : server_transaction(false, false, timer_values{}) {}
    server_transaction(bool invite, bool reliable, const timer_values& t) noexcept
        : invite_(invite), reliable_(reliable), t_(t), state_(invite ? state::proceeding : state::trying) {}

    /// The request arrived again.
    [[nodiscard]] actions on_retransmission() noexcept;
    /// An ACK matched this INVITE transaction (for a 300-699 response).
    [[nodiscard]] actions on_ack() noexcept;
    /// The proxy core sends a response through this transaction.
    [[nodiscard]] actions on_send(int status) noexcept;
    [[nodiscard]] actions on_timer(timer t) noexcept;

    [[nodiscard]] state current() const noexcept { return state_; }
    [[nodiscard]] bool invite() const noexcept { return invite_; }
    /// Whether a response has been sent (so a retransmission can be answered).
    [[nodiscard]] bool has_response() const noexcept { return responded_; }

private:
    bool invite_;
    bool reliable_;
    timer_values t_;
    state state_;
    bool responded_ = false;
    std::uint64_t interval_ns_ = 0;
};

} // namespace sipfast::txn
