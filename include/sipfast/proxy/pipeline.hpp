// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sipfast/core/shard_table.hpp"
#include "sipfast/core/timer_wheel.hpp"
#include "sipfast/proxy/config.hpp"
#include "sipfast/proxy/inbound.hpp"
#include "sipfast/proxy/local_identity.hpp"
#include "sipfast/proxy/request_context.hpp"
#include "sipfast/proxy/dialogs.hpp"
#include "sipfast/proxy/location.hpp"
#include "sipfast/proxy/outbox.hpp"
#include "sipfast/proxy/stats.hpp"
#include "sipfast/auth/nonce.hpp"
#include "sipfast/auth/nonce_counts.hpp"
#include "sipfast/registrar/location_store.hpp"
#include "sipfast/registrar/reg_subscription.hpp"
#include "sipfast/registrar/reginfo.hpp"
#include "sipfast/sip/editor.hpp"
#include "sipfast/sip/message.hpp"
#include "sipfast/txn/transaction_table.hpp"

namespace sipfast::proxy {

/// The shard that owns a message (docs/architecture.md, "Shards"): a request the shard its Call-ID hashes to, a response
/// the shard our Via branch names; `otherwise` for a response that is not ours. Backends that frame
/// messages themselves (the TCP thread) hand each straight to it.
[[nodiscard]] std::uint32_t message_owner(const sip::message& m, std::uint32_t shards, std::uint32_t otherwise) noexcept;

/// What every shard of a process shares, owned by whoever makes the shards and outliving them:
/// the registrar's bindings and the nonce secret and counts of digest authentication. A null
/// member turns that service off.
struct shared_services {
    registrar::location_store* bindings = nullptr;
    const auth::nonce_source* nonces = nullptr;
    auth::nonce_counts* nonce_counts = nullptr;
};

/// The proxy's request and response path (RFC 3261 §16) for one shard, with no I/O: the backend
/// calls on_packet() and sends what lands in the outbox. A request walks the stages of
/// docs/architecture.md ("The request path"): validate (§16.3), local routing (§16.4), local
/// services, target resolution (§16.5), forward (§16.6); responses go by their next Via with
/// RFC 3581 received/rport.
///
/// Statelessly (§16.11) our branch is derived from the request, so retransmissions, CANCEL and a
/// non-2xx ACK take the same one. In stateful mode (the default) a request that is forwarded, and
/// only one, opens a transaction pair (§17) in the shard's table: INVITEs are answered 100 Trying
/// at once, retransmissions are answered from the transaction, the forwarded request is
/// retransmitted on Timers A/E, a non-2xx final response is ACKed hop by hop, a timeout answers
/// 408, CANCEL is answered 200 and sent on (§16.10), and a full table answers 503. Answers the
/// proxy makes itself (OPTIONS to us, 4xx, 5xx) are sent once, statelessly, and take no slot; our
/// branch then names the transaction's slot so a response finds it directly.
class pipeline {
public:
    /// Shard `shard` of `shards`: in stateful mode a call belongs to the shard its Call-ID hashes to
    /// (docs/architecture.md, "Shards"), and a response to the shard named in our branch.
    /// `locations` answers for the domains we serve; null means the configuration's [[location]]
    /// entries. It must outlive the pipeline.
    pipeline(const proxy_config& config, std::uint32_t shard, std::uint64_t now_ns = 0, std::uint32_t shards = 1,
             const location_service* locations = nullptr);
    ~pipeline();
    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    /// Whether a datagram from `in.source` is to be dropped unread, its source over its [limits]
    /// rate or banned (counted by cause). Asked by the backend before on_packet, for what arrives
    /// from the network, not for a hand-over another shard already asked for. [[peer]]s are exempt.
    [[nodiscard]] bool shed(const inbound& in, std::uint64_t now_ns) noexcept;
    /// Handles one message and returns this shard's number; or, in stateful mode, returns the number
    /// of the shard that owns it, without handling it, for the backend to hand it over once.
    std::uint32_t on_packet(const inbound& in, std::uint64_t now_ns, outbox& out) noexcept;
    /// The shard's statistics; the backend adds its own (bytes, busy time, drops, sent latency).
    [[nodiscard]] shard_stats& stats() noexcept { return stats_; }
    /// Switches to a reloaded configuration (routes, domains, locations, record-route, extensions,
    /// timers for new transactions). It must outlive the pipeline; the mode and table sizes stay.
    void reconfigure(const proxy_config& config) noexcept;
    [[nodiscard]] const proxy_config& config() const noexcept { return *config_; }
    /// What every shard shares (the registrar's bindings, the nonce secret); set before traffic.
    /// The reg-event subscriptions the bindings' store kept whose dialog this shard owns come back.
    void attach(const shared_services& s) noexcept;
    /// While stopping: new calls are answered 503 with Retry-After, what is in progress goes on.
    void set_draining(bool on) noexcept { draining_ = on; }
    /// The last message that failed to parse: why, and where it came from (for rate-limited logs).
    struct fault {
        sip::parse_error error = sip::parse_error::none;
        net_address source;
    };
    [[nodiscard]] fault last_fault() const noexcept { return last_fault_; }
    /// Runs the timers due by now_ns (retransmissions, timeouts, cleanup).
    void on_tick(std::uint64_t now_ns, outbox& out) noexcept;

    [[nodiscard]] const shard_stats& stats() const noexcept { return stats_; }

    /// Bytes of stored messages the transactions hold (a gauge for memory reports).
    [[nodiscard]] std::size_t stored_bytes() const noexcept { return transactions_ ? transactions_->store().bytes_in_use() : 0; }
    /// Transaction slots in use and in all (stateful mode; 0 otherwise).
    [[nodiscard]] std::size_t transactions() const noexcept { return transactions_ ? transactions_->size() : 0; }
    [[nodiscard]] std::size_t transaction_capacity() const noexcept { return transactions_ ? transactions_->capacity() : 0; }
    /// Reg-event subscriptions this shard holds (stateful mode with a registrar; 0 otherwise).
    [[nodiscard]] std::size_t subscriptions() const noexcept { return subscriptions_ ? subscriptions_->size() : 0; }

private:
    using transaction = txn::proxy_transaction;

    void on_request(const inbound& in, outbox& out) noexcept;
    // The reg event notifier (pipeline_notify.cpp; docs/architecture.md, "Reg event").
    [[nodiscard]] verdict serve_subscribe(request_context& ctx, outbox& out) noexcept;
    void after_subscribe(registrar::reg_subscription& s, registrar::subscribe_kind kind, outbox& out) noexcept;
    void poll_subscriptions(outbox& out) noexcept;
    void check_subscription(registrar::reg_subscription& s, outbox& out) noexcept;
    /// Sends the NOTIFY of `s` reporting `contacts_` (a full or partial document), in a client
    /// transaction of its own; `terminated`: the last, Subscription-State terminated;reason=timeout.
    void send_notify(registrar::reg_subscription& s, bool full, bool terminated,
                     const registrar::binding_list& current, outbox& out) noexcept;
    void end_subscription(registrar::reg_subscription& s) noexcept;
    /// The end of a NOTIFY's transaction: `heard`, an answer from the subscriber; else Timer F.
    void on_notify_answer(transaction& t, int status, bool heard, outbox& out) noexcept;
    /// Whether NOTIFY `t` may be sent (a `retransmission` or its first send) toward where it goes.
    [[nodiscard]] bool notify_may_go(const transaction& t, bool retransmission) noexcept;
    void on_response(const inbound& in, outbox& out) noexcept;
    [[nodiscard]] bool match_transaction(const inbound& in, const txn::transaction_key& key, outbox& out) noexcept;
    void forward_statelessly(request_context& ctx, outbox& out) noexcept;
    void forward_statefully(request_context& ctx, const txn::transaction_key& key, outbox& out) noexcept;
    void refuse(const inbound& in, const verdict& v, outbox& out) noexcept;
    /// Where an answer to the request in msg_ goes.
    [[nodiscard]] net_address answer_address(const inbound& in) const noexcept;
    /// Commits an answer of ours of `n` bytes in `out` to `to`, unless `to` is an address nobody
    /// verified (UDP, not a [[peer]]) whose byte budget our answers have spent (counted).
    [[nodiscard]] bool send_answer(const net_address& to, sip::transport t, std::size_t n, outbox& out) noexcept;
    void reply(const inbound& in, int status, std::string_view reason, std::string_view extra_lines,
               outbox& out) noexcept;
    void respond(transaction& t, const sip::message& request, bool our_via_on_top, int status,
                 std::string_view reason, std::string_view extra, outbox& out) noexcept;
    void apply_server(transaction& t, const txn::actions& a, outbox& out) noexcept;
    void apply_client(transaction& t, const txn::actions& a, outbox& out) noexcept;
    void apply_cancel(transaction& t, const txn::actions& a) noexcept;
    void arm(transaction& t, txn::timer_owner owner, const txn::actions& a) noexcept;
    void arm_timer_c(transaction& t, std::uint64_t in_ns) noexcept;
    [[nodiscard]] std::uint64_t cookie(const transaction& t, txn::timer_owner owner, txn::timer which) const noexcept;
    void send_stored(const txn::stored& s, const net_address& to, sip::transport tp, outbox& out) noexcept;
    void send_cancel(transaction& t, outbox& out) noexcept;
    void send_ack(transaction& t, outbox& out) noexcept;
    [[nodiscard]] bool read_request(const transaction& t) noexcept;
    void trim(transaction& t) noexcept;
    void maybe_free(transaction& t) noexcept;
    void note_final(transaction& t, int status) noexcept;
    /// The caller's final answer `status` could not be sent: the server side ends all the same
    /// rather than wait for ever with no timer to end it.
    void end_unanswered(transaction& t, int status) noexcept;
    void on_timer(std::uint64_t cookie, outbox& out) noexcept;
    // Forking and the response context (§16.6, §16.7).
    void fork(request_context& ctx, transaction& head, const sip::message_editor::mark& before_forward) noexcept;
    void start_branch(transaction& head, transaction& b, outbox& out) noexcept;
    [[nodiscard]] transaction* next_unstarted(transaction& head) noexcept;
    [[nodiscard]] transaction* head_of(transaction& t) noexcept;
    /// Branch t's response with `status` (msg_, when our_via names its top Via; none for an outcome
    /// we made up: a timeout) in its head's response context: forwarded, kept as the best so far,
    /// or dropped; the search ends or goes on; the caller gets the best answer when no branch is left.
    void relay(transaction& t, int status, const sip::header* our_via, const inbound* in, outbox& out) noexcept;
    [[nodiscard]] bool forward_up(transaction& h, int status, const sip::header& our_via, const inbound* in, outbox& out) noexcept;
    void keep_answer(transaction& h, int status, const sip::header& our_via) noexcept;
    void keep_own_answer(transaction& h, int status) noexcept;
    void merge_challenges(transaction& h, const sip::message& from, std::string_view from_text) noexcept;
    void send_best(transaction& h, const inbound* in, outbox& out) noexcept;
    /// A 2xx or 6xx came or the caller cancelled: every pending branch but `except` is cancelled and
    /// none starts.
    void end_search(transaction& h, const transaction* except, outbox& out) noexcept;
    void cancel_branch(transaction& b, const transaction* except, outbox& out) noexcept;
    void on_timer_c(transaction& t, outbox& out) noexcept;
    /// What a branch that gets no final answer counts as (§16.7 step 2): 487 once the caller
    /// cancelled, else 408.
    [[nodiscard]] int give_up_status(transaction& t) noexcept;
    void track_dialog(const transaction& t, int status) noexcept;
    void refresh_dialog() noexcept;
    [[nodiscard]] transaction* from_branch(std::string_view branch) noexcept;
    void send_edited(const net_address& to, sip::transport t, outbox& out) noexcept;
    /// Our Via (`our_via`, the top of the response in msg_) taken out for the response to go up
    /// through t; with topology hiding, the Vias t kept put back and the rest of the other side hidden
    /// (stages/topology.hpp). False when that could not be done: the response must not go up.
    [[nodiscard]] bool unhide(const transaction& t, const sip::header& our_via) noexcept;
    /// Tags the next message sent: its delay since `in` arrived goes to histogram `latency`.
    void tag(const inbound& in, std::uint8_t latency) noexcept {
        tag_latency_ = in.received_ns != 0 ? latency : std::uint8_t{0};
        tag_received_ns_ = in.received_ns;
    }
    [[nodiscard]] txn::timer_values timers() const noexcept {
        return txn::timer_values{config_->t1_ns, config_->t2_ns, config_->t4_ns};
    }

    const proxy_config* config_;
    local_identity identity_;
    static_locations configured_locations_;
    bool own_locations_;
    bool draining_ = false;
    bool hide_ = false;  // [topology] hide, stateful mode only
    fault last_fault_;
    const location_service* locations_;
    shared_services services_;
    std::array<char, 8192> register_answer_{};  // the registrar's 200 lists bindings here
    std::array<char, 4096> auth_answer_{};      // a challenge (with sec-agree's Security-Server), or the Authentication-Info of a success
    std::array<char, 2048> security_server_{};  // sec-agree: the Security-Server a challenge carries
    std::uint32_t shard_;
    std::uint32_t shards_;
    std::vector<sip::header> slots_;
    sip::message msg_;
    sip::message_editor editor_;
    shard_stats stats_;
    // The latency tag of the next message sent (set just before a forward, cleared by the send).
    std::uint64_t tag_received_ns_ = 0;
    std::uint8_t tag_latency_ = 0;
    std::uint64_t now_ns_ = 0;
    std::unique_ptr<txn::transaction_table> transactions_;
    std::unique_ptr<dialog_tracker> dialogs_;
    std::unique_ptr<registrar::subscription_table> subscriptions_;  // stateful mode only
    std::vector<registrar::contact_report> reports_;                 // what the NOTIFY being made reports
    std::unique_ptr<char[]> notify_room_;                            // its reginfo document
    std::uint64_t next_poll_ns_ = 0;
    std::uint32_t notify_count_ = 0;                                 // keys our NOTIFYs' transactions apart
    core::timer_wheel wheel_;
    std::vector<sip::header> aux_slots_;      // for re-reading a stored request (CANCEL, ACK, our answers)
    sip::message aux_;
    std::unique_ptr<char[]> scratch_;         // our own answers are written here before they are stored
    core::source_limiter limiter_;
};

} // namespace sipfast::proxy
