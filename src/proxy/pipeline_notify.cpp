// SPDX-License-Identifier: Apache-2.0
// The reg event notifier's side of the pipeline (RFC 3680, RFC 6665; docs/architecture.md, "Reg
// event"): the SUBSCRIBE stage's answer and NOTIFY, the poll that turns binding changes into
// partial NOTIFYs, and the NOTIFYs' client transactions, which are the forwarded requests' own
// (Timers E and F over UDP, their answers matched by our branch).
#include <algorithm>
#include <cstring>
#include <new>

#include "sipfast/core/clock.hpp"
#include "sipfast/core/shard_hash.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/proxy/stages/reg_event.hpp"
#include "sipfast/sip/params.hpp"
#include "sipfast/txn/branch.hpp"

namespace sipfast::proxy {

namespace {

// How often a shard compares the bindings its subscriptions watch with what they last told: a
// REGISTER on any shard, or a binding lapsing, reaches the watcher within this. Each poll costs a
// lookup (a hash and a pointer copy, no lock) per subscription.
constexpr std::uint64_t poll_ns = 100'000'000;

// The largest reginfo document: a registration per identity of the set, each with every binding
// (about 0.3 kB a contact: max_bindings 10 and five identities fit with room to spare).
constexpr std::size_t max_reginfo_bytes = 48 * 1024;

bool has_tcp_param(std::string_view uri) noexcept {
    for (std::size_t i = uri.find(';'); i != std::string_view::npos; i = uri.find(';', i + 1))
        if (sip::iequals(uri.substr(i, 14), ";transport=tcp")) return true;
    return false;
}

/// Where a NOTIFY goes (RFC 3261 §12.2.1.1, §8.1.2): the first Route when the SUBSCRIBE was
/// record-routed (a URI with an address; a name we cannot resolve here falls back), else back the
/// way the SUBSCRIBE came, which is how a user agent behind NAT is reached. The route set is taken
/// only from a neighbour we configured: anyone else's Record-Route could name a victim, and its
/// NOTIFYs go back to where it is, the proxy that record-routed (whose own URI the first Route
/// normally is), or the attacker.
void next_hop(const registrar::reg_subscription& s, bool take_routes, net_address& to, sip::transport& t) noexcept {
    to = s.received.source;
    t = s.received.transport;
    if (!take_routes || s.route_set.empty()) return;
    sip::name_addr first;
    if (sip::parse_name_addr(s.route_set.front(), first) != sip::parse_error::none) return;
    net_address a;
    if (!parse_ip(first.address.host, a)) return;
    a.port = first.address.has_port ? first.address.port : std::uint16_t{5060};
    to = a;
    t = has_tcp_param(first.address.text) ? sip::transport::tcp : sip::transport::udp;
}

} // namespace

void pipeline::attach(const shared_services& s) noexcept {
    services_ = s;
    if (!subscriptions_ || services_.bindings == nullptr) return;
    try {
        for (registrar::reg_subscription& sub : services_.bindings->restored_subscriptions())
            if (core::owner_shard(sub.call_id, shards_) == shard_) (void)subscriptions_->restore(std::move(sub));
        stats_.reg_subscriptions_active = subscriptions_->size();
    } catch (const std::bad_alloc&) {
        // Those not restored lapse in the file; their subscribers subscribe again when they refresh.
    }
}

verdict pipeline::serve_subscribe(request_context& ctx, outbox& out) noexcept {
    reg_event_host host{services_.bindings, subscriptions_.get(), &config_->registrar_limits, {now_ns_, core::unix_ns()},
                        register_answer_, nullptr, registrar::subscribe_kind::refused};
    verdict v = serve_reg_subscribe(ctx, host);
    if (v.go_on()) return v;
    if (host.notify != nullptr && (host.kind == registrar::subscribe_kind::created ||
                                   host.kind == registrar::subscribe_kind::refreshed) &&
        !services_.bindings->keep_subscription(*host.notify, host.now)) {
        // As a REGISTER whose binding could not be written: nothing answered 200 is lost to a
        // restart. A refresh keeps its new expiry in this process.
        if (host.kind == registrar::subscribe_kind::created) {
            try {
                subscriptions_->erase(*host.notify);
            } catch (const std::bad_alloc&) {
            }
        }
        host.notify = nullptr;
        v = verdict::answer(503, "Service Unavailable (Subscription Not Stored)", "Retry-After: 5\r\n");
    }
    stats_.reg_subscriptions_active = subscriptions_->size();
    // RFC 6665 §4.2.1: the 200 first, then the NOTIFY that tells the state.
    refuse(ctx.in, v, out);
    if (host.notify != nullptr) after_subscribe(*host.notify, host.kind, out);
    return v;
}

void pipeline::after_subscribe(registrar::reg_subscription& s, registrar::subscribe_kind kind, outbox& out) noexcept {
    const registrar::binding_list current = services_.bindings->lookup(s.aor);
    if (kind == registrar::subscribe_kind::ended) {
        // Un-SUBSCRIBE, or a fetch: the state as it is, and the end (RFC 6665 §4.2.1.4, §4.4.3).
        registrar::full_state(current, now_ns_, reports_);
        send_notify(s, true, true, current, out);
        return end_subscription(s);
    }
    check_subscription(s, out);  // not synced: a full document
}

void pipeline::poll_subscriptions(outbox& out) noexcept {
    if (!subscriptions_ || services_.bindings == nullptr || subscriptions_->size() == 0 || now_ns_ < next_poll_ns_) return;
    next_poll_ns_ = now_ns_ + poll_ns;
    subscriptions_->each([&](registrar::reg_subscription& s) { check_subscription(s, out); });
}

void pipeline::check_subscription(registrar::reg_subscription& s, outbox& out) noexcept {
    const registrar::binding_list current = services_.bindings->lookup(s.aor);
    registrar::binding_list hold;
    registrar::poll_result r = registrar::poll_result::nothing;
    try {
        r = registrar::subscription_table::poll(s, current, now_ns_, reports_, hold);
    } catch (const std::bad_alloc&) {
        return;  // tried again at the next poll
    }
    switch (r) {
    case registrar::poll_result::nothing: return;
    case registrar::poll_result::full: return send_notify(s, true, false, current, out);
    case registrar::poll_result::partial: return send_notify(s, false, false, current, out);
    case registrar::poll_result::expired:
        send_notify(s, true, true, current, out);
        return end_subscription(s);
    }
}

void pipeline::send_notify(registrar::reg_subscription& s, bool full, bool terminated, const registrar::binding_list& current,
                           outbox& out) noexcept {
    if (!transactions_) return;
    bool live = false;
    if (current)
        for (const registrar::binding& b : *current) live = live || b.live(now_ns_);
    registrar::registration_state state = live ? registrar::registration_state::active
                                          : full ? registrar::registration_state::init
                                                 : registrar::registration_state::terminated;
    if (!notify_room_) notify_room_.reset(new (std::nothrow) char[max_reginfo_bytes]);
    if (!notify_room_) return;
    // The registration set's identities, when the watched one has an alias (TS 24.229 §5.4.2.1.2).
    // The set is the address-of-record and its aliases; the watched identity comes first.
    std::vector<std::string> set;
    if (const registrar::alias_map* aliases = config_->aliases.get())
        if (const std::vector<std::string>* identities = aliases->identities_of(s.aor)) try {
                set.reserve(identities->size() + 1);
                set.push_back("sip:" + s.aor);
                set.insert(set.end(), identities->begin(), identities->end());
            } catch (const std::bad_alloc&) {
                set.clear();  // the watched identity alone
            }
    core::text_writer body({notify_room_.get(), max_reginfo_bytes});
    const registrar::reginfo_doc doc{s.version, full, s.identity, set, state, reports_, now_ns_};
    if (!registrar::write_reginfo(body, doc)) {
        stats_.count_drop(drop_cause::outbox_full);
        s.synced = false;  // a full document at the next poll, which may fit then
        return;
    }

    net_address to;
    sip::transport tp = sip::transport::udp;
    next_hop(s, config_->vouches_for(s.received.source), to, tp);
    const listen_point* side = identity_.local_for(tp, to.family, nullptr);
    if (side == nullptr) {  // no listen point of that transport and family: nothing can carry it
        stats_.count_drop(drop_cause::no_route);
        s.synced = false;
        return;
    }
    const std::uint32_t cseq = s.local_cseq + 1;
    transaction* t = transactions_->insert(txn::transaction_key::of_branch(~std::uint32_t{0}, s.slot, ++notify_count_));
    if (t == nullptr) {
        stats_.count_drop(drop_cause::table_full);
        s.synced = false;
        return;
    }
    const txn::our_branch branch =
        txn::our_branch::stateful(shard_, t->slot, transactions_->generation(*t), {s.call_id, cseq}, 0);
    core::text_writer w({scratch_.get(), txn::message_store::max_message});
    std::array<char, 48> host_buf{};
    const std::string_view our_host = format_host(side->address, host_buf);
    const bool tcp = side->transport == sip::transport::tcp;
    // RFC 6665 §4.1.2.2 / RFC 3261 §12.2.1.1: in the dialog, to the subscriber's Contact, through
    // its route set, From us with our tag, CSeq one more each time.
    w.put("NOTIFY ").put(s.remote_target).put(" SIP/2.0\r\n");
    w.put(tcp ? "Via: SIP/2.0/TCP " : "Via: SIP/2.0/UDP ").put(our_host).put(':').number(side->address.port);
    w.put(";branch=").put(branch.text()).put(";rport\r\nMax-Forwards: 70\r\n");
    for (const std::string& r : s.route_set) w.put("Route: ").put(r).put("\r\n");
    w.put("From: ").put(s.local_uri).put(";tag=").put(s.local_tag).put("\r\n");
    w.put("To: ").put(s.remote_uri).put("\r\nCall-ID: ").put(s.call_id).put("\r\nCSeq: ").number(cseq).put(" NOTIFY\r\n");
    w.put("Contact: <sip:").put(our_host).put(':').number(side->address.port).put(tcp ? ";transport=tcp>\r\n" : ">\r\n");
    w.put("Event: reg\r\nSubscription-State: ");
    if (terminated) {
        w.put("terminated;reason=timeout\r\n");
    } else {
        const std::uint64_t left = s.expires_ns > now_ns_ ? s.expires_ns - now_ns_ : 0;
        w.put("active;expires=").number((left + 999'999'999) / 1'000'000'000).put("\r\n");
    }
    w.put("Content-Type: application/reginfo+xml\r\nContent-Length: ").number(body.size()).put("\r\n\r\n").put(body.view());
    if (!w.ok() || !transactions_->store().put(w.view(), t->request)) {
        transactions_->erase(*t);
        stats_.count_drop(drop_cause::table_full);
        s.synced = false;
        return;
    }
    s.local_cseq = cseq;
    ++s.version;
    t->originated = true;
    t->owner_slot = s.slot;
    t->owner_generation = subscriptions_->generation(s);
    t->server_done = true;  // no caller to answer
    t->final_sent = true;   // nor one waiting: not pending
    t->downstream = to;
    t->downstream_transport = tp;
    t->client = txn::client_transaction(false, tp != sip::transport::udp, timers());
    t->client_started = true;
    ++stats_.transactions_created;
    ++stats_.transactions_active;
    ++stats_.reg_notifies_sent;
    if (!terminated) {
        s.notify_in_flight = true;
        // The new CSeq and version must outlive a restart: a NOTIFY after it counts on from them.
        (void)services_.bindings->keep_subscription(s, {now_ns_, core::unix_ns()});
    }
    txn::actions a = t->client.start();
    if (a.send_request) a.send_request = notify_may_go(*t, false);
    apply_client(*t, a, out);
}

bool pipeline::notify_may_go(const transaction& t, bool retransmission) noexcept {
    // A UDP source nobody verified may be forged: a SUBSCRIBE in its name would aim a reginfo
    // document (a kilobyte or more), retransmitted eleven times over 32 s, and one more at each
    // REGISTER of the watched user, at a victim. Until the subscriber answers a NOTIFY of ours
    // there, each NOTIFY goes once, on the address's answer budget like our other answers, and an
    // unanswered one ends the subscription at Timer F (RFC 6665 §4.2.2), as a lost one would.
    if (t.downstream_transport != sip::transport::udp || config_->vouches_for(t.downstream)) return true;
    const registrar::reg_subscription* s = subscriptions_ ? subscriptions_->at(t.owner_slot, t.owner_generation) : nullptr;
    if (s != nullptr && s->reached) return true;
    if (!retransmission && limiter_.charge_answer(t.downstream, transactions_->store().view(t.request).size(), now_ns_))
        return true;
    stats_.count_drop(drop_cause::answer_limited);
    return false;
}

void pipeline::end_subscription(registrar::reg_subscription& s) noexcept {
    services_.bindings->drop_subscription(s.call_id, s.remote_tag);
    try {
        subscriptions_->erase(s);
    } catch (const std::bad_alloc&) {
    }
    stats_.reg_subscriptions_active = subscriptions_->size();
    ++stats_.reg_subscriptions_ended;
}

void pipeline::on_notify_answer(transaction& t, int status, bool heard, outbox& out) noexcept {
    if (!subscriptions_) return;
    registrar::reg_subscription* s = subscriptions_->at(t.owner_slot, t.owner_generation);
    if (s == nullptr) return;  // ended meanwhile
    // An answer is taken only from where the NOTIFY went (on_response), with our branch: that
    // address is the subscriber's, or its proxy's, until a refresh comes from elsewhere.
    if (heard) s->reached = true;
    if (registrar::subscription_table::answered(*s, status)) return end_subscription(*s);
    // What changed while this NOTIFY was out goes now, not at the next poll.
    check_subscription(*s, out);
}

} // namespace sipfast::proxy
