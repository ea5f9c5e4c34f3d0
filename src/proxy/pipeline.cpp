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
#include "sipfast/proxy/stages/authenticate.hpp"
#include "sipfast/proxy/stages/forward.hpp"
#include "sipfast/proxy/stages/local_route.hpp"
#include "sipfast/proxy/stages/local_services.hpp"
#include "sipfast/proxy/stages/registrar_service.hpp"
#include "sipfast/proxy/stages/target.hpp"
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
bool next_via(const sip::message& m, const sip::header& first, sip::via& next) noexcept {
    std::string_view rest;
    sip::via tmp;
    (void)sip::parse_via(first.value, tmp, &rest);
    if (!rest.empty()) return sip::parse_via(rest, next, &rest) == sip::parse_error::none;
    for (const sip::header& h : m.headers)
        if (h.id == sip::header_id::via && &h != &first) return sip::parse_via(h.value, next, &rest) == sip::parse_error::none;
    return false;
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
      // Every timer a slot may hold, and one per dialog.
      wheel_(transactions_ ? transactions_->capacity() * txn::transaction_table::timers_per_slot + config.dialogs_per_shard : 1,
             1'000'000, now_ns),
      aux_slots_(sip::default_header_slots),
      scratch_(new char[txn::message_store::max_message + txn::message_store::padding]) {}

pipeline::~pipeline() = default;

void pipeline::reconfigure(const proxy_config& config) noexcept {
    // Table sizes and the mode stay (the daemon refuses a reload that changes them); everything
    // else is read from the config as each message is handled.
    config_ = &config;
    identity_.reconfigure(config);
    configured_locations_ = static_locations(config.locations);
    if (own_locations_) locations_ = &configured_locations_;
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
        if (n != 0) {
            out.commit(in.source, in.transport(), n);
            ++stats_.replied[status_class(status)];
        }
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
    out.commit(answer_address(in), in.transport(), n);
    ++stats_.replied[status_class(status)];
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
    if (msg_.method != sip::method::ack) reply(in, v.status, v.reason, v.extra, out);
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
    // Stopping: calls in progress go on, new ones are sent elsewhere (RFC 3261 §21.5.4).
    verdict v = draining_ && !ctx.in_dialog() && !ack && m.method != sip::method::cancel
                    ? verdict::answer(503, "Service Unavailable", "Retry-After: 30\r\n")
                    : verdict::next();
    if (v.go_on()) v = validate(ctx);
    if (v.go_on()) v = route_locally(ctx);
    if (v.go_on()) v = serve_locally(ctx);
    if (v.go_on()) v = authenticate(ctx, {services_.nonces, services_.nonce_counts, now_ns_, auth_answer_});
    // Only a REGISTER reads the wall clock (its 200's Date).
    if (v.go_on() && m.method == sip::method::register_)
        v = serve_register(ctx, {services_.bindings, &config_->registrar_limits, {now_ns_, core::unix_ns()},
                                 register_answer_});
    if (v.go_on()) v = resolve_target(ctx, *locations_, config_->serve_registrations ? services_.bindings : nullptr, now_ns_);
    if (!v.go_on()) return refuse(in, v, out);
    // ACK (of a 2xx: end to end) and a CANCEL matching no INVITE here go on without state (§16.10).
    if (transactions_ && !ack && m.method != sip::method::cancel) forward_statefully(ctx, *key, out);
    else forward_statelessly(ctx, out);
}

void pipeline::forward_statelessly(request_context& ctx, outbox& out) noexcept {
    const txn::our_branch branch = txn::our_branch::stateless(shard_, request_hash(ctx.m), ctx.loop_hash);
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
        if (!key.valid()) return forward_statelessly(ctx, out);  // too long to keep state for
        return refuse(in, verdict::answer(503, "Service Unavailable", "Retry-After: 5\r\n", drop_cause::table_full), out);
    }
    const txn::our_branch branch = txn::our_branch::stateful(shard_, t->slot, transactions_->generation(*t), ctx.loop_hash);
    verdict v = forward(ctx, branch.text());
    // The forwarded request is kept for retransmission, CANCEL, ACK and our own answers.
    char* copy = v.go_on() ? transactions_->store().allocate(editor_.size(), t->request) : nullptr;
    if (v.go_on() && copy == nullptr)
        v = verdict::answer(503, "Service Unavailable", "Retry-After: 5\r\n", drop_cause::table_full);
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
    ++stats_.transactions_created;
    ++stats_.transactions_active;
    ++stats_.transactions_pending;
    ++stats_.forwarded_requests[static_cast<std::size_t>(m.method)];
    if (dialogs_ && ctx.in_dialog()) refresh_dialog();
    // §16.2: an INVITE that goes on is answered 100 Trying at once.
    if (t->invite) respond(*t, m, false, 100, "Trying", {}, out);
    t->downstream = ctx.destination;
    t->downstream_transport = ctx.transport;
    t->client = txn::client_transaction(t->invite, ctx.transport != sip::transport::udp, timers());
    t->client_started = true;
    if (t->invite) arm_timer_c(*t, config_->timer_c_ns);
    t->received_ns = in.received_ns;
    tag(in, latency_of_request(m.method));
    apply_client(*t, t->client.start(), out);
}

bool pipeline::match_transaction(const inbound& in, const txn::transaction_key& key, outbox& out) noexcept {
    const sip::message& m = msg_;
    const bool ack = m.method == sip::method::ack;
    // §17.2.3: a request matches a server transaction by branch, sent-by and method, ACK counting
    // as INVITE.
    if (transaction* found = transactions_->find(key)) {
        ++stats_.retransmissions_absorbed;
        apply_server(*found, ack ? found->server.on_ack() : found->server.on_retransmission(), out);
        return true;
    }
    if (m.method != sip::method::cancel) return false;
    transaction* inv = transactions_->find(txn::transaction_key(m, "INVITE"));
    if (inv == nullptr) return false;  // §16.10: no matching INVITE here, forward it statelessly
    reply(in, 200, "OK", {}, out);     // §16.10: the CANCEL is answered at once
    inv->upstream_cancelled = true;
    if (!inv->server_done && inv->client_started && !inv->client_done && !inv->cancel_sent) {
        // §9.1: a CANCEL may be sent only once a provisional response has come back.
        if (inv->provisional_seen) send_cancel(*inv, out);
        else inv->cancel_pending = true;
    }
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
    const sip::header* first = m.find(sip::header_id::via);
    sip::via next;
    const bool have_next = next_via(m, *first, next);
    if (transactions_) {
        if (transaction* t = from_branch(ours.branch)) {
            if (m.cseq.method == sip::method::cancel) {  // the answer to our CANCEL ends here
                apply_cancel(*t, t->cancel.on_response(m.status_code));
                return;
            }
            const int status = m.status_code;
            const txn::actions a = t->client.on_response(status);
            if (a.send_ack) send_ack(*t, out);
            if (!a.pass_up) {
                ++stats_.retransmissions_absorbed;
                apply_client(*t, a, out);
                return;
            }
            if (status < 200) {
                t->provisional_seen = true;
                if (t->invite && !t->cancel_sent) arm_timer_c(*t, config_->timer_c_ns);  // reset by each 1xx
            }
            const bool cancel_now = t->cancel_pending && status < 200 && !t->cancel_sent;
            const txn::state s = t->server.current();
            bool forward = false, too_large = false;
            if (!have_next) {  // §16.7 step 3: meant for us (no Via left), never forwarded
                stats_.count_drop(drop_cause::not_ours);
            } else if (status != 100 && (s == txn::state::trying || s == txn::state::proceeding)) {
                (void)editor_.remove(sip::first_value_span(editor_.original(), *first));
                // The response sent upstream is kept to answer a retransmitted request.
                txn::message_store& store = transactions_->store();
                store.release(t->response);
                if (char* copy = store.allocate(editor_.size(), t->response)) {
                    (void)editor_.serialize({copy, editor_.size()});
                    forward = true;
                } else {
                    too_large = status >= 200;  // the caller still gets a final answer
                }
            }
            apply_client(*t, a, out);  // frees nothing: the server side is still open
            if (cancel_now) {
                t->cancel_pending = false;
                send_cancel(*t, out);
            }
            if (too_large && read_request(*t)) {
                respond(*t, aux_, true, 502, "Response Too Large To Relay", {}, out);  // may free t
                return;
            }
            if (forward) {
                ++stats_.forwarded_responses[status_class(status)];
                if (t->invite && status >= 200 && status < 300 && now_ns_ > t->received_ns)
                    stats_.call_setup.record(now_ns_ - t->received_ns);
                tag(in, latency_of_response(status));
                track_dialog(*t, status);
                note_final(*t, status);
                apply_server(*t, t->server.on_send(status), out);  // may free t
                return;
            }
            trim(*t);
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
    const std::size_t n = write_response(request, status, reason, tag.view(), extra, {scratch_.get(), txn::message_store::max_message},
                                         our_via_on_top, our_via_on_top ? nullptr : &t.upstream);
    txn::message_store& store = transactions_->store();
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
        if (status >= 200) {
            note_final(t, status);
            t.server_done = true;
            maybe_free(t);
        }
        return;
    }
    ++stats_.replied[status_class(status)];
    note_final(t, status);
    apply_server(t, t.server.on_send(status), out);
}

void pipeline::arm(transaction& t, timer_owner owner, const txn::actions& a) noexcept {
    core::timer_handle& retransmit = t.timers.retransmit(owner);
    core::timer_handle& lifetime = t.timers.lifetime(owner);
    if (a.stop_retransmit) wheel_.cancel(retransmit);
    if (a.retransmit != txn::timer::none) {
        wheel_.cancel(retransmit);
        retransmit = wheel_.schedule(now_ns_ + a.retransmit_in_ns, cookie(t, owner, a.retransmit));
    }
    if (a.lifetime != txn::timer::none) {
        wheel_.cancel(lifetime);
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
        // §16.7 step 2 / §16.8: a branch that times out is a 408 for the client, if nothing final
        // went back yet. The request is read back from what we forwarded.
        const txn::state s = t.server.current();
        if (!t.server_done && (s == txn::state::trying || s == txn::state::proceeding) && read_request(t)) {
            respond(t, aux_, true, 408, "Request Timeout", {}, out);
            return;  // respond() may have freed t
        }
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
    wheel_.cancel(t.timers.timer_c);
    t.timers.timer_c = wheel_.schedule(now_ns_ + in_ns, cookie(t, timer_owner::proxy, txn::timer::C));
}

void pipeline::on_timer_c(transaction& t, outbox& out) noexcept {
    if (t.server_done || t.client_done) return;  // answered meanwhile
    if (t.provisional_seen && !t.cancel_sent) {
        send_cancel(t, out);  // rearms C for 64*T1
        return;
    }
    // The CANCEL brought no final answer either: the branch is over (§9.1). The caller gets 487 if
    // it cancelled, else 408 (§16.7 step 2), read back from what we forwarded.
    wheel_.cancel(t.timers.client_retransmit);
    wheel_.cancel(t.timers.client_lifetime);
    t.client_done = true;
    ++stats_.transactions_timed_out;
    const txn::state s = t.server.current();
    if ((s == txn::state::trying || s == txn::state::proceeding) && read_request(t)) {
        if (t.upstream_cancelled) respond(t, aux_, true, 487, "Request Terminated", {}, out);
        else respond(t, aux_, true, 408, "Request Timeout", {}, out);
        return;  // respond() may have freed t
    }
    maybe_free(t);
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
        wheel_.cancel(d.d->timeout);
        if (dialogs_->erase(d.slot, d.generation)) {
            --stats_.dialogs_active;
            ++stats_.dialogs_ended;
        }
    }
}

void pipeline::refresh_dialog() noexcept {
    const dialog_tracker::ref d = dialogs_->find(msg_.call_id, msg_.from.tag, msg_.to.tag);
    if (d.d == nullptr) return;
    wheel_.cancel(d.d->timeout);
    d.d->timeout = wheel_.schedule(now_ns_ + config_->dialog_timeout_ns,
                                   make_cookie(d.generation, d.slot, timer_owner::proxy, txn::timer::dialog));
}

void pipeline::note_final(transaction& t, int status) noexcept {
    if (status < 200 || t.final_sent) return;
    t.final_sent = true;
    --stats_.transactions_pending;
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
    wheel_.cancel(t.timers.server_retransmit);
    wheel_.cancel(t.timers.server_lifetime);
    wheel_.cancel(t.timers.client_retransmit);
    wheel_.cancel(t.timers.client_lifetime);
    wheel_.cancel(t.timers.cancel_retransmit);
    wheel_.cancel(t.timers.cancel_lifetime);
    wheel_.cancel(t.timers.timer_c);
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
    switch (owner) {
    case timer_owner::server: apply_server(*t, t->server.on_timer(which), out); break;
    case timer_owner::client: apply_client(*t, t->client.on_timer(which), out); break;
    case timer_owner::cancel: {
        const txn::actions a = t->cancel.on_timer(which);
        if (a.send_request) send_stored(t->cancel_request, t->downstream, t->downstream_transport, out);
        apply_cancel(*t, a);
        break;
    }
    case timer_owner::proxy: on_timer_c(*t, out); break;
    }
}

void pipeline::on_tick(std::uint64_t now_ns, outbox& out) noexcept {
    if (!transactions_) return;
    if (now_ns > now_ns_) now_ns_ = now_ns;
    wheel_.advance(now_ns, [&](std::uint64_t c) { on_timer(c, out); });
}

} // namespace sipfast::proxy
