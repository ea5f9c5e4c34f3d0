// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/reg_event.hpp"

#include <new>
#include <string>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/response.hpp"
#include "sipfast/proxy/stages/validate.hpp"
#include "sipfast/registrar/aliases.hpp"
#include "sipfast/registrar/aor.hpp"
#include "sipfast/sip/params.hpp"

namespace sipfast::proxy {

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// The event package of the first Event value, without parameters (RFC 6665 §8.2.1); empty when
/// the request has none.
std::string_view event_package(const sip::message& m) noexcept {
    std::string_view package;
    m.for_each_value(sip::header_id::event, [&](std::string_view v) {
        package = trim(v.substr(0, v.find(';')));
        return false;
    });
    return package;
}

/// The key of the address-of-record `u` stands for: an alias's, else its own; empty when none.
bool aor_key_of(const request_context& ctx, const sip::uri& u, core::text_writer& key) noexcept {
    if (const registrar::alias_map* aliases = ctx.local.config().aliases.get())
        if (const std::string_view aor = aliases->aor_of(u); !aor.empty()) {
            key.put(aor);
            return key.ok();
        }
    return registrar::write_aor(u, key);
}

bool is_alias(const request_context& ctx, const sip::uri& u) noexcept {
    const registrar::alias_map* aliases = ctx.local.config().aliases.get();
    return aliases != nullptr && !aliases->aor_of(u).empty();
}

/// The rule of serve_reg_subscribe's comment.
bool may_watch(const request_context& ctx, std::string_view aor, const registrar::binding_list& bindings,
               std::uint64_t now_ns) noexcept {
    const auth_config& a = ctx.local.config().auth;
    if (a.mode == auth_mode::none || !a.users) return true;
    if (ctx.local.config().vouches_for(ctx.in.source)) return true;
    if (!ctx.authenticated_user.empty()) {
        const sip::name_addr* from_value = ctx.m.from.get();  // decoded when the digest was checked
        core::text<256> from;
        if (from_value != nullptr && aor_key_of(ctx, from_value->address, from) && from.view() == aor) return true;
    }
    if (ctx.m.has(sip::header_id::record_route) || !bindings) return false;
    for (const registrar::binding& b : *bindings)
        if (b.live(now_ns) && b.received.transport == ctx.in.transport() && b.received.source == ctx.in.source) return true;
    return false;
}

/// Our 200's lines: Expires (RFC 6665 §4.2.1.1) and our Contact (§4.1.3: the notifier's target).
std::string_view answer_lines(const request_context& ctx, const reg_event_host& host, std::uint32_t granted) noexcept {
    core::text_writer w(host.room);
    w.put("Expires: ").number(granted).put("\r\n");
    const listen_point& side = ctx.in.local ? *ctx.in.local : ctx.local.config().listen.front();
    std::array<char, 48> host_buf{};
    w.put("Contact: <sip:").put(format_host(side.address, host_buf)).put(':').number(side.address.port);
    w.put(side.transport == sip::transport::tcp ? ";transport=tcp>\r\n" : ">\r\n");
    w.put(ctx.auth_info);
    return w.ok() ? w.view() : std::string_view{};
}

} // namespace

bool accepts_reginfo(const sip::message& m) noexcept {
    if (!m.has(sip::header_id::accept)) return true;
    bool yes = false;
    m.for_each_value(sip::header_id::accept, [&](std::string_view v) {
        const std::string_view type = trim(v.substr(0, v.find(';')));
        yes = sip::iequals(type, "application/reginfo+xml") || sip::iequals(type, "application/*") || type == "*/*";
        return !yes;
    });
    return yes;
}

verdict serve_reg_subscribe(request_context& ctx, reg_event_host& host) noexcept {
    const sip::message& m = ctx.m;
    if (m.method != sip::method::subscribe || host.store == nullptr || host.subscriptions == nullptr ||
        !ctx.local.config().serve_registrations || ctx.have_next_route)
        return verdict::next();
    const std::string_view package = event_package(m);
    const bool reg = sip::iequals(package, "reg");
    registrar::reg_subscription* known = nullptr;
    verdict refusal;
    const sip::name_addr* to = nullptr;  // decoded once the SUBSCRIBE is known to be ours to serve
    if (ctx.in_dialog()) {
        try {
            known = host.subscriptions->find(m.call_id, m.from.tag);
        } catch (const std::bad_alloc&) {
            return verdict::answer(500, "Out Of Memory", "Retry-After: 5\r\n");
        }
        if (known == nullptr || known->local_tag != m.to.tag) {
            // A dialog of ours is one whose To tag we gave (answer_tag) and no longer hold; others
            // (between two user agents) pass through.
            if (m.to.tag != answer_tag(m.call_id).view()) return verdict::next();
            return verdict::answer(481, "Subscription Does Not Exist");
        }
        if (!reg) return verdict::answer(489, "Bad Event", "Allow-Events: reg\r\n");
    } else {
        if (ctx.ruri_is_us && (to = ctx.decoded(m.to, sip::header_id::to, refusal)) == nullptr) return refusal;
        const sip::uri& target = ctx.ruri_is_us ? to->address : ctx.target;
        if (!ctx.local.is_our_domain(target.host, target.port, target.has_port) && !is_alias(ctx, target)) {
            return ctx.ruri_is_us ? verdict::answer(404, "Not Found") : verdict::next();
        }
        // RFC 6665 §8.2.1: we are the notifier of reg alone; another package to a user of ours is
        // that user's agent's to answer, and goes on.
        if (!reg) return ctx.ruri_is_us ? verdict::answer(489, "Bad Event", "Allow-Events: reg\r\n") : verdict::next();
    }
    // RFC 3261 §8.2.2.3: we are the UAS; what the SUBSCRIBE requires we must support.
    if (const verdict v = refuse_unsupported(ctx, sip::header_id::require, {}); !v.go_on()) return v;
    if (!accepts_reginfo(m)) return verdict::answer(406, "Not Acceptable", "Accept: application/reginfo+xml\r\n");

    if (to == nullptr && (to = ctx.decoded(m.to, sip::header_id::to, refusal)) == nullptr) return refusal;
    const sip::contact* contact = nullptr;
    if (m.has_contact && (contact = ctx.decoded(m.first_contact, sip::header_id::contact, refusal)) == nullptr)
        return refusal;
    const sip::uri& watched = known != nullptr || ctx.ruri_is_us ? to->address : ctx.target;
    core::text<256> aor;
    if (known != nullptr) aor.put(known->aor);
    else if (!aor_key_of(ctx, watched, aor)) return verdict::answer(404, "Not Found");
    const registrar::binding_list bindings = host.store->lookup(aor.view());
    // Known: an alias (an identity of a registration set), or an address-of-record with bindings.
    if (known == nullptr && !bindings && !is_alias(ctx, watched)) return verdict::answer(404, "Not Found");
    if (known == nullptr && !may_watch(ctx, aor.view(), bindings, host.now.monotonic_ns))
        return verdict::answer(403, "Forbidden");
    if (known == nullptr && !m.has_contact) return verdict::answer(400, "Missing Contact");

    try {
        registrar::subscribe_request r;
        r.aor = aor.view();
        // The identity as the subscriber named it: its To when that is the same one (the usual
        // case: To is the resource, without the Request-URI's port), else the Request-URI.
        core::text<256> to_key;
        r.identity = aor_key_of(ctx, to->address, to_key) && to_key.view() == aor.view() ? to->address.text : watched.text;
        r.call_id = m.call_id;
        r.from_tag = m.from.tag;
        r.to_tag = m.to.tag;
        const answer_tag local_tag(m.call_id);
        r.local_tag = local_tag.view();
        r.local_uri = m.to.text;
        r.remote_uri = m.from.text;
        r.remote_target = contact != nullptr ? contact->addr.address.text : std::string_view{};
        m.for_each_value(sip::header_id::record_route, [&](std::string_view v) {
            r.route_set.emplace_back(v);
            return true;
        });
        r.received = {ctx.in.transport(), ctx.in.source};
        r.cseq = m.cseq.number;
        r.has_expires = m.has_expires;
        r.expires_s = m.expires;
        const registrar::subscribe_result s = host.subscriptions->subscribe(r, host.now.monotonic_ns, *host.limits);
        if (s.kind == registrar::subscribe_kind::refused) {
            if (s.status == 423) {
                core::text_writer w(host.room);
                w.put("Min-Expires: ").number(host.limits->min_expires_s).put("\r\n");
                return verdict::answer(s.status, s.reason, w.view());
            }
            return verdict::answer(s.status, s.reason);
        }
        host.kind = s.kind;
        host.notify = s.kind == registrar::subscribe_kind::retransmission ? nullptr : s.sub;
        const std::string_view lines = answer_lines(ctx, host, s.granted_s);
        return verdict::answer(200, "OK", lines);
    } catch (const std::bad_alloc&) {
        return verdict::answer(500, "Out Of Memory", "Retry-After: 5\r\n");
    }
}

} // namespace sipfast::proxy
