// SPDX-License-Identifier: Apache-2.0
// The forward stage alone (RFC 3261 §16.6): the edits it makes to the received request, read back
// by serializing the editor and parsing the result. The new Request-URI; Max-Forwards decremented
// (70 inserted when absent); received and rport on the top Via (§18.2.1, RFC 3581 §4; both always
// over TCP); our Via with the given branch on top; Record-Route on initial INVITE, SUBSCRIBE,
// NOTIFY and REFER when configured, twice when the request changes transport or family (RFC 5658);
// a UDP request over 1300 bytes moved to TCP when we listen on TCP. The stages before it run first
// (validate, route_locally, serve_locally, resolve_target), as the pipeline chains them.
// One-line mutations of src/proxy/stages/forward.cpp each caught here (applied by hand, never
// committed): the TCP received+rport branch disabled (OverTcpBothReceivedAndRportAlways); `size >
// max_udp_request` -> `>=` (OverThirteenHundredBytesUdpMovesToTcp); NOTIFY not dialog-forming and
// `!ctx.in_dialog()` dropped (RecordRouteOnlyOnInitialDialogFormingRequests); a change of family not
// recorded twice (TwoRecordRoutesWhenTheRequestChangesSides); received added whatever the sent-by
// (ReceivedWhenTheSentByIsNotTheSourceRportWhenAskedOverUdp).
#include "sipfast/proxy/stages/forward.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::parsed;
using test::request_spec;
using test::stage_config;
using test::stage_run;
using test::values;

constexpr std::string_view branch = "z9hG4bKsf0000.test.0123456789abcdef";
constexpr std::string_view our_udp_via = "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKsf0000.test.0123456789abcdef";
constexpr std::string_view our_tcp_via = "SIP/2.0/TCP 198.18.0.1:5060;branch=z9hG4bKsf0000.test.0123456789abcdef";
// Our Record-Route values for the default request's dialog (its Call-ID's mark).
constexpr std::string_view call_id = "stage-1@198.18.0.9";
const std::string rr_udp = test::marked("<sip:198.18.0.1:5060;lr>", call_id);
const std::string rr_tcp = test::marked("<sip:198.18.0.1:5060;transport=tcp;lr>", call_id);
const std::string rr_udp6 = test::marked("<sip:[2001:db8::1]:5060;lr>", call_id);
const std::string rr_other = test::marked("<sip:198.18.0.2:5062;lr>", call_id);
constexpr std::string_view bob_contact = "sip:bob@198.18.0.20:5062";
constexpr std::string_view route_ours = "Route: <sip:198.18.0.1:5060;lr>\n";

// The caller behind NAT: its Via names its private address, its packets come from the NAT's.
const net_address nat_source = addr("198.18.0.9:40000");

std::string describe(const request_spec& q) {
    return std::string(q.method) + " " + std::string(q.ruri) + (q.to_tag.empty() ? " (initial)" : " (in dialog)") +
           ", Via: " + std::string(q.via) + ", Max-Forwards '" + std::string(q.max_forwards) + "'" +
           (q.extra.empty() ? "" : ", " + std::string(q.extra));
}

// Runs every stage up to forward (they must all go on), then forward; returns the edited message.
std::string forwarded(stage_run& s) {
    const verdict before = s.up_to_target();
    EXPECT_TRUE(before.go_on()) << before.status << " " << before.reason;
    if (!before.go_on()) return {};
    const verdict v = forward(s.ctx, branch);
    EXPECT_TRUE(v.go_on()) << v.status << " " << v.reason;
    EXPECT_EQ(s.ctx.err, sip::edit_error::none);
    const std::string text = s.edited();
    EXPECT_TRUE(parsed(text).result.ok()) << text;
    return text;
}

std::vector<std::string> strings(std::initializer_list<std::string_view> l) { return {l.begin(), l.end()}; }

// ---- the whole message -------------------------------------------------------------------------

TEST(Forward, AnInitialInviteFromBehindNat) {
    stage_run s(stage_config(),
                request_spec{.via = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport", .body = "v=0\r\n"}, nat_source);
    const std::string text = forwarded(s);
    EXPECT_EQ(text, test::crlf("INVITE sip:bob@198.18.0.20:5062 SIP/2.0\n"
                               "Record-Route: " + rr_udp + "\n"
                               "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKsf0000.test.0123456789abcdef\n"
                               "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000\n"
                               "Max-Forwards: 69\n"
                               "From: Alice <sip:alice@example.com>;tag=a1\n"
                               "To: Bob <sip:bob@example.com>\n"
                               "Call-ID: stage-1@198.18.0.9\n"
                               "CSeq: 1 INVITE\n"
                               "Contact: <sip:alice@198.18.0.9:5070>\n"
                               "Content-Length: 5\n\n") +
                        "v=0\r\n");
    EXPECT_EQ(s.ctx.transport, sip::transport::udp);
    EXPECT_EQ(s.ctx.leave, &s.config.listen[0]);
}

// ---- §16.6 step 2: the Request-URI ----------------------------------------------------------------

TEST(Forward, TheRequestUriIsRewrittenOnlyWhenResolutionChangedIt) {
    struct row {
        request_spec request;
        std::string_view ruri;  // as forwarded
    };
    const row rows[] = {
        {{.ruri = "sip:bob@example.com"}, bob_contact},                                      // a binding's contact
        {{.ruri = "sip:bob@198.18.0.1"}, bob_contact},                                       // our address, bob's binding
        {{.ruri = "sip:carol@198.18.0.40:5080"}, "sip:carol@198.18.0.40:5080"},              // another's address
        {{.ruri = bob_contact, .to_tag = "b1", .extra = route_ours}, bob_contact},          // in dialog
        {{.ruri = "sip:bob@example.com", .extra = "Route: <sip:198.18.0.50;lr>\n"}, "sip:bob@example.com"},  // a Route leads
        {{.ruri = "sip:198.18.0.1:5060;lr", .to_tag = "b1", .extra = "Route: <sip:bob@198.18.0.20:5062;x=1>\n"},
         "sip:bob@198.18.0.20:5062;x=1"},  // a strict router's
    };
    for (const row& r : rows) {
        SCOPED_TRACE(describe(r.request));
        stage_run s(stage_config(), r.request);
        parsed out(forwarded(s));
        EXPECT_EQ(out.msg.request_uri_text, r.ruri);
        EXPECT_EQ(out.msg.method_text, r.request.method);
    }
}

// ---- §16.6 step 3: Max-Forwards -------------------------------------------------------------------

TEST(Forward, MaxForwardsIsDecrementedOrSetTo70) {
    struct row {
        std::string_view received;  // "" for none
        std::string_view sent;
    };
    const row rows[] = {{"70", "69"}, {"1", "0"}, {"2", "1"}, {"10", "9"}, {"255", "254"}, {"", "70"}};
    for (const std::string_view method : {"INVITE", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "OPTIONS", "INFO", "BYE"}) {
        for (const std::string_view to_tag : {"", "b1"}) {
            for (const row& r : rows) {
                const request_spec q = to_tag.empty()
                                           ? request_spec{.method = method, .max_forwards = r.received}
                                           : request_spec{.method = method, .ruri = bob_contact, .max_forwards = r.received,
                                                          .to_tag = to_tag, .extra = route_ours};
                SCOPED_TRACE(describe(q));
                stage_run s(stage_config(), q);
                parsed out(forwarded(s));
                EXPECT_EQ(values(out.msg, sip::header_id::max_forwards), strings({r.sent}));
                EXPECT_EQ(out.msg.count(sip::header_id::max_forwards), 1u);
            }
        }
    }
}

// ---- §18.2.1, RFC 3581 §4: received and rport on the Via we received ------------------------------

struct via_row {
    std::string_view via;          // the UA's Via as received
    net_address source;            // where the packet came from
    std::string_view forwarded;    // the same Via as it leaves, under ours
};

void check_vias(const proxy_config& c, std::size_t arrived_at, const via_row& r) {
    for (const std::string_view method : {"INVITE", "MESSAGE"}) {
        const request_spec q{.method = method, .via = r.via};
        SCOPED_TRACE(describe(q) + " from " + test::str(r.source) + (arrived_at == 0 ? " over UDP" : " over TCP"));
        stage_run s(c, q, r.source, arrived_at);
        parsed out(forwarded(s));
        const std::vector<std::string> vias = values(out.msg, sip::header_id::via);
        ASSERT_EQ(vias.size(), 2u);
        EXPECT_EQ(vias[0], our_udp_via);  // bob is reached over UDP
        EXPECT_EQ(vias[1], r.forwarded);
    }
}

TEST(Forward, ReceivedWhenTheSentByIsNotTheSourceRportWhenAskedOverUdp) {
    const via_row rows[] = {
        // Behind NAT, no rport: received only, at the end.
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9"},
        {"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1;received=198.18.0.9"},
        {"SIP/2.0/UDP uac.example.org:5060;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/UDP uac.example.org:5060;branch=z9hG4bKnat1;received=198.18.0.9"},
        // rport asked for (empty): received and the source port, where the empty rport stood.
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        {"SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;received=198.18.0.9;rport=40000;branch=z9hG4bKnat1"},
        // ... even when the sent-by is the source (RFC 3581 §4).
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1;rport", nat_source,
         "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        {"SIP/2.0/UDP 198.18.0.9:40000;branch=z9hG4bKnat1;rport", nat_source,
         "SIP/2.0/UDP 198.18.0.9:40000;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        // received already there (another proxy's, or the client's own): rport only, one received.
        {"SIP/2.0/UDP 10.0.0.5:5060;received=10.9.9.9;branch=z9hG4bKnat1;rport", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;received=10.9.9.9;branch=z9hG4bKnat1;rport=40000"},
        // rport already valued: not ours to fill in; received as without it.
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport=7000", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport=7000;received=198.18.0.9"},
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1;rport=7000", nat_source,
         "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1;rport=7000"},
        // The sent-by host is the source, no rport: nothing, whatever the port.
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1", nat_source, "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1"},
        {"SIP/2.0/UDP 198.18.0.9:40000;branch=z9hG4bKnat1", nat_source, "SIP/2.0/UDP 198.18.0.9:40000;branch=z9hG4bKnat1"},
        {"SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKnat1", addr("198.18.0.9:5060"), "SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKnat1"},
        // IPv6.
        {"SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKnat1", addr("[2001:db8::9]:5060"),
         "SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKnat1"},
        {"SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKnat1", addr("[2001:db8::99]:5060"),
         "SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKnat1;received=[2001:db8::99]"},
        {"SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKnat1;rport", addr("[2001:db8::9]:40000"),
         "SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKnat1;received=[2001:db8::9];rport=40000"},
    };
    for (const via_row& r : rows) check_vias(stage_config(), 0, r);
}

TEST(Forward, OverTcpBothReceivedAndRportAlways) {
    // The answer must come back on the connection, whose port the sent-by is not.
    const via_row rows[] = {
        {"SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        {"SIP/2.0/TCP 198.18.0.9:5070;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/TCP 198.18.0.9:5070;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        {"SIP/2.0/TCP 198.18.0.9:40000;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/TCP 198.18.0.9:40000;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        {"SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1;rport", nat_source,
         "SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        {"SIP/2.0/TCP 10.0.0.5:5060;rport;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/TCP 10.0.0.5:5060;received=198.18.0.9;rport=40000;branch=z9hG4bKnat1"},
        // A received the client wrote itself stays; rport is still added.
        {"SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9", nat_source,
         "SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
    };
    const proxy_config c = test::with_tcp(stage_config());
    for (const via_row& r : rows) {
        // Bob is over UDP: the request changes transport, so its Record-Route is double; the Via
        // check only reads the Vias.
        check_vias(c, 1, r);
    }
}

TEST(Forward, ReceivedGoesOnTheTopViaOnly) {
    const request_spec q{.via = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport, SIP/2.0/UDP 10.0.0.6;branch=z9hG4bKb0",
                         .extra = "Via: SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKc0\n"};
    stage_run s(stage_config(), q, nat_source);
    parsed out(forwarded(s));
    EXPECT_EQ(values(out.msg, sip::header_id::via),
              strings({our_udp_via, "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000",
                       "SIP/2.0/UDP 10.0.0.6;branch=z9hG4bKb0", "SIP/2.0/UDP 10.0.0.7;branch=z9hG4bKc0"}));
}

// ---- §16.6 step 8: our Via -----------------------------------------------------------------------

TEST(Forward, OurViaNamesTheSideItLeavesBy) {
    struct row {
        std::string_view ruri;
        std::size_t arrived_at;
        std::string_view via;
    };
    const std::string udp6 = "SIP/2.0/UDP [2001:db8::1]:5060;branch=" + std::string(branch);
    const row rows[] = {
        {"sip:carol@198.18.0.40:5080", 0, our_udp_via},
        {"sip:carol@198.18.0.40:5080", 1, our_udp_via},
        {"sip:carol@198.18.0.40:5080;transport=tcp", 0, our_tcp_via},
        {"sip:carol@198.18.0.40:5080;transport=tcp", 1, our_tcp_via},
        {"sip:carol@[2001:db8::40]:5080", 0, udp6},
    };
    const proxy_config c = test::with_udp6(test::with_tcp(stage_config()));
    for (const row& r : rows) {
        for (const std::string_view method : {"INVITE", "MESSAGE"}) {
            const request_spec q{.method = method, .ruri = r.ruri};
            SCOPED_TRACE(describe(q) + " arrived at listen[" + std::to_string(r.arrived_at) + "]");
            stage_run s(c, q, addr("198.18.0.9:5070"), r.arrived_at);
            parsed out(forwarded(s));
            const std::vector<std::string> vias = values(out.msg, sip::header_id::via);
            ASSERT_EQ(vias.size(), 2u);
            EXPECT_EQ(vias[0], r.via);
            EXPECT_EQ(out.msg.top_via.branch, branch);
        }
    }
}

// ---- §16.6 step 4: Record-Route --------------------------------------------------------------------

TEST(Forward, RecordRouteOnlyOnInitialDialogFormingRequests) {
    struct row {
        std::string_view method;
        bool dialog_forming;
    };
    const row rows[] = {
        {"INVITE", true},   {"SUBSCRIBE", true}, {"NOTIFY", true},  {"REFER", true},    {"MESSAGE", false},
        {"OPTIONS", false}, {"INFO", false},     {"UPDATE", false}, {"PRACK", false},   {"BYE", false},
        {"REGISTER", false}, {"PUBLISH", false}, {"ACK", false},
    };
    for (const bool configured : {true, false}) {
        proxy_config c = stage_config();
        c.record_route = configured;
        for (const row& r : rows) {
            // Initial (ACK and BYE have no initial form: sent without To tag they are still not
            // dialog-forming), in a dialog through our Route, in a dialog with no Route at all.
            const request_spec requests[] = {
                {.method = r.method},
                {.method = r.method, .ruri = bob_contact, .to_tag = "b1", .extra = route_ours},
                {.method = r.method, .ruri = bob_contact, .to_tag = "b1"},
            };
            for (const request_spec& q : requests) {
                SCOPED_TRACE(describe(q) + (configured ? ", record_route on" : ", record_route off"));
                stage_run s(c, q);
                parsed out(forwarded(s));
                const bool expected = configured && r.dialog_forming && q.to_tag.empty();
                EXPECT_EQ(values(out.msg, sip::header_id::record_route), expected ? strings({rr_udp}) : strings({}));
                EXPECT_EQ(out.msg.find(sip::header_id::route), nullptr);  // ours was popped
            }
        }
    }
}

TEST(Forward, OurRecordRouteGoesAboveTheOnesBefore) {
    stage_run s(stage_config(), request_spec{.extra = "Record-Route: <sip:198.18.0.60;lr>, <sip:198.18.0.61;lr>\n"});
    parsed out(forwarded(s));
    EXPECT_EQ(values(out.msg, sip::header_id::record_route),
              strings({rr_udp, "<sip:198.18.0.60;lr>", "<sip:198.18.0.61;lr>"}));
}

TEST(Forward, TwoRecordRoutesWhenTheRequestChangesSides) {
    // RFC 5658: the side it leaves by first (the callee's route set starts there), then the side it
    // arrived at.
    struct row {
        std::string_view note;
        std::string_view ruri;
        std::size_t arrived_at;  // 0 UDP v4, 1 TCP v4, 2 UDP v6, 3 UDP v4 on another address
        std::vector<std::string> record_route;
    };
    const row rows[] = {
        {"UDP to UDP", "sip:carol@198.18.0.40:5080", 0, strings({rr_udp})},
        {"TCP to TCP", "sip:carol@198.18.0.40:5080;transport=tcp", 1, strings({rr_tcp})},
        {"UDP to TCP", "sip:carol@198.18.0.40:5080;transport=tcp", 0, strings({rr_tcp, rr_udp})},
        {"TCP to UDP", "sip:carol@198.18.0.40:5080", 1, strings({rr_udp, rr_tcp})},
        {"IPv4 to IPv6", "sip:carol@[2001:db8::40]:5080", 0, strings({rr_udp6, rr_udp})},
        {"IPv6 to IPv4", "sip:carol@198.18.0.40:5080", 2, strings({rr_udp, rr_udp6})},
        {"IPv6 to IPv6", "sip:carol@[2001:db8::40]:5080", 2, strings({rr_udp6})},
        {"the other IPv4 address", "sip:carol@198.18.0.40:5080", 3, strings({rr_other})},
        {"the other IPv4 address to TCP", "sip:carol@198.18.0.40:5080;transport=tcp", 3,
         strings({rr_tcp, rr_other})},
    };
    proxy_config c = test::with_udp6(test::with_tcp(stage_config()));
    c.listen.push_back({sip::transport::udp, addr("198.18.0.2:5062")});
    for (const row& r : rows) {
        for (const std::string_view method : {"INVITE", "SUBSCRIBE", "NOTIFY", "REFER"}) {
            SCOPED_TRACE(std::string(r.note) + ": " + std::string(method));
            stage_run s(c, request_spec{.method = method, .ruri = r.ruri}, addr("198.18.0.9:5070"), r.arrived_at);
            parsed out(forwarded(s));
            EXPECT_EQ(values(out.msg, sip::header_id::record_route), r.record_route);
        }
    }
}

TEST(Forward, ADoubleRecordRouteBringsTheDialogBackAcrossTheSameSides) {
    // An INVITE in by UDP, out by TCP; the dialog's requests come back with the two values as Route.
    const proxy_config c = test::with_tcp(stage_config());
    stage_run invite(c, request_spec{.ruri = "sip:carol@198.18.0.40:5080;transport=tcp"});
    parsed out(forwarded(invite));
    const std::vector<std::string> rr = values(out.msg, sip::header_id::record_route);
    ASSERT_EQ(rr, strings({rr_tcp, rr_udp}));
    // The caller's route set is the Record-Route reversed: it arrives by UDP and leaves to carol by
    // TCP (her Contact names no transport).
    stage_run from_caller(c, request_spec{.method = "BYE", .ruri = "sip:carol@198.18.0.40:5080", .to_tag = "c1",
                                          .extra = "Route: " + rr[1] + ", " + rr[0] + "\n"});
    parsed bye(forwarded(from_caller));
    EXPECT_EQ(from_caller.ctx.left_by, sip::transport::tcp);
    EXPECT_EQ(from_caller.ctx.transport, sip::transport::tcp);
    EXPECT_EQ(test::str(from_caller.ctx.destination), "198.18.0.40:5080");
    EXPECT_EQ(bye.msg.top_via.text, our_tcp_via);
    EXPECT_EQ(bye.msg.find(sip::header_id::route), nullptr);
    EXPECT_EQ(bye.msg.find(sip::header_id::record_route), nullptr);
    // The callee's is the Record-Route as it is: it arrives by TCP and leaves to alice by UDP.
    stage_run from_callee(c,
                          request_spec{.method = "BYE", .ruri = "sip:alice@198.18.0.9:5070",
                                       .via = "SIP/2.0/TCP 198.18.0.40:5080;branch=z9hG4bKc1", .to_tag = "a1",
                                       .extra = "Route: " + rr[0] + ", " + rr[1] + "\n"},
                          addr("198.18.0.40:40001"), 1);
    parsed bye2(forwarded(from_callee));
    EXPECT_EQ(from_callee.ctx.left_by, sip::transport::udp);
    EXPECT_EQ(from_callee.ctx.transport, sip::transport::udp);
    EXPECT_EQ(bye2.msg.top_via.text, our_udp_via);
}

// ---- RFC 3261 §18.1.1: a large UDP request moves to TCP --------------------------------------------

// An initial request whose forwarded form (under config `c`, arrived by UDP) is exactly `size` bytes.
std::string request_of_size(const proxy_config& c, std::string_view method, std::size_t size) {
    proxy_config udp_only = c;
    std::erase_if(udp_only.listen, [](const listen_point& l) { return l.transport != sip::transport::udp; });
    const auto text = [&](std::size_t n) {
        std::string t = test::request_text(request_spec{.method = method, .ruri = "sip:carol@198.18.0.40:5080"});
        t.insert(t.find("From: "), "X-Pad: " + std::string(n, 'p') + "\r\n");
        return t;
    };
    const auto forwarded_size = [&](std::size_t n) {
        stage_run s(udp_only, text(n), addr("198.18.0.9:5070"));
        return forwarded(s).size();
    };
    const std::size_t base = forwarded_size(100);
    EXPECT_LT(base, size);
    const std::string t = text(100 + size - base);
    EXPECT_EQ(forwarded_size(100 + size - base), size);
    return t;
}

TEST(Forward, OverThirteenHundredBytesUdpMovesToTcp) {
    const proxy_config c = test::with_tcp(stage_config());
    for (const std::string_view method : {"INVITE", "MESSAGE"}) {
        const bool rr = method == "INVITE";
        for (const std::size_t size : {std::size_t{1200}, max_udp_request, max_udp_request + 1, std::size_t{2000}}) {
            SCOPED_TRACE(std::string(method) + " of " + std::to_string(size) + " bytes");
            const bool moves = size > max_udp_request;
            stage_run s(c, request_of_size(c, method, size), addr("198.18.0.9:5070"));
            parsed out(forwarded(s));
            EXPECT_EQ(s.ctx.transport, moves ? sip::transport::tcp : sip::transport::udp);
            EXPECT_EQ(s.ctx.leave, &s.config.listen[moves ? 1 : 0]);
            EXPECT_EQ(out.msg.top_via.text, moves ? our_tcp_via : our_udp_via);
            EXPECT_EQ(out.msg.count(sip::header_id::via), 2u);  // ours once, whichever side
            const std::vector<std::string> record_route =
                !rr ? strings({}) : moves ? strings({rr_tcp, rr_udp}) : strings({rr_udp});
            EXPECT_EQ(values(out.msg, sip::header_id::record_route), record_route);
            EXPECT_EQ(test::str(s.ctx.destination), "198.18.0.40:5080");
            EXPECT_EQ(out.msg.request_uri_text, "sip:carol@198.18.0.40:5080");  // no transport= written
        }
    }
}

TEST(Forward, ALargeUdpRequestStaysWhenTcpCannotTakeIt) {
    const std::size_t size = 1500;
    // No TCP listen point.
    {
        const proxy_config c = stage_config();
        stage_run s(c, request_of_size(c, "INVITE", size), addr("198.18.0.9:5070"));
        parsed out(forwarded(s));
        EXPECT_EQ(s.ctx.transport, sip::transport::udp);
        EXPECT_EQ(out.msg.top_via.text, our_udp_via);
        EXPECT_EQ(s.edited().size(), size);
    }
    // No TCP listen point of the destination's family.
    {
        const proxy_config c = test::with_udp6(test::with_tcp(stage_config()));
        std::string t = test::request_text(request_spec{.ruri = "sip:carol@[2001:db8::40]:5080"});
        t.insert(t.find("From: "), "X-Pad: " + std::string(size, 'p') + "\r\n");
        stage_run s(c, t, addr("198.18.0.9:5070"));
        (void)forwarded(s);
        EXPECT_EQ(s.ctx.transport, sip::transport::udp);
        EXPECT_EQ(s.ctx.leave, &s.config.listen[2]);
    }
    // Larger than the stream path carries (with 64 bytes to spare).
    for (const std::size_t max_stream : {size + 63, size + 64}) {
        proxy_config c = test::with_tcp(stage_config());
        c.max_stream_message = max_stream;
        stage_run s(c, request_of_size(c, "INVITE", size), addr("198.18.0.9:5070"));
        (void)forwarded(s);
        EXPECT_EQ(s.ctx.transport, max_stream == size + 64 ? sip::transport::tcp : sip::transport::udp) << max_stream;
    }
}

// ---- what does not fit ------------------------------------------------------------------------------

TEST(Forward, TooManyEditsIsRefusedWith500) {
    // Each Route header of ours is one removal; with the forward's own edits they overflow the editor.
    std::string routes;
    for (std::size_t i = 0; i < sip::message_editor::max_edits; ++i) routes += "Route: <sip:198.18.0.1:5060;lr>\n";
    stage_run s(stage_config(), request_spec{.ruri = bob_contact, .to_tag = "b1", .extra = routes});
    ASSERT_TRUE(s.up_to_target().go_on());
    const verdict v = forward(s.ctx, branch);
    EXPECT_EQ(v.status, 500);
    EXPECT_EQ(v.reason, "Request Too Complex To Forward");
    EXPECT_EQ(s.ctx.err, sip::edit_error::too_many_edits);
}

// ---- RFC 3327: Path, in front of a registrar -----------------------------------------------------

TEST(Forward, AForwardedRegisterGetsOurPathWhenTheAgentSupportsIt) {
    const auto register_with = [](std::string_view extra, bool record_route = true) {
        proxy_config c = stage_config();
        c.record_route = record_route;
        stage_run s(c, request_spec{.method = "REGISTER", .ruri = "sip:198.18.0.60:5060", .extra = extra});
        return forwarded(s);
    };
    const std::string with = register_with("Supported: 100rel, path\n");
    EXPECT_NE(with.find("\r\nPath: <sip:198.18.0.1:5060;lr>\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;"), std::string::npos) << with;
    // Ours topmost, before the one a proxy nearer the user put.
    const std::string two = register_with("Path: <sip:198.18.0.70;lr>\nSupported: path\n");
    EXPECT_LT(two.find("Path: <sip:198.18.0.1:5060;lr>"), two.find("Path: <sip:198.18.0.70;lr>")) << two;
    EXPECT_EQ(register_with("Supported: 100rel\n").find("Path:"), std::string::npos);  // §5.1: not without support
    EXPECT_EQ(register_with("Supported: path\n", false).find("Path:"), std::string::npos);  // we are not on the route
}

} // namespace
} // namespace sipfast::proxy
