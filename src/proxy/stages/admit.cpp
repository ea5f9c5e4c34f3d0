// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/admit.hpp"

namespace sipfast::proxy {

namespace {

// Whether anyone's request may go to `to`: not a place no SIP element lives (or one a sender on
// the Internet must never make us reach: loopback services, the LAN's broadcast), nor ourselves.
bool allowed_destination(const request_context& ctx, const net_address& to) noexcept {
    if (to.port == 0) return false;
    const relay_policy& p = ctx.local.config().policy;
    switch (core::scope_of(to)) {
    case core::address_scope::routable: break;
    case core::address_scope::loopback:
        if (!p.allow_loopback) return false;
        break;
    default: return false;
    }
    for (const listen_point& lp : ctx.local.config().listen)
        if (lp.address == to) return false;
    return true;
}

bool within(const std::vector<subnet>& reach, const net_address& to) noexcept {
    if (reach.empty()) return true;
    for (const subnet& s : reach)
        if (s.contains(to)) return true;
    return false;
}

// Whether the request may go to `to` under the closed policy.
bool admitted(const request_context& ctx, const net_address& to) noexcept {
    const relay_policy& p = ctx.local.config().policy;
    if (ctx.for_our_domain || ctx.emergency || !ctx.authenticated_user.empty() || ctx.our_dialog) return true;
    if (const trusted_peer* from = p.peer_of(ctx.in.source)) return within(from->reach, to);
    return p.peer_of(to) != nullptr;  // a trusted element applies its own policy
}

} // namespace

verdict admit(request_context& ctx) noexcept {
    const bool closed = ctx.local.config().policy.closed;
    const auto fits = [&](const net_address& to) { return allowed_destination(ctx, to) && (!closed || admitted(ctx, to)); };
    // A fork's further branches: those that may not be reached are left out.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < ctx.more_count; ++i)
        if (fits(ctx.more[i].destination)) ctx.more[kept++] = ctx.more[i];
    ctx.more_count = kept;
    if (fits(ctx.destination)) return verdict::next();
    if (kept != 0) {  // the first branch may not go: the next becomes the first
        ctx.aim(ctx.more[0]);
        for (std::size_t i = 1; i < kept; ++i) ctx.more[i - 1] = ctx.more[i];
        ctx.more_count = kept - 1;
        return verdict::next();
    }
    if (!allowed_destination(ctx, ctx.destination))
        return verdict::answer(403, "Forbidden (Destination Not Allowed)", {}, drop_cause::relay_denied);
    return verdict::answer(403, "Forbidden (Relaying Denied)", {}, drop_cause::relay_denied);
}

} // namespace sipfast::proxy
