// SPDX-License-Identifier: Apache-2.0
// The target resolution stage alone (RFC 3261 §16.5): the next Route when one leads; an in-dialog
// request (To tag) whose Route set is used up goes to its Request-URI, never through a [[route]]
// or the location service (an ACK only when its Request-URI is an address: a non-2xx ACK follows
// its INVITE); an initial request for a domain we serve (or a tel: number whose phone-context is
// one) goes through the location service, else a [[route]] naming that domain, else 404; any other
// initial request takes the first matching [[route]], else its Request-URI. 503 when the
// destination is not an address or its transport is not one we serve. Checked on what it sets:
// destination, transport, leave and new_ruri. validate and route_locally run first.
// One-line mutations of src/proxy/stages/target.cpp each caught here (applied by hand, never
// committed): the in-dialog branch disabled, the reported bug (InDialogRequestsGoToTheirRequestUri...,
// InDialogNeverThroughRoutesOrTheLocationService); an ACK always to its Request-URI (InDialogNever...);
// phone-context ignored (InitialRequestsForOurDomain..., OurDomainWithoutABinding...); left_by ignored
// for the remote target's transport (InDialogTheSideOurDoubleRecordRouteNamedIsKept).
#include "sipfast/proxy/stages/target.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::request_spec;
using test::stage_config;
using test::stage_run;
using test::name;

// What resolve_target should decide.
struct outcome {
    int status = 0;                      // 0: goes on
    std::string_view reason = "";
    std::string_view destination = "";   // "ip:port"
    sip::transport transport = sip::transport::udp;
    std::string_view new_ruri = "";      // "" when the Request-URI stays
    std::size_t leave = 0;               // index of the listen point it leaves by
};

std::string describe(const request_spec& q) {
    return std::string(q.method) + " " + std::string(q.ruri) + (q.to_tag.empty() ? " (initial)" : " (in dialog)") +
           (q.extra.empty() ? "" : ", " + std::string(q.extra));
}

void check(const proxy_config& c, const request_spec& q, const outcome& e, std::size_t arrived_at = 0) {
    SCOPED_TRACE(describe(q));
    stage_run s(c, q, addr("198.18.0.9:5070"), arrived_at);
    s.validated_and_routed();
    const std::size_t edits = s.editor.edits();  // route_locally's
    const verdict v = resolve_target(s.ctx, s.locations);
    EXPECT_EQ(v.status, e.status) << v.reason << " (destination " << test::str(s.ctx.destination) << ")";
    if (e.status != 0) {
        EXPECT_EQ(v.reason, e.reason);
        return;
    }
    if (!v.go_on()) return;
    EXPECT_EQ(test::str(s.ctx.destination), e.destination);
    EXPECT_EQ(s.ctx.transport, e.transport) << name(s.ctx.transport);
    EXPECT_EQ(s.ctx.new_ruri, e.new_ruri);
    ASSERT_NE(s.ctx.leave, nullptr);
    EXPECT_EQ(s.ctx.leave, &s.config.listen.at(e.leave));
    EXPECT_EQ(s.editor.edits(), edits);  // resolution decides; forward edits
}

outcome to(std::string_view destination, std::string_view new_ruri = "", sip::transport t = sip::transport::udp,
           std::size_t leave = 0) {
    return outcome{.destination = destination, .transport = t, .new_ruri = new_ruri, .leave = leave};
}
outcome refused(int status, std::string_view reason) { return outcome{.status = status, .reason = reason}; }

const outcome not_found = refused(404, "Not Found");
const outcome unresolvable = refused(503, "Destination Not Resolvable");
const outcome no_transport = refused(503, "Transport Not Supported");

constexpr std::string_view bob_contact = "sip:bob@198.18.0.20:5062";

// ---- the report: a registrar route for an address domain, and the ACK to the callee's Contact -----

// The proxy at 127.0.0.1:5060 serving the domain 127.0.0.1, its registrar at 127.0.0.1:5080 behind
// a [[route]] naming that domain; bob registered with the Contact sip:bob@127.0.0.1:5070.
proxy_config loopback_with_registrar() {
    proxy_config c;
    c.listen.push_back({sip::transport::udp, addr("127.0.0.1:5060")});
    c.domains = {"127.0.0.1"};
    c.routes.push_back({"127.0.0.1", "", addr("127.0.0.1:5080"), sip::transport::udp});
    c.locations.push_back({"bob", "127.0.0.1", "sip:bob@127.0.0.1:5070", addr("127.0.0.1:5070")});
    return c;
}

constexpr std::string_view every_method[] = {"INVITE", "ACK",  "BYE",    "UPDATE",  "INFO",   "PRACK",
                                             "NOTIFY", "SUBSCRIBE", "REFER", "MESSAGE", "OPTIONS"};

TEST(Target, InDialogRequestsGoToTheirRequestUriNotToARouteForItsDomain) {
    const proxy_config c = loopback_with_registrar();
    for (const std::string_view method : every_method) {
        for (const std::string_view route : {"", "Route: <sip:127.0.0.1:5060;lr>\n", "Route: <sip:127.0.0.1;lr>\n"}) {
            // The callee's Contact: the call's ACK, BYE, re-INVITE... go there.
            check(c, {.method = method, .ruri = "sip:bob@127.0.0.1:5070", .to_tag = "b1", .extra = route},
                  to("127.0.0.1:5070"));
            // The caller's, the other way.
            check(c, {.method = method, .ruri = "sip:alice@127.0.0.1:5090;transport=udp", .to_tag = "a1", .extra = route},
                  to("127.0.0.1:5090"));
        }
    }
}

TEST(Target, TheSameRequestsOutsideADialogFollowTheDomainsRules) {
    const proxy_config c = loopback_with_registrar();
    // To our address: our domain; bob through the location service, anyone else to the registrar.
    check(c, {.method = "INVITE", .ruri = "sip:bob@127.0.0.1"}, to("127.0.0.1:5070", "sip:bob@127.0.0.1:5070"));
    check(c, {.method = "INVITE", .ruri = "sip:carol@127.0.0.1:5060"}, to("127.0.0.1:5080"));
    check(c, {.method = "REGISTER", .ruri = "sip:127.0.0.1"}, to("127.0.0.1:5080"));
    // The ACK of a non-2xx answer carries the INVITE's Request-URI and the answer's To tag: it
    // follows the INVITE.
    check(c, {.method = "ACK", .ruri = "sip:bob@127.0.0.1", .to_tag = "b1"}, to("127.0.0.1:5070", "sip:bob@127.0.0.1:5070"));
    // Another port of the host is not our domain: an initial request takes the first matching
    // [[route]] as for any other domain.
    check(c, {.method = "INVITE", .ruri = "sip:bob@127.0.0.1:5070"}, to("127.0.0.1:5080"));
}

// ---- in-dialog requests ----------------------------------------------------------------------

// test_config, with routes that must never take an in-dialog request: a catch-all, one for our
// domain, one naming the callee's host.
proxy_config with_routes() {
    proxy_config c = test::with_tcp(stage_config());
    c.routes.push_back({"198.18.0.20", "", addr("198.18.0.32:5060"), sip::transport::udp});
    c.routes.push_back({"example.com", "", addr("198.18.0.31:5060"), sip::transport::udp});
    c.routes.push_back({"", "", addr("198.18.0.99:5060"), sip::transport::udp});
    return c;
}

TEST(Target, InDialogNeverThroughRoutesOrTheLocationService) {
    const proxy_config c = with_routes();
    for (const std::string_view method : every_method) {
        const std::string_view route = "Route: <sip:198.18.0.1:5060;lr>\n";
        check(c, {.method = method, .ruri = bob_contact, .to_tag = "b1", .extra = route}, to("198.18.0.20:5062"));
        check(c, {.method = method, .ruri = bob_contact, .to_tag = "b1"}, to("198.18.0.20:5062"));
        check(c, {.method = method, .ruri = "sip:bob@198.18.0.20", .to_tag = "b1"}, to("198.18.0.20:5060"));
        check(c, {.method = method, .ruri = "sip:bob@198.18.0.20:5062;transport=tcp", .to_tag = "b1", .extra = route},
              to("198.18.0.20:5062", "", sip::transport::tcp, 1));
        check(c, {.method = method, .ruri = "sip:bob@[2001:db8::20]:5062", .to_tag = "b1"}, no_transport);  // no IPv6 side
    }
    // A remote target by name is not looked up (no DNS on the fast path), not even in our domain;
    // an ACK's is: it may be a non-2xx ACK, which follows its INVITE.
    for (const std::string_view method : {"BYE", "INVITE", "NOTIFY", "UPDATE"})
        check(c, {.method = method, .ruri = "sip:bob@example.com", .to_tag = "b1"}, unresolvable);
    check(c, {.method = "ACK", .ruri = "sip:bob@example.com", .to_tag = "b1"}, to("198.18.0.20:5062", bob_contact));
    check(c, {.method = "ACK", .ruri = "sip:zoe@example.com", .to_tag = "b1"}, to("198.18.0.31:5060"));
    check(c, {.method = "ACK", .ruri = "sip:zoe@elsewhere.example", .to_tag = "b1"}, to("198.18.0.99:5060"));
    // A Request-URI at our own address is ours to resolve, in a dialog too.
    check(c, {.method = "BYE", .ruri = "sip:bob@198.18.0.1:5060", .to_tag = "b1"}, to("198.18.0.20:5062", bob_contact));
}

TEST(Target, InDialogTheSideOurDoubleRecordRouteNamedIsKept) {
    const proxy_config c = with_routes();
    const std::string_view udp_then_tcp = "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.1:5060;transport=tcp;lr>\n";
    const std::string_view tcp_then_udp = "Route: <sip:198.18.0.1:5060;transport=tcp;lr>, <sip:198.18.0.1:5060;lr>\n";
    for (const std::string_view method : {"BYE", "INVITE", "ACK", "NOTIFY"}) {
        check(c, {.method = method, .ruri = bob_contact, .to_tag = "b1", .extra = udp_then_tcp},
              to("198.18.0.20:5062", "", sip::transport::tcp, 1));
        check(c, {.method = method, .ruri = bob_contact, .to_tag = "b1", .extra = tcp_then_udp}, to("198.18.0.20:5062"),
              1);  // arrived by TCP, leaves by UDP
        // The remote target's own transport= wins.
        check(c, {.method = method, .ruri = "sip:bob@198.18.0.20:5062;transport=udp", .to_tag = "b1", .extra = udp_then_tcp},
              to("198.18.0.20:5062"));
    }
}

// ---- initial requests ---------------------------------------------------------------------------

TEST(Target, InitialRequestsForOurDomainGoThroughTheLocationService) {
    proxy_config c = stage_config();
    c.locations.push_back({"+15551234", "example.com", "sip:+15551234@198.18.0.21:5060", addr("198.18.0.21:5060")});
    c.locations.push_back({"carol", "example.com", "sip:carol@198.18.0.22:5070;transport=tcp", addr("198.18.0.22:5070"),
                           sip::transport::tcp});
    for (const std::string_view method : {"INVITE", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "OPTIONS", "INFO"}) {
        check(c, {.method = method}, to("198.18.0.20:5062", bob_contact));
        check(c, {.method = method, .ruri = "sip:bob@EXAMPLE.COM"}, to("198.18.0.20:5062", bob_contact));
        check(c, {.method = method, .ruri = "sip:bob@example.com:5060"}, to("198.18.0.20:5062", bob_contact));
        check(c, {.method = method, .ruri = "sip:bob@198.18.0.1"}, to("198.18.0.20:5062", bob_contact));  // our address
        check(c, {.method = method, .ruri = "sip:zoe@example.com"}, not_found);
        check(c, {.method = method, .ruri = "sip:Bob@example.com"}, not_found);  // users are case-sensitive
        check(c, {.method = method, .ruri = "sip:zoe@198.18.0.1:5060"}, not_found);
        // tel: numbers whose phone-context is a domain we serve are its users.
        check(c, {.method = method, .ruri = "tel:+15551234;phone-context=example.com"},
              to("198.18.0.21:5060", "sip:+15551234@198.18.0.21:5060"));
        check(c, {.method = method, .ruri = "tel:+15551234;phone-context=Example.Com"},
              to("198.18.0.21:5060", "sip:+15551234@198.18.0.21:5060"));
        check(c, {.method = method, .ruri = "tel:+15559999;phone-context=example.com"}, not_found);
        // Another phone-context, or none: not ours, and a tel: URI names no address.
        check(c, {.method = method, .ruri = "tel:+15551234;phone-context=other.example"}, unresolvable);
        check(c, {.method = method, .ruri = "tel:+15551234"}, unresolvable);
        // A binding over TCP, and we have no TCP side.
        check(c, {.method = method, .ruri = "sip:carol@example.com"}, no_transport);
        check(test::with_tcp(c), {.method = method, .ruri = "sip:carol@example.com"},
              to("198.18.0.22:5070", "sip:carol@198.18.0.22:5070;transport=tcp", sip::transport::tcp, 1));
    }
    // A tel: request in a dialog is still a number to look up.
    check(c, {.method = "BYE", .ruri = "tel:+15551234;phone-context=example.com", .to_tag = "b1"},
          to("198.18.0.21:5060", "sip:+15551234@198.18.0.21:5060"));
}

TEST(Target, AUserWithAnAccountButNoBindingIsUnavailableNotUnknown) {
    proxy_config c = stage_config();
    auto users = std::make_shared<auth::user_directory>();
    users->add_password("zoe", "example.com", "secret");
    c.auth.users = users;
    check(c, {.ruri = "sip:zoe@example.com"}, refused(480, "Temporarily Unavailable"));
    check(c, {.ruri = "sip:yann@example.com"}, not_found);
}

TEST(Target, OurDomainWithoutABindingTakesARouteNamingIt) {
    proxy_config c = stage_config();
    c.routes.push_back({"", "", addr("198.18.0.99:5060"), sip::transport::udp});  // a catch-all is not "naming it"
    check(c, {.ruri = "sip:zoe@example.com"}, not_found);
    check(c, {.method = "REGISTER", .ruri = "sip:example.com"}, not_found);
    c.routes.push_back({"other.example", "", addr("198.18.0.33:5060"), sip::transport::udp});
    c.routes.push_back({"example.com", "+1", addr("198.18.0.34:5060"), sip::transport::udp});
    c.routes.push_back({"EXAMPLE.COM", "", addr("198.18.0.31:5060"), sip::transport::tcp});
    c = test::with_tcp(c);
    check(c, {.ruri = "sip:zoe@example.com"}, to("198.18.0.31:5060", "", sip::transport::tcp, 1));
    check(c, {.method = "REGISTER", .ruri = "sip:example.com"}, to("198.18.0.31:5060", "", sip::transport::tcp, 1));
    check(c, {.ruri = "sip:+4930123@example.com"}, to("198.18.0.31:5060", "", sip::transport::tcp, 1));
    check(c, {.ruri = "sip:+15550000@example.com"}, to("198.18.0.34:5060"));  // the user prefix matches
    check(c, {.ruri = "tel:+15550000;phone-context=example.com"}, to("198.18.0.34:5060"));
    check(c, {.ruri = "sip:bob@example.com"}, to("198.18.0.20:5062", bob_contact));  // a binding still wins
}

TEST(Target, OtherInitialRequestsTakeTheFirstMatchingRouteElseTheRequestUri) {
    proxy_config c = stage_config();
    check(c, {.ruri = "sip:carol@198.18.0.40:5080"}, to("198.18.0.40:5080"));
    check(c, {.ruri = "sip:carol@198.18.0.40"}, to("198.18.0.40:5060"));
    check(c, {.ruri = "sip:carol@198.18.0.1:5070"}, to("198.18.0.1:5070"));  // our host, another port
    check(c, {.ruri = "sip:carol@elsewhere.example"}, unresolvable);
    check(c, {.ruri = "sip:bob@example.com:5070"}, unresolvable);  // our domain but not on our port
    c.routes.push_back({"carrier.example.net", "+1", addr("198.18.0.35:5060"), sip::transport::udp});
    c.routes.push_back({"carrier.example.net", "", addr("198.18.0.30:5060"), sip::transport::udp});
    c.routes.push_back({"", "+49", addr("198.18.0.36:5060"), sip::transport::udp});
    c.routes.push_back({"", "", addr("198.18.0.99:5060"), sip::transport::udp});
    check(c, {.ruri = "sip:+15551234@carrier.example.net"}, to("198.18.0.35:5060"));
    check(c, {.ruri = "sip:+4930123@carrier.example.net"}, to("198.18.0.30:5060"));
    check(c, {.ruri = "sip:+4930123@Carrier.Example.Net"}, to("198.18.0.30:5060"));
    check(c, {.ruri = "sip:+4930123@elsewhere.example"}, to("198.18.0.36:5060"));
    check(c, {.ruri = "sip:carol@elsewhere.example"}, to("198.18.0.99:5060"));
    check(c, {.ruri = "sip:carol@198.18.0.40:5080"}, to("198.18.0.99:5060"));
    check(c, {.ruri = "tel:+4930123"}, to("198.18.0.36:5060"));
    // Our domain is never taken by a route that does not name it.
    check(c, {.ruri = "sip:+4930123@example.com"}, not_found);
    check(c, {.ruri = "sip:bob@example.com"}, to("198.18.0.20:5062", bob_contact));
}

// ---- the next Route ----------------------------------------------------------------------------

TEST(Target, ARouteThatLeadsIsTheNextHop) {
    const proxy_config c = with_routes();
    for (const std::string_view to_tag : {"", "b1"}) {
        // Whatever the Request-URI: our domain, an address, a tel: number.
        for (const std::string_view ruri : {"sip:bob@example.com", "sip:bob@198.18.0.20:5062", "tel:+15551234"}) {
            check(c, {.ruri = ruri, .to_tag = to_tag, .extra = "Route: <sip:198.18.0.50;lr>\n"}, to("198.18.0.50:5060"));
            check(c, {.ruri = ruri, .to_tag = to_tag, .extra = "Route: <sip:198.18.0.1;lr>, <sip:198.18.0.50:5070;lr>\n"},
                  to("198.18.0.50:5070"));
            check(c, {.ruri = ruri, .to_tag = to_tag, .extra = "Route: <sip:198.18.0.50:5070;transport=tcp;lr>\n"},
                  to("198.18.0.50:5070", "", sip::transport::tcp, 1));
            check(c, {.ruri = ruri, .to_tag = to_tag, .extra = "Route: <sip:proxy.example.net;lr>\n"},
                  refused(503, "Route Not Resolvable"));
            check(c, {.ruri = ruri, .to_tag = to_tag, .extra = "Route: <sip:198.18.0.50;transport=sctp;lr>\n"}, no_transport);
        }
    }
    // A strict router's request: the target left in the last Route, or what of the set still leads.
    check(c, {.ruri = "sip:198.18.0.1:5060;lr", .to_tag = "b1", .extra = "Route: <sip:bob@198.18.0.20:5062>\n"},
          to("198.18.0.20:5062", bob_contact));
    check(c, {.ruri = "sip:198.18.0.1:5060;lr", .to_tag = "b1",
              .extra = "Route: <sip:198.18.0.50;lr>, <sip:bob@198.18.0.20:5062>\n"},
          to("198.18.0.50:5060", bob_contact));
}

TEST(Target, RouteNotResolvableIsCountedAsNoRoute) {
    stage_run s(stage_config(), request_spec{.extra = "Route: <sip:proxy.example.net;lr>\n"});
    s.validated_and_routed();
    const verdict v = resolve_target(s.ctx, s.locations);
    EXPECT_EQ(v.status, 503);
    EXPECT_EQ(v.drop, drop_cause::no_route);
    stage_run r(stage_config(), request_spec{.ruri = "sip:carol@elsewhere.example"});
    r.validated_and_routed();
    EXPECT_EQ(resolve_target(r.ctx, r.locations).drop, drop_cause::no_route);
}

// ---- transports and sides ----------------------------------------------------------------------

TEST(Target, OnlyTransportsWeServe) {
    const proxy_config udp_only = stage_config();
    const proxy_config udp_tcp = test::with_tcp(stage_config());
    for (const std::string_view to_tag : {"", "b1"}) {
        for (const std::string_view t : {"sctp", "SCTP", "tls", "ws", "wss", "foo"}) {
            const std::string ruri = "sip:x@198.18.0.50;transport=" + std::string(t);
            check(udp_only, {.ruri = ruri, .to_tag = to_tag}, no_transport);
            check(udp_tcp, {.ruri = ruri, .to_tag = to_tag}, no_transport);
        }
        check(udp_only, {.ruri = "sip:x@198.18.0.50;transport=tcp", .to_tag = to_tag}, no_transport);
        check(udp_tcp, {.ruri = "sip:x@198.18.0.50;transport=tcp", .to_tag = to_tag},
              to("198.18.0.50:5060", "", sip::transport::tcp, 1));
        check(udp_tcp, {.ruri = "sip:x@198.18.0.50;transport=TCP", .to_tag = to_tag},
              to("198.18.0.50:5060", "", sip::transport::tcp, 1));
        check(udp_tcp, {.ruri = "sip:x@198.18.0.50;transport=udp", .to_tag = to_tag}, to("198.18.0.50:5060"));
        // A static route's transport.
        proxy_config sctp_route = udp_tcp;
        sctp_route.routes.push_back({"", "", addr("198.18.0.37:5060"), sip::transport::sctp});
        if (to_tag.empty()) check(sctp_route, {.ruri = "sip:x@198.18.0.50"}, no_transport);
    }
}

TEST(Target, LeavesByTheSideItArrivedAtWhenThatFits) {
    proxy_config c = test::with_udp6(test::with_tcp(stage_config()));  // 0 UDP v4, 1 TCP v4, 2 UDP v6
    c.listen.push_back({sip::transport::udp, addr("198.18.0.2:5060")});  // 3 UDP v4
    c.listen.push_back({sip::transport::tcp, addr("[2001:db8::1]:5060")});  // 4 TCP v6
    const request_spec to_v4{.ruri = "sip:carol@198.18.0.40:5080"};
    const request_spec to_v6{.ruri = "sip:carol@[2001:db8::40]:5080"};
    const request_spec to_v6_tcp{.ruri = "sip:carol@[2001:db8::40]:5080;transport=tcp"};
    check(c, to_v4, to("198.18.0.40:5080"), 0);
    check(c, to_v4, to("198.18.0.40:5080", "", sip::transport::udp, 3), 3);
    check(c, to_v4, to("198.18.0.40:5080", "", sip::transport::udp, 0), 1);  // arrived by TCP: first UDP v4
    check(c, to_v4, to("198.18.0.40:5080", "", sip::transport::udp, 0), 2);  // arrived by IPv6
    check(c, to_v6, to("[2001:db8::40]:5080", "", sip::transport::udp, 2), 0);
    check(c, to_v6_tcp, to("[2001:db8::40]:5080", "", sip::transport::tcp, 4), 0);
    check(c, to_v6_tcp, to("[2001:db8::40]:5080", "", sip::transport::tcp, 4), 4);
}

} // namespace
} // namespace sipfast::proxy
