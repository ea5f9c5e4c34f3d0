// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "sipfast/core/net_address.hpp"
#include "sipfast/core/timer_wheel.hpp"
#include "sipfast/sip/via.hpp"
#include "sipfast/txn/message_store.hpp"
#include "sipfast/txn/transaction.hpp"

namespace sipfast::txn {

/// The most branches one request forks into (RFC 3261 §16.6): a user's best-preferred contacts.
inline constexpr std::size_t max_branches = 8;

/// A transaction by its slot and the generation it had, so a stale reference finds nothing.
struct transaction_ref {
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
};

/// Which of a proxied transaction's machines a timer belongs to.
enum class timer_owner : std::uint8_t { server, client, cancel, proxy };

/// The timers one proxied request can run at once, by name. Each machine runs at most a
/// retransmit timer and a lifetime timer; our CANCEL is a machine of its own (§9.1); Timer C is the
/// proxy's (§16.6 step 11).
struct proxy_timers {
    core::timer_handle server_retransmit;  ///< G
    core::timer_handle server_lifetime;    ///< H, I, J
    core::timer_handle client_retransmit;  ///< A, E
    core::timer_handle client_lifetime;    ///< B, D, F, K
    core::timer_handle cancel_retransmit;  ///< E of our CANCEL
    core::timer_handle cancel_lifetime;    ///< F, K of our CANCEL
    core::timer_handle timer_c;            ///< C: an INVITE ringing without end is cancelled, then given up

    [[nodiscard]] core::timer_handle& retransmit(timer_owner o) noexcept {
        return o == timer_owner::server ? server_retransmit : o == timer_owner::client ? client_retransmit : cancel_retransmit;
    }
    [[nodiscard]] core::timer_handle& lifetime(timer_owner o) noexcept {
        return o == timer_owner::server ? server_lifetime : o == timer_owner::client ? client_lifetime : cancel_lifetime;
    }
    /// The handle that timer `which` of machine `o` is kept in.
    [[nodiscard]] core::timer_handle& of(timer_owner o, timer which) noexcept {
        if (o == timer_owner::proxy) return timer_c;  // C, and L once the INVITE is accepted
        return which == timer::A || which == timer::E || which == timer::G ? retransmit(o) : lifetime(o);
    }
};

/// One proxied request and its first branch: RFC 3261 §16.7's response context. The server
/// transaction faces the caller, the client transaction the next hop, and `cancel` our CANCEL of
/// that branch. A request that forks (§16.6, several registered contacts) has further branches: each
/// is a proxy_transaction of its own with no server side, naming this one, its head, which keeps the
/// response context (the best final answer so far, how many branches are still open).
/// It keeps only the copies it still needs, in its shard's message_store: the request as forwarded
/// while the branch is open (retransmitted, and read to build CANCEL, ACK and our own answers), the
/// last response sent upstream while the server side may be asked again, and the CANCEL or ACK we
/// built while they may be sent again.
struct proxy_transaction {
    server_transaction server;
    client_transaction client;
    client_transaction cancel;
    proxy_timers timers;
    core::net_address upstream;    ///< where answers go (source address; rport or Via port)
    core::net_address downstream;  ///< where the request went
    stored request;                ///< as forwarded
    stored response;               ///< the last response sent upstream
    stored cancel_request;         ///< our CANCEL, for its retransmissions
    stored ack;                    ///< our ACK of a 300-699 answer, resent when the answer is
    stored hidden;                 ///< topology hiding: the Via lines the request came with, for its responses
    std::uint64_t received_ns = 0; ///< when the request arrived: call setup time
    std::uint32_t slot = 0;
    sip::transport upstream_transport = sip::transport::udp;
    sip::transport downstream_transport = sip::transport::udp;
    bool invite = false;
    bool initial = false;             ///< no To tag: a 2xx to it creates a dialog
    bool client_started = false;
    bool server_done = false;
    bool client_done = false;
    bool provisional_seen = false;
    bool cancel_pending = false;      ///< the caller cancelled before any 1xx: sent at the first one (§9.1)
    bool cancel_sent = false;
    bool cancel_done = false;
    bool upstream_cancelled = false;  ///< the caller sent CANCEL: a give-up answers 487, not 408
    bool final_sent = false;          ///< the caller has its final answer (or never will): not pending
    /// Topology hiding: a 2xx to this INVITE went up, and its retransmissions, which find their way
    /// up only through `hidden`, are forwarded until Timer L (RFC 6026's Accepted state, 64*T1).
    bool accepted = false;            ///< Timer L runs (on timers.timer_c): kept though every machine has ended
    bool linger_done = false;         ///< Timer L fired

    // Forking (§16.7).
    std::array<transaction_ref, max_branches - 1> forks{};  ///< head: its further branches, in the order tried
    transaction_ref head{};           ///< a further branch: its head
    stored best;                      ///< head: the best final answer so far, as it would go upstream (step 6)
    std::uint16_t best_status = 0;    ///< head: its status, 0 for none yet; with no copy, one we answer ourselves
    std::uint8_t fork_count = 0;      ///< head: how many further branches
    std::uint8_t branches_open = 0;   ///< head: branches started and not yet over
    bool is_branch = false;           ///< a further branch, not a head
    bool sequential = false;          ///< head: one branch at a time, the next when one fails or times out
    bool search_over = false;         ///< head: a 2xx or 6xx came or the caller cancelled: no branch starts
    bool branch_over = false;         ///< this branch's outcome is in its head's response context
    bool hunting = false;             ///< a sequential branch with others after it: Timer C is its time limit
    // A request we originate (a reg-event NOTIFY): a client side only, its answer for its owner.
    bool originated = false;          ///< no caller: its final answer (or timeout) goes to `owner`, never up
    std::uint32_t owner_slot = 0;     ///< originated: the subscription that sent it, by slot
    std::uint32_t owner_generation = 0;

    /// Whether every machine has ended, so the transaction can be freed.
    [[nodiscard]] bool finished() const noexcept {
        return server_done && (!client_started || client_done) && (!cancel_sent || cancel_done);
    }
};

} // namespace sipfast::txn
