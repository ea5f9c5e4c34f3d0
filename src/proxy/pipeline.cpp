// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/pipeline.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <cstring>
#include <utility>

#include "sipfast/core/clock.hpp"
#include "sipfast/core/shard_hash.hpp"
#include "sipfast/proxy/response.hpp"
#include "sipfast/proxy/stages/admit.hpp"
#include "sipfast/proxy/stages/authenticate.hpp"
#include "sipfast/proxy/stages/forward.hpp"
#include "sipfast/proxy/stages/identity.hpp"
#include "sipfast/proxy/stages/local_route.hpp"
#include "sipfast/proxy/stages/local_services.hpp"
#include "sipfast/proxy/stages/registrar_service.hpp"
#include "sipfast/proxy/stages/sec_agree.hpp"
#include "sipfast/proxy/stages/target.hpp"
#include "sipfast/proxy/stages/topology.hpp"
#include "sipfast/proxy/stages/validate.hpp"
#include "sipfast/sip/cseq.hpp"
#include "sipfast/sip/parser.hpp"
#include "sipfast/txn/branch.hpp"
#include "sipfast/txn/hop_request.hpp"

namespace sipfast::proxy {

namespace {

using txn::timer_owner;

// Timer cookies: the slot's generation in the high half, then the slot (26 bits), the owner (2)
// and the timer letter (4).
constexpr std::uint64_t slot_mask = (std::uint64_t{1} << 26) - 1;

std::uint64_t make_cookie(std::uint32_t generation, std::uint32_t slot, timer_owner owner, txn::timer t) noexcept {
    return (std::uint64_t{generation} << 32) | ((slot & slot_mask) << 6) | (static_cast<std::uint64_t>(owner) << 4) |
           static_cast<std::uint64_t>(t);
}

// The Via after the top one (ours): in the same header line after a comma, or the next Via line.
// The parser decoded the top value of the first Via line (m.top_via): the rest of that line is
// read from where its text ends, not decoded twice.
bool next_via(const sip::message& m, const sip::header& first, sip::via& next) noexcept {
    std::string_view rest = sip::rest_after(first.value, m.top_via.text);
    if (!rest.empty()) return sip::parse_via(rest, next, &rest) == sip::parse_error::none;
    for (const sip::header& h : m.headers)
        if (h.id == sip::header_id::via && &h != &first) return sip::parse_via(h.value, next, &rest) == sip::parse_error::none;
    return false;
}

// What our branch vouches for: every response, CANCEL and non-2xx ACK of the request repeats it.
txn::branch_identity identity_of(const sip::message& m) noexcept { return {m.call_id, m.cseq.number}; }

constexpr std::uint64_t wheel_tick_ns = 1'000'000;

// Enough buckets that the longest transaction timer (64*T1, Timer D's 32 s at least) is within one
// turn of the wheel: a bucket then holds the timers due at its tick and the few longer ones (Timer
// C, a dialog's silence), so a tick walks what fires rather than every timer due in later turns.
// With 4 096 buckets, at 48 000 calls/s a tick walked ~400 timers of Timer J's later turns, a cache
// miss each: 22 µs a millisecond that every message of that turn waited (bench/RESULTS.md, "The
// timer wheel's turn"). Capped for a T1 of minutes, where later turns come back.
std::size_t wheel_slots(const proxy_config& c) noexcept {
    if (c.mode != proxy_mode::stateful) return 1;
    const std::uint64_t longest = std::max<std::uint64_t>(64 * c.t1_ns, 32'000'000'000);
    return static_cast<std::size_t>(std::min<std::uint64_t>(longest / wheel_tick_ns + 2, std::uint64_t{1} << 18));
}

txn::table_sizing sizing(const proxy_config& c) noexcept {
    return txn::transaction_table::size_for(c.memory_per_shard, core::timer_wheel::bytes_per_timer(), c.transactions_per_shard);
}

} // namespace

std::uint32_t message_owner(const sip::message& m, std::uint32_t shards, std::uint32_t otherwise) noexcept {
    if (m.is_request()) return core::owner_shard(m.call_id, shards);
    std::uint32_t s = 0;
    if (m.is_response() && txn::branch_shard(m.top_via.branch, shards, s)) return s;
    return otherwise;
}

pipeline::pipeline(const proxy_config& config, std::uint32_t shard, std::uint64_t now_ns, std::uint32_t shards,
                   const location_service* locations)
    : config_(&config), identity_(config), configured_locations_(config.locations), own_locations_(locations == nullptr),
      locations_(locations ? locations : &configured_locations_), shard_(shard), shards_(shards == 0 ? 1 : shards),
      slots_(sip::default_header_slots), now_ns_(now_ns),
      transactions_(config.mode == proxy_mode::stateful ? std::make_unique<txn::transaction_table>(sizing(config)) : nullptr),
      dialogs_(config.mode == proxy_mode::stateful ? std::make_unique<dialog_tracker>(config.dialogs_per_shard) : nullptr),
      subscriptions_(config.mode == proxy_mode::stateful
                         ? std::make_unique<registrar::subscription_table>(config.subscriptions_per_shard)
                         : nullptr),
      // Every timer a slot may hold, and one per dialog.
      wheel_(transactions_ ? transactions_->capacity() * txn::transaction_table::timers_per_slot + config.dialogs_per_shard : 1,
             wheel_tick_ns, now_ns, wheel_slots(config)),
      aux_slots_(sip::default_header_slots),
      scratch_(new char[txn::message_store::max_message + txn::message_store::padding]),
      limiter_(config.limited_sources, config.limits) {
    hide_ = config.hide_topology && transactions_ != nullptr;
}

pipeline::~pipeline() = default;

void pipeline::reconfigure(const proxy_config& config) noexcept {
    // Table sizes and the mode stay (the daemon refuses a reload that changes them); everything
    // else is read from the config as each message is handled.
    config_ = &config;
    identity_.reconfigure(config);
    hide_ = config.hide_topology && transactions_ != nullptr;
    configured_locations_ = static_locations(config.locations);
    if (own_locations_) locations_ = &configured_locations_;
    limiter_.set_limits(config.limits);
}

bool pipeline::shed(const inbound& in, std::uint64_t now_ns) noexcept {
    if (!config_->limits.enabled() || config_->policy.peer_of(in.source) != nullptr) return false;
    switch (limiter_.admit(in.source, in.data.size(), now_ns)) {
    case core::source_verdict::pass: return false;
    case core::source_verdict::over_rate: stats_.count_drop(drop_cause::rate_limited); return true;
    case core::source_verdict::banned: stats_.count_drop(drop_cause::banned); return true;
    }
    return false;
}

bool pipeline::send_answer(const net_address& to, sip::transport t, std::size_t n, outbox& out) noexcept {
    // Over a stream the handshake proved the address; a [[peer]] is known. Toward anyone else a
    // forged source could aim our answers (a challenge is larger than the REGISTER that asked for
    // it) at a victim: they spend the address's byte budget like what it sends.
    if (t == sip::transport::udp && config_->limits.enabled() && config_->policy.peer_of(to) == nullptr &&
        !limiter_.charge_answer(to, n, now_ns_)) {
        stats_.count_drop(drop_cause::answer_limited);
        return false;
    }
    out.commit(to, t, n);
    return true;
}

std::uint32_t pipeline::on_packet(const inbound& in, std::uint64_t now_ns, outbox& out) noexcept {
    if (now_ns > now_ns_) now_ns_ = now_ns;
    const sip::parse_result r = sip::parse(in.data, msg_, slots_);
    if (r.ok() && transactions_ && shards_ > 1 && !in.handed_over) {
        // Ownership: a request by its Call-ID, a response by the shard in our branch.
        const std::uint32_t owner = message_owner(msg_, shards_, shard_);
        if (owner != shard_) return owner;
    }
    if (!r.ok()) {
        ++stats_.parse_errors[static_cast<std::size_t>(r.error)];
        stats_.count_drop(drop_cause::malformed);
        last_fault_ = fault{r.error, in.source};
        int status = 0;
        const std::span<char> room = out.reserve(2048);
        const std::size_t n = room.empty() ? 0 : write_error_response(msg_, r, answer_tag(msg_.call_id).view(), room, status);
        if (n != 0 && send_answer(in.source, in.transport(), n, out)) ++stats_.replied[status_class(status)];
        return shard_;
    }
    if (!msg_.is_request() && !msg_.is_response()) return shard_;  // keep-alive
    editor_.reset(in.data.substr(0, r.consumed));
    if (msg_.is_request()) on_request(in, out);
    else on_response(in, out);
    return shard_;
}

void pipeline::reply(const inbound& in, int status, std::string_view reason, std::string_view extra_lines,
                     outbox& out) noexcept {
    // RFC 3581 §4 and RFC 3261 §18.2.2: the answer goes back to where the request came from.
    const answer_tag tag(msg_.call_id);
    // The request's Via, From, To, Call-ID and CSeq come back, with our lines (a registrar's 200
    // lists every binding).
    const std::span<char> room = out.reserve(std::max<std::size_t>(2048, msg_.header_bytes + extra_lines.size() + 256));
    const std::size_t n = room.empty() ? 0 : write_response(msg_, status, reason, tag.view(), extra_lines, room, false, &in.source);
    if (n == 0) {
        stats_.count_drop(drop_cause::outbox_full);
        return;
    }
    if (send_answer(answer_address(in), in.transport(), n, out)) ++stats_.replied[status_class(status)];
}

net_address pipeline::answer_address(const inbound& in) const noexcept {
    // RFC 3261 §18.2.2 and RFC 3581 §4: over UDP to the source address, at the source port when
    // the client asked with rport, else at the port of its sent-by; over a stream, on its connection.
    net_address to = in.source;
    if (in.transport() == sip::transport::udp && msg_.top_via.rport == sip::rport_state::absent)
        to.port = msg_.top_via.has_port ? msg_.top_via.port : std::uint16_t{5060};
    return to;
}

void pipeline::refuse(const inbound& in, const verdict& v, outbox& out) noexcept {
    if (v.drop != drop_cause::count_) stats_.count_drop(v.drop);
    // An answer we make ourselves is sent once, without a transaction: a retransmitted request is
    // answered again, and nothing is retransmitted toward a source we never heard twice. An ACK is
    // never answered (§17.2.3).
    if (msg_.method != sip::method::ack && v.answered()) reply(in, v.status, v.reason, v.extra, out);
}

void pipeline::send_edited(const net_address& to, sip::transport t, outbox& out) noexcept {
    const std::uint8_t latency = std::exchange(tag_latency_, std::uint8_t{0});  // this message's only
    const std::span<char> room = out.reserve(editor_.size());
    if (room.empty() || editor_.serialize(room) == 0) {
        stats_.count_drop(drop_cause::outbox_full);
        return;
    }
    out.commit(to, t, room.size(), latency, tag_received_ns_);
}

void pipeline::on_request(const inbound& in, outbox& out) noexcept {
    ++stats_.received_requests[static_cast<std::size_t>(msg_.method)];
    const sip::message& m = msg_;
    const bool ack = m.method == sip::method::ack;
    // The §17.2.3 key, made once: matched here, inserted under if the request is forwarded.
    std::optional<txn::transaction_key> key;
    if (transactions_) {
        key.emplace(m);
        if (match_transaction(in, *key, out)) return;
    }
    if (ack) {
        // The ACK of an answer we made ourselves ends here (its To tag is ours).
        if (m.to.tag == answer_tag(m.call_id).view()) return;
    }

    request_context ctx(in, m, editor_, identity_);
    ctx.hide = hide_;
    // Stopping: calls in progress go on, new ones are sent elsewhere (RFC 3261 §21.5.4).
    verdict v = draining_ && !ctx.in_dialog() && !ack && m.method != sip::method::cancel
                    ? verdict::answer(503, "Service Unavailable", "Retry-After: 30\r\n")
                    : verdict::next();
    if (v.go_on()) v = validate(ctx);
    if (v.go_on()) v = route_locally(ctx);
    // Whether we hide now or not: a dialog set up while we did (a reload turned it off) still works.
    if (v.go_on()) v = restore_topology(ctx);
    if (v.go_on()) v = serve_locally(ctx);
    if (v.go_on()) v = sec_agree(ctx, security_server_);
    if (v.go_on()) v = authenticate(ctx, {services_.nonces, services_.nonce_counts, now_ns_, auth_answer_});
    // Only a REGISTER reads the wall clock (its 200's Date).
    if (v.go_on() && m.method == sip::method::register_)
        v = serve_register(ctx, {services_.bindings, &config_->registrar_limits, {now_ns_, core::unix_ns()},
                                 register_answer_});
    if (v.go_on() && m.method == sip::method::subscribe) {
        v = serve_subscribe(ctx, out);
        if (!v.go_on()) return;  // answered, and its NOTIFY sent
    }
    if (v.go_on()) v = resolve_target(ctx, *locations_, config_->serve_registrations ? services_.bindings : nullptr, now_ns_);
    if (v.go_on()) v = admit(ctx);
    if (v.go_on()) v = assert_identity(ctx, config_->serve_registrations ? services_.bindings : nullptr, now_ns_);
    if (!v.go_on()) return refuse(in, v, out);
    // ACK (of a 2xx: end to end) and a CANCEL matching no INVITE here go on without state (§16.10);
    // with topology hiding such a CANCEL keeps state all the same, for its answer to find its Vias.
    if (transactions_ && !ack && (m.method != sip::method::cancel || hide_)) forward_statefully(ctx, *key, out);
    else forward_statelessly(ctx, out);
}

void pipeline::forward_statelessly(request_context& ctx, outbox& out) noexcept {
    const txn::our_branch branch = txn::our_branch::stateless(shard_, request_hash(ctx.m), identity_of(ctx.m), ctx.loop_hash);
    if (const verdict v = forward(ctx, branch.text()); !v.go_on()) return refuse(ctx.in, v, out);
    ++stats_.forwarded_requests[static_cast<std::size_t>(ctx.m.method)];
    if (dialogs_ && ctx.in_dialog()) refresh_dialog();
    tag(ctx.in, latency_of_request(ctx.m.method));
    send_edited(ctx.destination, ctx.transport, out);
}

void pipeline::forward_statefully(request_context& ctx, const txn::transaction_key& key, outbox& out) noexcept {
    const sip::message& m = ctx.m;
    const inbound& in = ctx.in;
    transaction* t = transactions_->insert(key);
    if (t == nullptr) {
        if (!key.valid() && !hide_) return forward_statelessly(ctx, out);  // too long to keep state for
        if (!key.valid()) return refuse(in, verdict::answer(500, "Request Too Complex To Forward"), out);
        return refuse(in, verdict::answer(503, "Service Unavailable", "Retry-After: 5\r\n", drop_cause::table_full), out);
    }
    // A fork's further branches are built from the same edits of the stages before, each its own way.
    const sip::message_editor::mark before_forward = editor_.checkpoint();
    const txn::our_branch branch =
        txn::our_branch::stateful(shard_, t->slot, transactions_->generation(*t), identity_of(m), ctx.loop_hash);
    verdict v = forward(ctx, branch.text());
    // The forwarded request is kept for retransmission, CANCEL, ACK and our own answers.
    char* copy = v.go_on() ? transactions_->store().allocate(editor_.size(), t->request) : nullptr;
    if (v.go_on() && copy == nullptr)
        v = verdict::answer(503, "Service Unavailable", "Retry-After: 5\r\n", drop_cause::table_full);
    if (v.go_on() && hide_) {
        // The Vias it came with, as they go back on its responses (RFC 3261 §16.7 step 9).
        core::text_writer vias({scratch_.get(), txn::message_store::max_message});
        if (!write_received_vias(m, in.source, in.transport() != sip::transport::udp, vias) ||
            !transactions_->store().put(vias.view(), t->hidden))
            v = verdict::answer(503, "Service Unavailable", "Retry-After: 5\r\n", drop_cause::table_full);
    }
    if (!v.go_on()) {
        transactions_->erase(*t);
        return refuse(in, v, out);
    }
    (void)editor_.serialize({copy, editor_.size()});
    t->invite = m.method == sip::method::invite;
    t->initial = !ctx.in_dialog();
    t->upstream_transport = in.transport();
    const bool reliable = t->upstream_transport != sip::transport::udp;
    t->server = txn::server_transaction(t->invite, reliable, timers());
    t->upstream = answer_address(in);
    t->received_ns = in.received_ns;
    t->downstream = ctx.destination;
    t->downstream_transport = ctx.transport;
    ++stats_.transactions_created;
    ++stats_.transactions_active;
    ++stats_.transactions_pending;
    ++stats_.forwarded_requests[static_cast<std::size_t>(m.method)];
    if (dialogs_ && ctx.in_dialog()) refresh_dialog();
    // §16.2: an INVITE that goes on is answered 100 Trying at once.
    if (t->invite) respond(*t, m, false, 100, "Trying", {}, out);
    if (ctx.more_count != 0) fork(ctx, *t, before_forward);
    tag(in, latency_of_request(m.method));
    start_branch(*t, *t, out);
    if (!t->sequential)
        for (std::size_t i = 0; i < t->fork_count; ++i)
            if (transaction* b = transactions_->at(t->forks[i])) start_branch(*t, *b, out);
}

void pipeline::fork(request_context& ctx, transaction& head, const sip::message_editor::mark& before_forward) noexcept {
    head.sequential = config_->forking == fork_mode::sequential;
    for (std::size_t i = 0; i < ctx.more_count; ++i) {
        transaction* b = transactions_->insert_branch(head, static_cast<std::uint32_t>(i));
        if (b == nullptr) break;  // a full table: the branches made so far are tried
        editor_.rewind(before_forward);
        ctx.err = sip::edit_error::none;
        ctx.aim(ctx.more[i]);
        const txn::our_branch branch =
            txn::our_branch::stateful(shard_, b->slot, transactions_->generation(*b), identity_of(ctx.m), ctx.loop_hash);
        char* copy = forward(ctx, branch.text()).go_on() ? transactions_->store().allocate(editor_.size(), b->request) : nullptr;
        // Each branch keeps the Vias too: a late 2xx goes up through it alone when the head is gone.
        if (copy != nullptr && !head.hidden.empty() &&
            !transactions_->store().put(transactions_->store().view(head.hidden), b->hidden))
            copy = nullptr;
        if (copy == nullptr) {
            transactions_->erase(*b);
            continue;
        }
        (void)editor_.serialize({copy, editor_.size()});
        // What a branch needs when its head is gone: a late 2xx still goes to the caller (§16.7 step 5).
        b->invite = head.invite;
        b->initial = head.initial;
        b->upstream = head.upstream;
        b->upstream_transport = head.upstream_transport;
        b->received_ns = head.received_ns;
        b->downstream = ctx.destination;
        b->downstream_transport = ctx.transport;
        b->server_done = true;  // no server side: the head answers the caller
        b->final_sent = true;   // nor pending: the head counts as the caller's request
        head.forks[head.fork_count++] = transactions_->ref(*b);
        ++stats_.transactions_active;
        ++stats_.branches_forked;
    }
}

void pipeline::start_branch(transaction& head, transaction& b, outbox& out) noexcept {
    b.client = txn::client_transaction(b.invite, b.downstream_transport != sip::transport::udp, timers());
    b.client_started = true;
    ++head.branches_open;
    b.hunting = head.sequential && next_unstarted(head) != nullptr;
    if (b.invite) arm_timer_c(b, b.hunting ? config_->branch_timeout_ns : config_->timer_c_ns);
    apply_client(b, b.client.start(), out);
}

pipeline::transaction* pipeline::next_unstarted(transaction& head) noexcept {
    if (!head.client_started) return &head;
    for (std::size_t i = 0; i < head.fork_count; ++i)
        if (transaction* b = transactions_->at(head.forks[i]); b != nullptr && !b->client_started) return b;
    return nullptr;
}

pipeline::transaction* pipeline::head_of(transaction& t) noexcept {
    return t.is_branch ? transactions_->at(t.head) : &t;
}

bool pipeline::match_transaction(const inbound& in, const txn::transaction_key& key, outbox& out) noexcept {
    const sip::message& m = msg_;
    const bool ack = m.method == sip::method::ack;
    // §17.2.3: a request matches a server transaction by branch, sent-by and method, ACK counting
    // as INVITE.
    if (transaction* found = transactions_->find(key)) {
        // An INVITE kept after its 2xx (topology hiding's Timer L) passes an ACK on, as RFC 6026 §7.1
        // has it: the 2xx's ACK is end to end, even when a client reuses the INVITE's branch for it.
        if (ack && found->accepted) return false;
        ++stats_.retransmissions_absorbed;
        apply_server(*found, ack ? found->server.on_ack() : found->server.on_retransmission(), out);
        return true;
    }
    if (m.method != sip::method::cancel) return false;
    transaction* inv = transactions_->find(txn::transaction_key(m, "INVITE"));
    if (inv == nullptr) return false;  // §16.10: no matching INVITE here, forward it statelessly
    reply(in, 200, "OK", {}, out);     // §16.10: the CANCEL is answered at once
    inv->upstream_cancelled = true;
    if (!inv->server_done) end_search(*inv, nullptr, out);  // every pending branch is cancelled
    return true;
}

void pipeline::on_response(const inbound& in, outbox& out) noexcept {
    // Responses go by their Via, not back to where they came from.
    ++stats_.received_responses[status_class(msg_.status_code)];
    const sip::message& m = msg_;
    // §16.7 step 3 / §16.11: the top Via must be ours; it is removed and the response goes where the
    // next Via says (its received and rport first, RFC 3581 §4).
    const sip::via& ours = m.top_via;
    if (!identity_.is_us(ours.host, ours.port, ours.has_port)) {
        stats_.count_drop(drop_cause::not_ours);
        return;
    }
    // Only a response to a request we sent: our MAC over its Call-ID and CSeq (a guessed or stray
    // branch, another call's identity), and, while its transaction lives, from where we sent it.
    if (!txn::branch_verifies(ours.branch, identity_of(m))) {
        stats_.count_drop(drop_cause::unverified);
        return;
    }
    const sip::header* first = m.find(sip::header_id::via);
    sip::via next;
    const bool have_next = next_via(m, *first, next);
    if (transactions_) {
        if (transaction* t = from_branch(ours.branch)) {
            if (!(in.source == t->downstream)) {
                stats_.count_drop(drop_cause::unverified);
                return;
            }
            if (t->originated) {  // the answer to a NOTIFY of ours ends here
                const int status = m.status_code;
                const txn::actions a = t->client.on_response(status);
                if (!a.pass_up) ++stats_.retransmissions_absorbed;
                else if (status >= 200) on_notify_answer(*t, status, true, out);
                return apply_client(*t, a, out);
            }
            // The answer to our CANCEL ends here; one to a CANCEL we forwarded statefully (topology
            // hiding) goes up like any.
            if (m.cseq.method == sip::method::cancel && (t->invite || t->cancel_sent)) {
                apply_cancel(*t, t->cancel.on_response(m.status_code));
                return;
            }
            const int status = m.status_code;
            if (t->accepted && status >= 200 && status < 300) {
                // Hiding: a retransmitted 2xx has no Via but ours, and goes up through the INVITE it
                // answers while Timer L keeps it (RFC 6026 §8.4).
                if (!unhide(*t, *first)) return stats_.count_drop(drop_cause::no_route);
                ++stats_.forwarded_responses[status_class(status)];
                tag(in, latency_of_response(status));
                return send_edited(t->upstream, t->upstream_transport, out);
            }
            const txn::actions a = t->client.on_response(status);
            if (a.send_ack) send_ack(*t, out);
            if (!a.pass_up) {
                ++stats_.retransmissions_absorbed;
                apply_client(*t, a, out);
                return;
            }
            if (status < 200) {
                t->provisional_seen = true;
                // Reset by each 1xx, but a sequential branch is tried for its time and no longer.
                if (t->invite && !t->cancel_sent && !t->hunting) arm_timer_c(*t, config_->timer_c_ns);
                if (t->cancel_pending && !t->cancel_sent) {
                    t->cancel_pending = false;
                    send_cancel(*t, out);
                }
            }
            const txn::transaction_ref self = transactions_->ref(*t);
            // §16.7 step 3: with no Via left it was meant for us and is never forwarded; as a final
            // answer the branch has failed, and the caller hears it from us.
            // With topology hiding ours is its only Via: the others are in the transaction.
            const bool onward = have_next || !t->hidden.empty();
            if (!onward) stats_.count_drop(drop_cause::not_ours);
            relay(*t, onward || status < 200 ? status : 502, onward ? first : nullptr, &in, out);  // frees no branch whose client is open
            if ((t = transactions_->at(self)) != nullptr) apply_client(*t, a, out);
            return;
        }
    }
    if (!have_next) {  // a response to a request we originated; nothing to forward
        stats_.count_drop(drop_cause::not_ours);
        return;
    }
    net_address destination;
    if (!parse_ip(next.received.empty() ? next.host : next.received, destination)) {
        stats_.count_drop(drop_cause::no_route);
        return;
    }
    destination.port = next.rport == sip::rport_state::value ? next.rport_value
                       : next.has_port                       ? next.port
                                                             : std::uint16_t{5060};
    (void)editor_.remove(sip::first_value_span(editor_.original(), *first));
    ++stats_.forwarded_responses[status_class(m.status_code)];
    tag(in, latency_of_response(m.status_code));
    send_edited(destination, next.transport == sip::transport::unknown ? sip::transport::udp : next.transport, out);
}

// ---- stateful mode ---------------------------------------------------------------------------

std::uint64_t pipeline::cookie(const transaction& t, timer_owner owner, txn::timer which) const noexcept {
    return make_cookie(transactions_->generation(t), t.slot, owner, which);
}

void pipeline::send_stored(const txn::stored& s, const net_address& to, sip::transport tp, outbox& out) noexcept {
    const std::uint8_t latency = std::exchange(tag_latency_, std::uint8_t{0});  // this message's only
    const std::string_view bytes = transactions_->store().view(s);
    if (bytes.empty()) return;
    const std::span<char> room = out.reserve(bytes.size());
    if (room.empty()) {
        stats_.count_drop(drop_cause::outbox_full);
        return;
    }
    std::memcpy(room.data(), bytes.data(), bytes.size());
    out.commit(to, tp, bytes.size(), latency, tag_received_ns_);
}

bool pipeline::read_request(const transaction& t) noexcept {
    const std::string_view bytes = transactions_->store().view(t.request);
    return !bytes.empty() && sip::parse(bytes, aux_, aux_slots_).ok();
}

void pipeline::respond(transaction& t, const sip::message& request, bool our_via_on_top, int status,
                       std::string_view reason, std::string_view extra, outbox& out) noexcept {
    const answer_tag tag(request.call_id);
    // The request as received gets received/rport on its top Via (RFC 3581 §4); one rebuilt from
    // what we forwarded has them already.
    // Hiding: what we forwarded has our Via alone, and the transaction the ones it came with.
    txn::message_store& store = transactions_->store();
    const std::string_view vias = our_via_on_top ? store.view(t.hidden) : std::string_view{};
    const std::size_t n = write_response(request, status, reason, tag.view(), extra, {scratch_.get(), txn::message_store::max_message},
                                         our_via_on_top, our_via_on_top ? nullptr : &t.upstream, vias);
    store.release(t.response);
    if (n == 0 || !store.put({scratch_.get(), n}, t.response)) {
        // An answer that cannot be kept is sent once as it is; a final one that cannot be written
        // or kept ends the server side rather than leaving it waiting for ever.
        if (n != 0) {
            const std::span<char> room = out.reserve(n);
            if (room.empty()) {
                stats_.count_drop(drop_cause::outbox_full);
            } else {
                std::memcpy(room.data(), scratch_.get(), n);
                out.commit(t.upstream, t.upstream_transport, n);
                ++stats_.replied[status_class(status)];
            }
        }
        if (status >= 200) end_unanswered(t, status);
        return;
    }
    ++stats_.replied[status_class(status)];
    note_final(t, status);
    apply_server(t, t.server.on_send(status), out);
}

void pipeline::arm(transaction& t, timer_owner owner, const txn::actions& a) noexcept {
    core::timer_handle& retransmit = t.timers.retransmit(owner);
    core::timer_handle& lifetime = t.timers.lifetime(owner);
    if (a.stop_retransmit) wheel_.stop(retransmit);
    if (a.retransmit != txn::timer::none) {
        wheel_.stop(retransmit);
        retransmit = wheel_.schedule(now_ns_ + a.retransmit_in_ns, cookie(t, owner, a.retransmit));
    }
    if (a.lifetime != txn::timer::none) {
        wheel_.stop(lifetime);
        lifetime = wheel_.schedule(now_ns_ + a.lifetime_in_ns, cookie(t, owner, a.lifetime));
    }
}

void pipeline::apply_server(transaction& t, const txn::actions& a, outbox& out) noexcept {
    if (a.send_response) send_stored(t.response, t.upstream, t.upstream_transport, out);
    arm(t, timer_owner::server, a);
    if (a.timed_out) ++stats_.transactions_timed_out;
    if (a.terminated) t.server_done = true;
    if (t.server_done) maybe_free(t);
    else trim(t);
}

void pipeline::apply_client(transaction& t, const txn::actions& a, outbox& out) noexcept {
    if (a.send_request) send_stored(t.request, t.downstream, t.downstream_transport, out);
    arm(t, timer_owner::client, a);
    if (a.terminated) t.client_done = true;
    if (a.timed_out) {
        ++stats_.transactions_timed_out;
        if (t.originated) {  // Timer F: the subscriber is gone (RFC 6665 §4.2.2)
            on_notify_answer(t, 408, false, out);
            t.client_done = true;
            return maybe_free(t);
        }
        // §16.7 step 2 / §16.8: a branch that times out counts as a 408 in the response context
        // (487 once the caller cancelled it: what the caller waits to hear).
        const txn::transaction_ref self = transactions_->ref(t);
        relay(t, give_up_status(t), nullptr, nullptr, out);
        if (transaction* again = transactions_->at(self); again != nullptr && a.terminated) maybe_free(*again);
        return;
    }
    if (a.terminated) maybe_free(t);
}

void pipeline::apply_cancel(transaction& t, const txn::actions& a) noexcept {
    arm(t, timer_owner::cancel, a);
    if (!a.terminated) return;
    t.cancel_done = true;
    transactions_->store().release(t.cancel_request);
    maybe_free(t);
}

void pipeline::arm_timer_c(transaction& t, std::uint64_t in_ns) noexcept {
    wheel_.stop(t.timers.timer_c);
    t.timers.timer_c = wheel_.schedule(now_ns_ + in_ns, cookie(t, timer_owner::proxy, txn::timer::C));
}

void pipeline::on_timer_c(transaction& t, outbox& out) noexcept {
    if (t.client_done) return;  // answered meanwhile
    if (t.provisional_seen && !t.cancel_sent) {
        send_cancel(t, out);  // rearms C for 64*T1
        if (t.cancel_sent) return;
        // No CANCEL could be made (the store full, the request too long to copy): nothing would
        // ever end the branch, so it ends now.
    }
    // The CANCEL brought no final answer either, or none could be sent, or a sequential branch
    // never rang: the branch is over (§9.1). It counts as 487 if the caller cancelled, else 408
    // (§16.7 step 2).
    wheel_.stop(t.timers.client_retransmit);
    wheel_.stop(t.timers.client_lifetime);
    t.client_done = true;
    ++stats_.transactions_timed_out;
    const txn::transaction_ref self = transactions_->ref(t);
    relay(t, give_up_status(t), nullptr, nullptr, out);
    if (transaction* again = transactions_->at(self)) maybe_free(*again);
}

int pipeline::give_up_status(transaction& t) noexcept {
    const transaction* h = head_of(t);
    return h != nullptr && h->upstream_cancelled ? 487 : 408;
}

// ---- the response context (§16.7) -------------------------------------------------------------

namespace {

// §16.7 step 6: a 6xx first, else the lowest class, and within it the answers that tell the caller
// how to try again (credentials, a body type, an extension, more digits); then an answer a branch
// sent before one we made up ourselves (a timeout); then the lowest code. Lower is better.
int preference(int status, bool ours) noexcept {
    const bool informs = status == 401 || status == 407 || status == 415 || status == 420 || status == 484;
    const int rank = status >= 600 ? 0 : (status / 100) * 2 + (informs ? 0 : 1);
    return rank * 2000 + (ours ? 1000 : 0) + status % 1000;
}

bool is_challenge(int status) noexcept { return status == 401 || status == 407; }

std::string_view reason_of(int status) noexcept {
    switch (status) {
    case 408: return "Request Timeout";
    case 487: return "Request Terminated";
    case 500: return "Server Internal Error";
    default: return "Bad Gateway";
    }
}

} // namespace

void pipeline::relay(transaction& t, int status, const sip::header* our_via, const inbound* in, outbox& out) noexcept {
    transaction* h = head_of(t);
    const txn::transaction_ref head = h != nullptr ? transactions_->ref(*h) : txn::transaction_ref{};
    const txn::state s = h != nullptr ? h->server.current() : txn::state::terminated;
    const bool caller_waits = h != nullptr && !h->server_done && (s == txn::state::trying || s == txn::state::proceeding);
    if (status < 200) {
        if (caller_waits && our_via != nullptr && status != 100) (void)forward_up(*h, status, *our_via, in, out);
        return;
    }
    if (status < 300) {
        if (hide_ && t.invite && our_via != nullptr && !t.accepted) {
            // Hiding: its retransmissions follow until Timer L (RFC 6026 §7.1), on the slot's Timer C
            // handle (C means nothing once a final answer came).
            t.accepted = true;
            wheel_.stop(t.timers.timer_c);
            t.timers.timer_c = wheel_.schedule(now_ns_ + 64 * config_->t1_ns, cookie(t, timer_owner::proxy, txn::timer::L));
        }
        if (h != nullptr) end_search(*h, &t, out);  // step 10: the other branches are cancelled
        // Step 5: every 2xx goes to the caller, through the head while it waits, else as it is.
        if (our_via != nullptr && caller_waits) {
            if (t.invite && now_ns_ > t.received_ns) stats_.call_setup.record(now_ns_ - t.received_ns);
            track_dialog(t, status);
            if (!forward_up(*h, status, *our_via, in, out)) keep_own_answer(*h, 502);  // may free h
        } else if (our_via != nullptr) {
            if (unhide(t, *our_via)) {
                ++stats_.forwarded_responses[status_class(status)];
                track_dialog(t, status);
                send_edited(t.upstream, t.upstream_transport, out);
            } else {
                stats_.count_drop(drop_cause::no_route);
            }
        }
    } else if (caller_waits) {
        if (our_via == nullptr) keep_own_answer(*h, status);
        else keep_answer(*h, status, *our_via);
        if (status >= 600) end_search(*h, &t, out);  // step 5: a 6xx ends the search
    }
    if (t.branch_over) return;
    t.branch_over = true;
    h = h != nullptr ? transactions_->at(head) : nullptr;
    if (h == nullptr || --h->branches_open != 0) return;
    // Every branch started is over: the next one of a sequential fork, or the best answer (step 6).
    if (!h->search_over)
        if (transaction* next = next_unstarted(*h)) return start_branch(*h, *next, out);
    send_best(*h, in, out);
}

bool pipeline::unhide(const transaction& t, const sip::header& our_via) noexcept {
    if (t.hidden.empty()) {
        (void)editor_.remove(sip::first_value_span(editor_.original(), our_via));
        return true;
    }
    // Our Contact URIs in it face the caller: the side its request came in by.
    const listen_point* side = identity_.local_for(t.upstream_transport, t.upstream.family, nullptr);
    return side != nullptr &&
           hide_response(msg_, editor_, identity_, *side, transactions_->store().view(t.hidden), our_via);
}

bool pipeline::forward_up(transaction& h, int status, const sip::header& our_via, const inbound* in, outbox& out) noexcept {
    if (!unhide(h, our_via)) return false;
    // The response sent upstream is kept to answer a retransmitted request.
    txn::message_store& store = transactions_->store();
    store.release(h.response);
    char* copy = store.allocate(editor_.size(), h.response);
    if (copy == nullptr) return false;
    (void)editor_.serialize({copy, editor_.size()});
    ++stats_.forwarded_responses[status_class(status)];
    if (in != nullptr) tag(*in, latency_of_response(status));
    note_final(h, status);
    apply_server(h, h.server.on_send(status), out);  // may free h
    return true;
}

void pipeline::keep_own_answer(transaction& h, int status) noexcept {
    if (h.best_status != 0 && preference(h.best_status, h.best.empty()) <= preference(status, true)) return;
    transactions_->store().release(h.best);
    h.best_status = static_cast<std::uint16_t>(status);
}

void pipeline::keep_answer(transaction& h, int status, const sip::header& our_via) noexcept {
    txn::message_store& store = transactions_->store();
    if (!unhide(h, our_via)) return keep_own_answer(h, status);  // the caller hears it from us
    const bool better = h.best_status == 0 || preference(status, false) < preference(h.best_status, h.best.empty());
    if (!better) {
        // Step 7: the challenges of every 401 and 407 go to the caller in the answer chosen.
        if (is_challenge(status) && is_challenge(h.best_status) && !h.best.empty()) merge_challenges(h, msg_, editor_.original());
        return;
    }
    txn::stored kept;
    char* copy = store.allocate(editor_.size(), kept);
    if (copy == nullptr) return keep_own_answer(h, 502);  // the caller still gets a final answer
    (void)editor_.serialize({copy, editor_.size()});
    if (is_challenge(status) && is_challenge(h.best_status) && !h.best.empty()) {
        // The new best takes the challenges of the one it replaces.
        const std::string_view old = store.view(h.best);
        if (sip::parse(old, aux_, aux_slots_).ok()) {
            std::swap(h.best, kept);
            merge_challenges(h, aux_, old);
            std::swap(h.best, kept);
        }
    }
    store.release(h.best);
    h.best = kept;
    h.best_status = static_cast<std::uint16_t>(status);
}

void pipeline::merge_challenges(transaction& h, const sip::message& from, std::string_view from_text) noexcept {
    // The kept answer with `from`'s WWW-Authenticate and Proxy-Authenticate lines added before its
    // blank line; unchanged when they do not fit.
    txn::message_store& store = transactions_->store();
    const std::string_view kept = store.view(h.best);
    const std::size_t end = kept.find("\r\n\r\n");
    if (end == std::string_view::npos) return;
    core::text_writer w({scratch_.get(), txn::message_store::max_message});
    w.put(kept.substr(0, end + 2));
    std::size_t added = 0;
    for (const sip::header& hd : from.headers)
        if (hd.id == sip::header_id::www_authenticate || hd.id == sip::header_id::proxy_authenticate) {
            w.put(sip::header_line(from_text, hd));
            ++added;
        }
    w.put(kept.substr(end + 2));
    if (added == 0 || !w.ok()) return;
    txn::stored merged;
    if (!store.put(w.view(), merged)) return;
    store.release(h.best);
    h.best = merged;
}

void pipeline::send_best(transaction& h, const inbound* in, outbox& out) noexcept {
    const txn::state s = h.server.current();
    if (h.server_done || (s != txn::state::trying && s != txn::state::proceeding)) return;
    int status = h.best_status != 0 ? h.best_status : 408;
    // Step 6: a 503 would tell the caller that we are unavailable; it gets 500.
    if (status == 503) status = 500;
    if (h.best.empty() || status != h.best_status) {
        // One we answer ourselves, read back from what we forwarded (may free h).
        if (read_request(h)) respond(h, aux_, true, status, reason_of(status), {}, out);
        else end_unanswered(h, status);
        return;
    }
    txn::message_store& store = transactions_->store();
    store.release(h.response);
    h.response = std::exchange(h.best, txn::stored{});
    h.best_status = 0;
    ++stats_.forwarded_responses[status_class(status)];
    if (in != nullptr) tag(*in, latency_of_response(status));
    note_final(h, status);
    apply_server(h, h.server.on_send(status), out);  // may free h
}

void pipeline::end_search(transaction& h, const transaction* except, outbox& out) noexcept {
    h.search_over = true;
    cancel_branch(h, except, out);
    for (std::size_t i = 0; i < h.fork_count; ++i) {
        transaction* b = transactions_->at(h.forks[i]);
        if (b == nullptr) continue;
        if (!b->client_started) {  // a sequential branch never tried: nothing to cancel
            --stats_.transactions_active;
            transactions_->erase(*b);
            continue;
        }
        cancel_branch(*b, except, out);
    }
}

void pipeline::cancel_branch(transaction& b, const transaction* except, outbox& out) noexcept {
    // §9.1 and §16.10: only an INVITE is cancelled, and only once a provisional response came back.
    if (&b == except || !b.invite || !b.client_started || b.client_done || b.cancel_sent) return;
    if (b.provisional_seen) send_cancel(b, out);
    else b.cancel_pending = true;
}

void pipeline::track_dialog(const transaction& t, int status) noexcept {
    // msg_ is the final answer being forwarded.
    const sip::message& m = msg_;
    if (t.invite && t.initial && status >= 200 && status < 300) {
        const dialog_tracker::ref d = dialogs_->create(m.call_id, m.from.tag, m.to.tag);
        if (d.d == nullptr) return;  // known (a 2xx retransmitted through a new branch) or no room
        d.d->timeout = wheel_.schedule(now_ns_ + config_->dialog_timeout_ns,
                                       make_cookie(d.generation, d.slot, timer_owner::proxy, txn::timer::dialog));
        ++stats_.dialogs_created;
        ++stats_.dialogs_active;
    } else if (m.cseq.method == sip::method::bye && status >= 200) {
        const dialog_tracker::ref d = dialogs_->find(m.call_id, m.from.tag, m.to.tag);
        if (d.d == nullptr) return;
        wheel_.stop(d.d->timeout);
        if (dialogs_->erase(d.slot, d.generation)) {
            --stats_.dialogs_active;
            ++stats_.dialogs_ended;
        }
    }
}

void pipeline::refresh_dialog() noexcept {
    const dialog_tracker::ref d = dialogs_->find(msg_.call_id, msg_.from.tag, msg_.to.tag);
    if (d.d == nullptr) return;
    wheel_.stop(d.d->timeout);
    d.d->timeout = wheel_.schedule(now_ns_ + config_->dialog_timeout_ns,
                                   make_cookie(d.generation, d.slot, timer_owner::proxy, txn::timer::dialog));
}

void pipeline::note_final(transaction& t, int status) noexcept {
    if (status < 200 || t.final_sent) return;
    t.final_sent = true;
    --stats_.transactions_pending;
}

void pipeline::end_unanswered(transaction& t, int status) noexcept {
    note_final(t, status);
    t.server_done = true;
    maybe_free(t);
}

// A transaction keeps only the copies it may still send or read: the forwarded request until its
// branch has its final answer (retransmissions, CANCEL, our 408/487/502 are built from it), the
// response while the server side can be asked again.
void pipeline::trim(transaction& t) noexcept {
    const bool branch_open = t.client_started && !t.client_done &&
                             (t.client.current() == txn::state::calling || t.client.current() == txn::state::trying ||
                              t.client.current() == txn::state::proceeding);
    if (!branch_open && t.final_sent) transactions_->store().release(t.request);
    if (t.server_done) transactions_->store().release(t.response);
}

void pipeline::maybe_free(transaction& t) noexcept {
    if (!t.finished()) {
        trim(t);
        return;
    }
    if (t.accepted && !t.linger_done) {  // hiding: kept for the 2xx retransmissions until Timer L
        trim(t);
        return;
    }
    wheel_.stop(t.timers.server_retransmit);
    wheel_.stop(t.timers.server_lifetime);
    wheel_.stop(t.timers.client_retransmit);
    wheel_.stop(t.timers.client_lifetime);
    wheel_.stop(t.timers.cancel_retransmit);
    wheel_.stop(t.timers.cancel_lifetime);
    wheel_.stop(t.timers.timer_c);
    --stats_.transactions_active;
    note_final(t, 200);  // one freed without a final answer (a timeout that could not be answered)
    transactions_->erase(t);
}

pipeline::transaction* pipeline::from_branch(std::string_view branch) noexcept {
    std::uint32_t slot = 0, generation = 0;
    return txn::branch_transaction(branch, slot, generation) ? transactions_->at(slot, generation) : nullptr;
}

void pipeline::send_cancel(transaction& t, outbox& out) noexcept {
    txn::message_store& store = transactions_->store();
    if (t.cancel_request.empty()) {  // built once from the INVITE as forwarded, then kept for Timer E
        if (!read_request(t)) return;
        std::array<char, 2048> msg{};
        const std::size_t n = txn::write_hop_request(aux_, "CANCEL", {}, msg);
        if (n == 0 || !store.put({msg.data(), n}, t.cancel_request)) return;
    }
    send_stored(t.cancel_request, t.downstream, t.downstream_transport, out);
    if (!t.cancel_sent) {  // the first time: its own transaction retransmits it on Timer E until F
        t.cancel_sent = true;
        t.cancel = txn::client_transaction(false, t.downstream_transport != sip::transport::udp, timers());
        arm(t, timer_owner::cancel, t.cancel.start());
        // §9.1: with no final answer 64*T1 after the CANCEL, the INVITE is given up.
        arm_timer_c(t, 64 * config_->t1_ns);
    }
}

void pipeline::send_ack(transaction& t, outbox& out) noexcept {
    // msg_ holds the 300-699 response: its To carries the callee's tag. The ACK is built once and
    // kept: a retransmitted answer (Timer D) is ACKed again from it.
    txn::message_store& store = transactions_->store();
    if (t.ack.empty()) {
        const sip::header* to = msg_.find(sip::header_id::to);
        if (to == nullptr || !read_request(t)) return;
        std::array<char, 2048> msg{};
        const std::size_t n = txn::write_hop_request(aux_, "ACK", to->value, msg);
        if (n == 0 || !store.put({msg.data(), n}, t.ack)) return;
    }
    send_stored(t.ack, t.downstream, t.downstream_transport, out);
}

void pipeline::on_timer(std::uint64_t c, outbox& out) noexcept {
    const auto generation = static_cast<std::uint32_t>(c >> 32);
    const auto slot = static_cast<std::uint32_t>((c >> 6) & slot_mask);
    const auto owner = static_cast<timer_owner>((c >> 4) & 3);
    const auto which = static_cast<txn::timer>(c & 15);
    if (which == txn::timer::dialog) {  // silence: the dialog is over (its end was never seen)
        if (dialogs_->erase(slot, generation)) {
            --stats_.dialogs_active;
            ++stats_.dialogs_timed_out;
        }
        return;
    }
    transaction* t = transactions_->at(slot, generation);
    if (t == nullptr) return;
    // The handle of the timer that fired is forgotten while its node is in the cache: kept, it
    // would be read again when the transaction is freed, seconds later, a cache miss then.
    if (core::timer_handle& fired = t->timers.of(owner, which); !wheel_.pending(fired)) fired = {};
    switch (owner) {
    case timer_owner::server: apply_server(*t, t->server.on_timer(which), out); break;
    case timer_owner::client: {
        txn::actions a = t->client.on_timer(which);
        if (t->originated && a.send_request) a.send_request = notify_may_go(*t, true);
        apply_client(*t, a, out);
        break;
    }
    case timer_owner::cancel: {
        const txn::actions a = t->cancel.on_timer(which);
        if (a.send_request) send_stored(t->cancel_request, t->downstream, t->downstream_transport, out);
        apply_cancel(*t, a);
        break;
    }
    case timer_owner::proxy:
        if (which == txn::timer::L) {
            t->linger_done = true;
            maybe_free(*t);
        } else {
            on_timer_c(*t, out);
        }
        break;
    }
}

void pipeline::on_tick(std::uint64_t now_ns, outbox& out) noexcept {
    if (!transactions_) return;
    if (now_ns > now_ns_) now_ns_ = now_ns;
    wheel_.advance(now_ns, [&](std::uint64_t c) { on_timer(c, out); });
    poll_subscriptions(out);
}

} // namespace sipfast::proxy
