// SPDX-License-Identifier: Apache-2.0
// The local services stage alone: an OPTIONS to the proxy itself (Request-URI our address, no user
// part, no Route leading elsewhere) is answered 200 with Allow and Accept (RFC 3261 §11); any other
// request goes on. validate and route_locally run first: they decide ruri_is_us and whether a Route
// still leads.
// One-line mutation of src/proxy/stages/local_services.cpp caught here (applied by hand, never
// committed): `&& !ctx.have_next_route` dropped (OnlyAnOptionsToOurAddressIsAnswered).
#include "sipfast/proxy/stages/local_services.hpp"

#include <gtest/gtest.h>

#include <string>

#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::request_spec;
using test::stage_config;
using test::stage_run;

void expect_options_answer(const verdict& v) {
    EXPECT_EQ(v.status, 200);
    EXPECT_EQ(v.reason, "OK");
    EXPECT_EQ(v.drop, drop_cause::count_);  // an answer, not a drop
    const std::string extra(v.extra);
    ASSERT_EQ(extra.substr(0, 7), "Allow: ");
    const std::string allow = extra.substr(7, extra.find("\r\n") - 7);
    for (const char* m : {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "REGISTER", "SUBSCRIBE", "NOTIFY", "MESSAGE", "INFO",
                          "PRACK", "UPDATE", "REFER"})
        EXPECT_NE(allow.find(m), std::string::npos) << m;
    EXPECT_NE(extra.find("\r\nAccept: application/sdp\r\n"), std::string::npos);
    EXPECT_EQ(extra.substr(extra.size() - 2), "\r\n");  // whole lines
}

TEST(LocalServices, AnswerOptionsListsWhatWeAllow) { expect_options_answer(answer_options()); }

TEST(LocalServices, OnlyAnOptionsToOurAddressIsAnswered) {
    struct row {
        std::string_view method;
        std::string_view ruri;
        std::string_view extra;
        bool answered;
    };
    const row rows[] = {
        {"OPTIONS", "sip:198.18.0.1:5060", "", true},
        {"OPTIONS", "sip:198.18.0.1", "", true},
        {"OPTIONS", "sip:198.18.0.1:5060;transport=udp", "", true},
        {"OPTIONS", "sip:198.18.0.1:5060", "Route: <sip:198.18.0.1:5060;lr>\n", true},  // our own Route only
        {"OPTIONS", "sip:198.18.0.1:5060", "Route: <sip:198.18.0.50;lr>\n", false},     // a Route leads elsewhere
        {"OPTIONS", "sip:198.18.0.1:5060", "Route: <sip:198.18.0.1;lr>, <sip:198.18.0.50;lr>\n", false},
        // A strict router's: the last Route (us again) is the target, but the rest of the set leads on.
        {"OPTIONS", "sip:198.18.0.1:5060", "Route: <sip:198.18.0.50;lr>, <sip:198.18.0.1:5060>\n", false},
        // A strict router's whose real target, left in the last Route, is a user at our address: for
        // that user, not for us (§16.4: proceed as if the request had been received so).
        {"OPTIONS", "sip:198.18.0.1:5060;lr", "Route: <sip:carol@198.18.0.1:5060>\n", false},
        {"OPTIONS", "sip:198.18.0.1:5060;lr", "Route: <sip:198.18.0.1:5060>\n", true},
        {"OPTIONS", "sip:bob@198.18.0.1:5060", "", false},  // for bob, at our address
        {"OPTIONS", "sip:198.18.0.1:5070", "", false},      // another endpoint on our host
        {"OPTIONS", "sip:198.18.0.2", "", false},
        {"OPTIONS", "sip:example.com", "", false},          // our domain is not our address
        {"OPTIONS", "sip:bob@example.com", "", false},
        {"OPTIONS", "tel:+15551234;phone-context=example.com", "", false},
        {"INVITE", "sip:198.18.0.1:5060", "", false},
        {"MESSAGE", "sip:198.18.0.1:5060", "", false},
        {"REGISTER", "sip:198.18.0.1:5060", "", false},
    };
    for (const std::string_view to_tag : {"", "b1"}) {
        for (const row& r : rows) {
            SCOPED_TRACE(std::string(r.method) + " " + std::string(r.ruri) + " " + std::string(r.extra) +
                         (to_tag.empty() ? "" : " (in dialog)"));
            stage_run s(stage_config(), request_spec{.method = r.method, .ruri = r.ruri, .to_tag = to_tag, .extra = r.extra});
            s.validated_and_routed();
            const verdict v = serve_locally(s.ctx);
            if (r.answered) {
                expect_options_answer(v);
            } else {
                EXPECT_TRUE(v.go_on()) << v.status;
            }
            EXPECT_EQ(s.ctx.err, sip::edit_error::none);
        }
    }
}

TEST(LocalServices, IsOptionsToUsReadsWhatValidateNoted) {
    // is_options_to_us asks the context, not the message: a Request-URI validate did not find to
    // be ours is not.
    stage_run s(stage_config(), request_spec{.method = "OPTIONS", .ruri = "sip:198.18.0.1:5060"});
    EXPECT_FALSE(is_options_to_us(s.ctx));
    ASSERT_TRUE(validate(s.ctx).go_on());
    EXPECT_TRUE(is_options_to_us(s.ctx));
}

} // namespace
} // namespace sipfast::proxy
