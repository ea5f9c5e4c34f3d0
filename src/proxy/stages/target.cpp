// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/target.hpp"

#include "sipfast/core/text_writer.hpp"
#include "sipfast/registrar/aor.hpp"
#include "sipfast/sip/params.hpp"

namespace sipfast::proxy {

namespace {

// The destination of a URI whose host is a literal address (no DNS on the fast path).
bool uri_destination(const sip::uri& u, net_address& out) noexcept {
    if (u.host_type != sip::host_kind::ipv4 && u.host_type != sip::host_kind::ipv6) return false;
    if (!parse_ip(u.host, out)) return false;
    out.port = u.has_port ? u.port : std::uint16_t{5060};
    return true;
}

// The transport a URI's transport= parameter names, or `otherwise` when it has none.
sip::transport uri_transport(const sip::uri& u, sip::transport otherwise) noexcept {
    const sip::param p = u.params.find("transport");
    return p.name.empty() ? otherwise : sip::classify_transport(p.value);
}

// The Request-URI itself; an in-dialog request's remote target names no transport when our own
// Route did (RFC 5658).
verdict to_request_uri(request_context& ctx) noexcept {
    if (!uri_destination(ctx.target, ctx.destination))
        return verdict::answer(503, "Destination Not Resolvable", {}, drop_cause::no_route);
    ctx.transport = uri_transport(ctx.target, ctx.left_by == sip::transport::unknown ? sip::transport::udp : ctx.left_by);
    return verdict::next();
}

// A registered contact as a branch target (§16.5). With a Path (RFC 3327) the request takes the
// route the REGISTER came by: the Path values become its Route and it goes to the first of them.
// Otherwise it goes back the way the REGISTER came (RFC 5626 §5.3, RFC 3581) when the contact cannot
// be reached directly: over TCP (the connection it opened), with ;ob, a contact that is not an
// address, or a private one the REGISTER did not come from (a NAT in between). False when the
// binding cannot be reached at all.
bool to_binding(request_context& ctx, const registrar::binding& b, branch_target& out) noexcept {
    sip::uri contact;
    if (sip::parse_uri(b.contact, contact) != sip::parse_error::none) return false;
    out.new_ruri = b.contact;  // ctx.held keeps the binding alive as long as the request
    out.route = {};
    if (!b.path.empty()) {
        sip::name_addr first;
        if (sip::parse_name_addr(b.path.front(), first) != sip::parse_error::none ||
            !uri_destination(first.address, out.destination))
            return false;
        core::text<1024> line;
        line.put("Route: ");
        for (std::size_t i = 0; i < b.path.size(); ++i) line.put(i == 0 ? "" : ", ").put(b.path[i]);
        line.put("\r\n");
        out.route = line.ok() ? ctx.editor.keep({line.view()}, ctx.err) : std::string_view{};
        out.transport = uri_transport(first.address, sip::transport::udp);
        return !out.route.empty();
    }
    net_address direct;
    const bool literal = uri_destination(contact, direct);
    const bool nat = literal && is_private(direct) && direct.ip != b.received.source.ip;
    if (b.received.transport != sip::transport::udp || contact.params.has("ob") || !literal || nat) {
        out.destination = b.received.source;
        out.transport = b.received.transport;
        return true;
    }
    out.destination = direct;
    out.transport = uri_transport(contact, sip::transport::udp);
    return true;
}

// Our side toward a target, null when we have none for its transport and family.
bool leave_toward(request_context& ctx, branch_target& b) noexcept {
    if (b.transport != sip::transport::udp && b.transport != sip::transport::tcp) return false;
    b.leave = ctx.local.local_for(b.transport, b.destination.family, ctx.in.local);
    return b.leave != nullptr;
}

// The registrar's bindings for the target, or for the address-of-record an alias of it reaches
// ([[alias]]: tel:1012 reaching an IMSI identity's bindings): next() with found set and a target per
// live binding, best first (the first in ctx, the others of a fork in ctx.more); 480 when the user has
// bindings and none is live or reachable.
verdict lookup_bindings(request_context& ctx, const registrar::location_store& bindings, std::uint64_t now_ns,
                        bool& found) noexcept {
    core::text<256> own;
    std::string_view aor;
    if (const registrar::alias_map* aliases = ctx.local.config().aliases.get()) aor = aliases->aor_of(ctx.target);
    if (aor.empty()) {
        if (ctx.target.scheme == sip::uri_scheme::tel || !registrar::write_aor(ctx.target, own)) return verdict::next();
        aor = own.view();
    }
    ctx.held = bindings.lookup(aor);
    if (!ctx.held) return verdict::next();
    found = true;
    // A request within a dialog or a CANCEL never forks; ACK and CANCEL never reach here initially.
    const std::size_t limit = ctx.in_dialog() ? 1 : max_branches;
    std::size_t targets = 0;
    for (const registrar::binding& b : *ctx.held) {
        if (targets == limit) break;
        branch_target t;
        if (!b.live(now_ns) || !to_binding(ctx, b, t) || !leave_toward(ctx, t)) continue;
        if (targets == 0) ctx.aim(t);
        else ctx.more[ctx.more_count++] = t;
        ++targets;
    }
    if (targets == 0) return verdict::answer(480, "Temporarily Unavailable");
    return verdict::next();
}

verdict resolve(request_context& ctx, const location_service& locations, const registrar::location_store* bindings,
                std::uint64_t now_ns) noexcept {
    if (ctx.have_next_route) {
        if (!uri_destination(ctx.next_route.address, ctx.destination))
            return verdict::answer(503, "Route Not Resolvable", {}, drop_cause::no_route);
        ctx.transport = uri_transport(ctx.next_route.address, sip::transport::udp);
        return verdict::next();
    }
    if (ctx.emergency && !ctx.in_dialog()) {  // to the configured emergency next hop, whoever asks
        ctx.destination = ctx.local.config().emergency_next_hop;
        ctx.transport = ctx.local.config().emergency_transport;
        return verdict::next();
    }
    const sip::uri& target = ctx.target;
    const bool tel = target.scheme == sip::uri_scheme::tel;
    // Within a dialog the route set is the whole route: the remote target is where it goes. An ACK
    // with a To tag may instead belong to a non-2xx answer and follow its INVITE (§17.1.1.3): it
    // goes to its Request-URI only when that is an address.
    if (ctx.in_dialog() && !tel && !ctx.ruri_is_us) {
        net_address literal;
        if (ctx.m.method != sip::method::ack || uri_destination(ctx.target, literal)) return to_request_uri(ctx);
    }

    // A tel URI whose phone-context is a domain we serve (TS 24.229's local numbers) is looked up
    // as that domain's user.
    const std::string_view phone_context = tel ? target.params.find("phone-context").value : std::string_view{};
    const bool ours_by_uri = !tel && (ctx.ruri_is_us || ctx.local.is_our_domain(target.host, target.port, target.has_port));
    const bool ours_by_tel = !phone_context.empty() && ctx.local.is_our_domain(phone_context, 0, false);
    const bool ours = ours_by_uri || ours_by_tel;
    ctx.for_our_domain = ours;  // whatever resolves it below, a user of ours or our own route
    if (bindings != nullptr && (ours_by_uri || tel)) {
        bool found = false;
        const verdict v = lookup_bindings(ctx, *bindings, now_ns, found);
        // A global number registered here (an alias of one of our users) is ours as much as a
        // local one: the relay policy lets it reach that user.
        if (found) ctx.for_our_domain = true;
        if (found || !v.go_on()) return v;
    }
    if (ours) {
        const location_entry* found = ours_by_tel ? locations.lookup(target.user, phone_context, false)
                                                  : locations.lookup(target.user, target.host, ctx.ruri_is_us);
        if (found != nullptr) {
            ctx.new_ruri = found->contact_uri;
            ctx.destination = found->contact_address;
            ctx.transport = found->transport;
            return verdict::next();
        }
    }
    // A domain of ours with no binding (a REGISTER for the domain itself, a user the static
    // location does not know) goes where a route naming that domain says: the registrar, say.
    const std::string_view domain = ours_by_tel ? phone_context : target.host;
    for (const route_rule& r : ctx.local.config().routes) {
        if (ours ? !sip::iequals(r.domain, domain) : (!r.domain.empty() && !sip::iequals(r.domain, target.host))) continue;
        if (!r.user_prefix.empty() && target.user.substr(0, r.user_prefix.size()) != r.user_prefix) continue;
        ctx.destination = r.next_hop;
        ctx.transport = r.transport;
        return verdict::next();
    }
    if (ours) {
        // A user with an account here but no binding now is unavailable, not unknown (§21.4.18).
        const auth::user_directory* users = ctx.local.config().auth.users.get();
        if (users != nullptr && users->find(target.user, domain) != nullptr) return verdict::answer(480, "Temporarily Unavailable");
        return verdict::answer(404, "Not Found");
    }
    return to_request_uri(ctx);
}

} // namespace

verdict resolve_target(request_context& ctx, const location_service& locations,
                       const registrar::location_store* bindings, std::uint64_t now_ns) noexcept {
    if (const verdict v = resolve(ctx, locations, bindings, now_ns); !v.go_on()) return v;
    if (ctx.leave != nullptr) return verdict::next();  // bindings: each target was checked
    branch_target t = ctx.first_target();
    if (!leave_toward(ctx, t)) return verdict::answer(503, "Transport Not Supported");
    ctx.leave = t.leave;
    return verdict::next();
}

} // namespace sipfast::proxy
