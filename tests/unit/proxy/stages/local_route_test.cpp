// SPDX-License-Identifier: Apache-2.0
// The local routing stage alone (RFC 3261 §16.4, RFC 5658): a Request-URI of ours with a Route set
// came from a strict router (the last Route value becomes the target and leaves the set); otherwise
// every leading Route value of ours is removed, the transport the last one named being the side to
// leave by. Checked on the context it fills in (target, new_ruri, have_next_route, next_route,
// left_by) and on the Route headers of the edited message. validate runs first: it decides
// ruri_is_us.
// One-line mutations of src/proxy/stages/local_route.cpp each caught here (applied by hand, never
// committed): left_by always UDP (LeadingRoutesOfOursArePopped); the strict pop not setting new_ruri
// (AStrictRoutersLastRouteBecomesTheRequestUri); a Request-URI of ours with a user part taken for a
// strict router's (LeadingRoutesOfOursArePopped).
#include "sipfast/proxy/stages/local_route.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::parsed;
using test::request_spec;
using test::stage_config;
using test::stage_run;
using test::name;
using test::values;

// The proxy on UDP and TCP at 198.18.0.1:5060 and UDP at [2001:db8::1]:5060: what a double
// Record-Route names.
proxy_config two_sided() { return test::with_udp6(test::with_tcp(stage_config())); }

struct loose_row {
    std::string_view note;
    std::string_view ruri;
    std::string_view routes;      // Route header lines as received
    std::vector<std::string> left;  // Route values as forwarded
    std::string_view next_route;  // the URI of next_route, "" when none leads
    sip::transport left_by;
};

void check_loose(const proxy_config& c, const loose_row& r, std::string_view to_tag) {
    SCOPED_TRACE(std::string(r.note) + (to_tag.empty() ? " (initial)" : " (in dialog)"));
    stage_run s(c, request_spec{.ruri = r.ruri, .to_tag = to_tag, .extra = r.routes});
    ASSERT_TRUE(validate(s.ctx).go_on());
    const bool ruri_is_us = s.ctx.ruri_is_us;
    ASSERT_TRUE(route_locally(s.ctx).go_on());
    // Loose routing leaves the Request-URI alone.
    EXPECT_EQ(s.ctx.target.text, r.ruri);
    EXPECT_TRUE(s.ctx.new_ruri.empty());
    EXPECT_EQ(s.ctx.ruri_is_us, ruri_is_us);
    EXPECT_EQ(s.ctx.have_next_route, !r.next_route.empty());
    if (!r.next_route.empty()) {
        EXPECT_EQ(s.ctx.next_route.address.text, r.next_route);
    }
    EXPECT_EQ(s.ctx.left_by, r.left_by) << name(s.ctx.left_by);
    EXPECT_EQ(s.ctx.err, sip::edit_error::none);
    const std::string edited = s.edited();
    parsed out(edited);
    ASSERT_TRUE(out.result.ok()) << edited;
    EXPECT_EQ(values(out.msg, sip::header_id::route), r.left) << edited;
    EXPECT_EQ(out.msg.request_uri_text, r.ruri);
    // Nothing else is touched: the edited message is the received one without the popped values.
    EXPECT_EQ(values(out.msg, sip::header_id::via), values(s.p.msg, sip::header_id::via));
    EXPECT_EQ(out.msg.call_id, s.p.msg.call_id);
}

TEST(LocalRoute, LeadingRoutesOfOursArePopped) {
    const loose_row rows[] = {
        {"no Route", "sip:bob@example.com", "", {}, "", sip::transport::unknown},
        {"only ours", "sip:bob@198.18.0.20:5062", "Route: <sip:198.18.0.1:5060;lr>\n", {}, "", sip::transport::udp},
        {"ours without a port", "sip:bob@198.18.0.20:5062", "Route: <sip:198.18.0.1;lr>\n", {}, "", sip::transport::udp},
        {"ours with a display name", "sip:bob@198.18.0.20:5062", "Route: \"p\" <sip:198.18.0.1:5060;lr>\n", {}, "",
         sip::transport::udp},
        {"ours, then the next hop", "sip:bob@198.18.0.20:5062", "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.50;lr>\n",
         {"<sip:198.18.0.50;lr>"}, "sip:198.18.0.50;lr", sip::transport::udp},
        // The parser's decode of the first value serves; blanks and a fold may stand before its comma.
        {"ours, blanks and a fold before the comma", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;lr> \t\n ,<sip:198.18.0.50;lr>\n", {"<sip:198.18.0.50;lr>"},
         "sip:198.18.0.50;lr", sip::transport::udp},
        {"ours with header parameters, then the next hop", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;lr>;x=1 , <sip:198.18.0.1:5060;transport=tcp;lr>,<sip:198.18.0.50;lr>\n",
         {"<sip:198.18.0.50;lr>"}, "sip:198.18.0.50;lr", sip::transport::tcp},
        {"ours, then the next hop on its own line", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;lr>\nRoute: <sip:198.18.0.50;lr>, <sip:198.18.0.51;lr>\n",
         {"<sip:198.18.0.50;lr>", "<sip:198.18.0.51;lr>"}, "sip:198.18.0.50;lr", sip::transport::udp},
        {"the next hop first: nothing popped", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.50;lr>, <sip:198.18.0.1:5060;lr>\n", {"<sip:198.18.0.50;lr>", "<sip:198.18.0.1:5060;lr>"},
         "sip:198.18.0.50;lr", sip::transport::unknown},
        {"our host on another port is not us", "sip:bob@198.18.0.20:5062", "Route: <sip:198.18.0.1:5070;lr>\n",
         {"<sip:198.18.0.1:5070;lr>"}, "sip:198.18.0.1:5070;lr", sip::transport::unknown},
        {"a name is not us", "sip:bob@198.18.0.20:5062", "Route: <sip:proxy.example.com;lr>\n",
         {"<sip:proxy.example.com;lr>"}, "sip:proxy.example.com;lr", sip::transport::unknown},
        // RFC 5658: the double Record-Route we wrote when the request changed sides comes back as
        // two values, both ours; the transport the last one names is where the request leaves.
        {"double, UDP then TCP", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.1:5060;transport=tcp;lr>\n", {}, "", sip::transport::tcp},
        {"double, TCP then UDP", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;transport=tcp;lr>, <sip:198.18.0.1:5060;lr>\n", {}, "", sip::transport::udp},
        {"double on two lines, UDP then TCP", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;lr>\nRoute: <sip:198.18.0.1:5060;transport=tcp;lr>\n", {}, "", sip::transport::tcp},
        {"double, TCP upper case", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.1:5060;transport=TCP;lr>\n", {}, "", sip::transport::tcp},
        {"double, UDP then TCP, then the next hop", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.1:5060;transport=tcp;lr>, <sip:198.18.0.50;lr>\n",
         {"<sip:198.18.0.50;lr>"}, "sip:198.18.0.50;lr", sip::transport::tcp},
        {"double, IPv4 then IPv6", "sip:bob@[2001:db8::20]:5062",
         "Route: <sip:198.18.0.1:5060;lr>, <sip:[2001:db8::1]:5060;lr>\n", {}, "", sip::transport::udp},
        {"double, explicit transport=udp last", "sip:bob@198.18.0.20:5062",
         "Route: <sip:198.18.0.1:5060;transport=tcp;lr>, <sip:198.18.0.1:5060;transport=udp;lr>\n", {}, "",
         sip::transport::udp},
        // A Request-URI of ours with a user part is not a strict router's: loose routing.
        {"our address with a user", "sip:carol@198.18.0.1:5060", "Route: <sip:198.18.0.1;lr>\n", {}, "",
         sip::transport::udp},
    };
    const proxy_config c = two_sided();
    for (const loose_row& r : rows) {
        check_loose(c, r, "");
        check_loose(c, r, "b1");
    }
}

// The parser decodes the first Route value only; once ours is popped the next one leads, and one
// that does not parse would be forwarded as the top Route of a request nobody can read (our copy
// for its CANCEL and our own answers included).
TEST(LocalRoute, AnUnreadableRouteAfterOursIsRefused) {
    const std::string_view routes[] = {
        "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.50;lr\n",
        "Route: <sip:198.18.0.1:5060;lr>\nRoute: <sip:198.18.0.1:5060;lr;sfd=54c73670\n",
        "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.1:5060;transport=tcp;lr>, \"x <sip:198.18.0.50;lr>\n",
    };
    for (const std::string_view to_tag : {"", "b1"}) {
        for (const std::string_view r : routes) {
            SCOPED_TRACE(std::string(r) + (to_tag.empty() ? " (initial)" : " (in dialog)"));
            stage_run s(two_sided(), request_spec{.ruri = "sip:bob@198.18.0.20:5062", .to_tag = to_tag, .extra = r});
            ASSERT_TRUE(validate(s.ctx).go_on());
            const verdict v = route_locally(s.ctx);
            EXPECT_EQ(v.status, 400);
            EXPECT_EQ(v.reason, "Bad Request (Malformed Route)");
            EXPECT_EQ(v.drop, drop_cause::malformed);
        }
    }
    // A value that does not parse after the next hop is the next hop's to read, not ours.
    stage_run s(two_sided(), request_spec{.ruri = "sip:bob@198.18.0.20:5062",
                                          .extra = "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.50;lr>, <sip:x\n"});
    ASSERT_TRUE(validate(s.ctx).go_on());
    ASSERT_TRUE(route_locally(s.ctx).go_on());
    EXPECT_EQ(s.ctx.next_route.address.text, "sip:198.18.0.50;lr");
}

TEST(LocalRoute, NoRouteNoEdit) {
    stage_run s(stage_config(), request_spec{});
    s.validated_and_routed();
    EXPECT_EQ(s.editor.edits(), 0u);
    EXPECT_EQ(s.edited(), s.p.text);
}

// ---- §16.4: a strict router's request ----------------------------------------------------------------

TEST(LocalRoute, AStrictRoutersLastRouteBecomesTheRequestUri) {
    struct row {
        std::string_view note;
        std::string_view ruri;    // ours: the Record-Route URI we gave
        std::string_view routes;  // as received
        std::string_view target;  // the new Request-URI
        std::vector<std::string> left;
        std::string_view next_route;
        bool target_is_us;
    };
    const row rows[] = {
        {"one value", "sip:198.18.0.1:5060;lr", "Route: <sip:bob@198.18.0.20:5062>\n", "sip:bob@198.18.0.20:5062", {}, "",
         false},
        {"our URI without lr or port", "sip:198.18.0.1", "Route: <sip:bob@198.18.0.20:5062>\n", "sip:bob@198.18.0.20:5062",
         {}, "", false},
        {"two values in one header", "sip:198.18.0.1:5060;lr", "Route: <sip:198.18.0.50;lr>, <sip:bob@198.18.0.20:5062>\n",
         "sip:bob@198.18.0.20:5062", {"<sip:198.18.0.50;lr>"}, "sip:198.18.0.50;lr", false},
        {"two headers", "sip:198.18.0.1:5060;lr", "Route: <sip:198.18.0.50;lr>\nRoute: <sip:bob@198.18.0.20:5062>\n",
         "sip:bob@198.18.0.20:5062", {"<sip:198.18.0.50;lr>"}, "sip:198.18.0.50;lr", false},
        {"three values over two headers", "sip:198.18.0.1:5060;lr",
         "Route: <sip:198.18.0.50;lr>\nRoute: <sip:198.18.0.51;lr>, <sip:bob@198.18.0.20:5062;transport=tcp>\n",
         "sip:bob@198.18.0.20:5062;transport=tcp", {"<sip:198.18.0.50;lr>", "<sip:198.18.0.51;lr>"}, "sip:198.18.0.50;lr",
         false},
        {"the target is a user at our address", "sip:198.18.0.1:5060;lr", "Route: <sip:carol@198.18.0.1:5060>\n",
         "sip:carol@198.18.0.1:5060", {}, "", true},
        {"the rest of the set starts with us", "sip:198.18.0.1:5060;lr",
         "Route: <sip:198.18.0.1:5060;lr>, <sip:bob@198.18.0.20:5062>\n", "sip:bob@198.18.0.20:5062",
         {"<sip:198.18.0.1:5060;lr>"}, "", false},
    };
    for (const std::string_view to_tag : {"", "b1"}) {
        for (const row& r : rows) {
            SCOPED_TRACE(std::string(r.note) + (to_tag.empty() ? " (initial)" : " (in dialog)"));
            stage_run s(stage_config(), request_spec{.ruri = r.ruri, .to_tag = to_tag, .extra = r.routes});
            ASSERT_TRUE(validate(s.ctx).go_on());
            ASSERT_TRUE(s.ctx.ruri_is_us);
            ASSERT_TRUE(route_locally(s.ctx).go_on());
            EXPECT_EQ(s.ctx.target.text, r.target);
            EXPECT_EQ(s.ctx.new_ruri, r.target);
            EXPECT_EQ(s.ctx.ruri_is_us, r.target_is_us);
            EXPECT_EQ(s.ctx.have_next_route, !r.next_route.empty());
            if (!r.next_route.empty()) {
        EXPECT_EQ(s.ctx.next_route.address.text, r.next_route);
    }
            EXPECT_EQ(s.ctx.left_by, sip::transport::unknown);  // nothing of ours was popped
            const std::string edited = s.edited();
            parsed out(edited);
            ASSERT_TRUE(out.result.ok()) << edited;
            EXPECT_EQ(values(out.msg, sip::header_id::route), r.left) << edited;
            // The stage only decides the new Request-URI; forward writes it.
            EXPECT_EQ(out.msg.request_uri_text, r.ruri);
        }
    }
}

TEST(LocalRoute, OurRequestUriWithoutRouteIsNotAStrictRouters) {
    stage_run s(stage_config(), request_spec{.method = "OPTIONS", .ruri = "sip:198.18.0.1:5060"});
    s.validated_and_routed();
    EXPECT_EQ(s.ctx.target.text, "sip:198.18.0.1:5060");
    EXPECT_TRUE(s.ctx.new_ruri.empty());
    EXPECT_TRUE(s.ctx.ruri_is_us);
    EXPECT_FALSE(s.ctx.have_next_route);
    EXPECT_EQ(s.editor.edits(), 0u);
}

} // namespace
} // namespace sipfast::proxy
