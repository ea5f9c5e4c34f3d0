// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>

#include "sipfast/proxy/request_context.hpp"
#include "sipfast/registrar/location_store.hpp"
#include "sipfast/registrar/reg_subscription.hpp"

namespace sipfast::proxy {

/// What the reg-event notifier needs from the shard that runs it, and what it tells the shard back.
struct reg_event_host {
    registrar::location_store* store = nullptr;                 ///< the registrar's; null: no notifier
    registrar::subscription_table* subscriptions = nullptr;     ///< the shard's; null: no notifier (stateless mode)
    const registrar::registrar_limits* limits = nullptr;        ///< subscriptions are bounded like bindings
    registrar::instant now;
    std::span<char> room;                                       ///< the 200's header lines
    // Out: after a 200, the NOTIFY the shard is to send (RFC 6665 §4.2.1).
    registrar::reg_subscription* notify = nullptr;
    registrar::subscribe_kind kind = registrar::subscribe_kind::refused;
};

/// The reg event package's notifier (RFC 3680, RFC 6665; docs/architecture.md, "Reg event").
/// A SUBSCRIBE with `Event: reg` whose Request-URI (or To, when the Request-URI is our address) is an
/// identity of a domain we serve, an address-of-record with bindings or an alias of one, is answered
/// here: 200 with Expires and our Contact, and `host.notify` set for the NOTIFY that follows. One in
/// a dialog of ours refreshes or ends its subscription. Refusals: 489 for another event when we are
/// the notifier asked (the Request-URI is our address, or the dialog is ours), 404 for an identity
/// we do not know, 406 when Accept excludes application/reginfo+xml, 403 for a subscriber who is
/// not allowed (below), 423 for too short an Expires, 481 for a dialog we do not hold.
///
/// Who may watch an identity: anyone when authentication is off (as anyone may register then); a
/// trusted source ([auth] trusted, a [[peer]]: a P-CSCF, an application server); a subscriber
/// authenticated as the identity (From's address-of-record, the same after aliases); or the
/// registered user agent itself: a SUBSCRIBE from the flow (transport, address, port) of one of the
/// identity's live bindings, with no Record-Route, since that flow proved itself when it registered.
/// Other SUBSCRIBEs (other events to users of ours) go on and are relayed as before.
[[nodiscard]] verdict serve_reg_subscribe(request_context& ctx, reg_event_host& host) noexcept;

/// The value of the SUBSCRIBE's Accept allows application/reginfo+xml (no Accept: it does).
[[nodiscard]] bool accepts_reginfo(const sip::message& m) noexcept;

} // namespace sipfast::proxy
