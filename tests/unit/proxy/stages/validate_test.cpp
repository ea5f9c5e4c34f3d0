// SPDX-License-Identifier: Apache-2.0
// The validate stage alone (RFC 3261 §16.3): the Request-URI's scheme (416), Max-Forwards (483,
// but an OPTIONS to us is answered 200), Proxy-Require (420 with Unsupported), loops (482 through
// the loop hash our Via branch carries); what it records for the stages after it (ruri_is_us,
// loop_hash); and the two hashes, loop_hash() and request_hash().
// One-line mutations of src/proxy/stages/validate.cpp each caught here (applied by hand, never
// committed): `m.max_forwards == 0` -> `<= 1` (MaxForwardsZeroIsRefusedOneAndAbsentGoOn); the is_us()
// test dropped from the loop check (OurViaWithThisRequestsLoopHashIsALoop); an ACK's To tag hashed
// (LoopHash.AnAcksToTagIsLeftOut).
#include "sipfast/proxy/stages/validate.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sipfast/txn/branch.hpp"
#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::parsed;
using test::request_spec;
using test::request_text;
using test::stage_config;
using test::stage_run;

std::string trace(const request_spec& r) {
    return std::string(r.method) + " " + std::string(r.ruri) + (r.to_tag.empty() ? "" : " (in dialog)") +
           ", Max-Forwards '" + std::string(r.max_forwards) + "'" +
           (r.extra.empty() ? "" : ", " + std::string(r.extra));
}

// ---- scanners ------------------------------------------------------------------------------------

TEST(Validate, ScannersAreDroppedUnanswered) {
    for (const std::string_view ua : {"friendly-scanner", "sipvicious 0.3.4", "SIPVicious", "sipcli/v1.8", "VaxSIPUserAgent/3.1"}) {
        const std::string extra = "User-Agent: " + std::string(ua) + "\n";
        stage_run s(stage_config(), request_spec{.method = "OPTIONS", .extra = extra});
        const verdict v = validate(s.ctx);
        EXPECT_FALSE(v.go_on()) << ua;
        EXPECT_FALSE(v.answered()) << ua;
        EXPECT_EQ(v.drop, drop_cause::scanner) << ua;
    }
    // Phones and test tools operators use go on.
    for (const std::string_view ua : {"Zoiper v2.10", "FreeSWITCH-mod_sofia/1.10", "sipsak 0.9.8", "baresip v1.0.0"}) {
        const std::string extra = "User-Agent: " + std::string(ua) + "\n";
        stage_run s(stage_config(), request_spec{.method = "OPTIONS", .extra = extra});
        EXPECT_TRUE(validate(s.ctx).go_on()) << ua;
    }
}

// ---- §16.3 step 2: the scheme -------------------------------------------------------------------

TEST(Validate, RoutesSipSipsAndTelOnlyAndNotesWhetherTheRequestUriIsUs) {
    struct row {
        std::string_view ruri;
        int status;  // 0: goes on
        bool ruri_is_us;
    };
    const row rows[] = {
        {"sip:bob@example.com", 0, false},
        {"sips:bob@example.com", 416, false},  // RFC 3261 §26.2: TLS on every hop, and we serve none
        {"tel:+15551234;phone-context=example.com", 0, false},
        {"tel:+15551234", 0, false},
        {"sip:198.18.0.1:5060", 0, true},
        {"sip:198.18.0.1", 0, true},         // no port: 5060, ours
        {"sip:bob@198.18.0.1:5060", 0, true},  // a user at our address is still our address
        {"sip:198.18.0.1:5070", 0, false},   // our host, another port: another endpoint
        {"sip:198.18.0.2:5060", 0, false},
        {"sip:example.com", 0, false},       // a domain we serve is not our address
        {"mailto:bob@example.com", 416, false},
        {"http://example.com/bob", 416, false},
        {"urn:service:counseling", 416, false},  // a service URN other than an emergency one
        {"urn:service:sos", 503, false},  // an emergency one is never 416: 503 without [emergency] next_hop
    };
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.ruri));
        stage_run s(stage_config(), request_spec{.ruri = r.ruri});
        const verdict v = validate(s.ctx);
        EXPECT_EQ(v.status, r.status);
        if (r.status == 416) {
            EXPECT_EQ(v.reason, "Unsupported URI Scheme");
            continue;
        }
        if (r.status == 503) {
            EXPECT_TRUE(s.ctx.emergency);
            continue;
        }
        EXPECT_TRUE(v.go_on());
        EXPECT_EQ(s.ctx.ruri_is_us, r.ruri_is_us);
        EXPECT_EQ(s.ctx.loop_hash, loop_hash(s.p.msg));
        EXPECT_EQ(s.editor.edits(), 0u);  // validation never edits
    }
}

TEST(Validate, OurAddressOnAnyListenPointIsUs) {
    proxy_config c = test::with_udp6(test::with_tcp(stage_config()));
    c.listen.push_back({sip::transport::udp, test::addr("198.18.0.2:5080")});
    struct row {
        std::string_view ruri;
        bool us;
    };
    const row rows[] = {
        {"sip:198.18.0.2:5080", true},   {"sip:198.18.0.2", false},  {"sip:[2001:db8::1]:5060", true},
        {"sip:[2001:db8::1]", true},     {"sip:[2001:db8::2]", false}, {"sip:198.18.0.1;transport=tcp", true},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.ruri));
        stage_run s(c, request_spec{.method = "MESSAGE", .ruri = r.ruri});
        ASSERT_TRUE(validate(s.ctx).go_on());
        EXPECT_EQ(s.ctx.ruri_is_us, r.us);
    }
}

// ---- §16.3 step 3: Max-Forwards -------------------------------------------------------------------

TEST(Validate, MaxForwardsZeroIsRefusedOneAndAbsentGoOn) {
    const std::string_view methods[] = {"INVITE", "ACK",  "BYE",     "CANCEL", "SUBSCRIBE", "NOTIFY", "REFER",
                                        "MESSAGE", "INFO", "OPTIONS", "UPDATE", "PRACK",     "REGISTER"};
    struct row {
        std::string_view max_forwards;
        bool refused;
    };
    const row rows[] = {{"0", true}, {"00", true}, {"1", false}, {"2", false}, {"70", false}, {"255", false}, {"", false}};
    for (const std::string_view method : methods) {
        for (const std::string_view to_tag : {"", "b1"}) {
            for (const row& r : rows) {
                const request_spec q{.method = method, .max_forwards = r.max_forwards, .to_tag = to_tag};
                SCOPED_TRACE(trace(q));
                stage_run s(stage_config(), q);
                const verdict v = validate(s.ctx);
                if (r.refused) {
                    // An ACK too: the pipeline drops it rather than answering (§17.2.3).
                    EXPECT_EQ(v.status, 483);
                    EXPECT_EQ(v.reason, "Too Many Hops");
                    EXPECT_TRUE(v.extra.empty());
                } else {
                    EXPECT_TRUE(v.go_on()) << v.status;
                }
            }
        }
    }
}

TEST(Validate, AnOptionsToUsIsAnsweredAtMaxForwardsZero) {
    struct row {
        std::string_view method;
        std::string_view ruri;
        int status;
    };
    const row rows[] = {
        {"OPTIONS", "sip:198.18.0.1:5060", 200},
        {"OPTIONS", "sip:198.18.0.1", 200},
        {"OPTIONS", "sip:198.18.0.1;transport=udp", 200},
        {"OPTIONS", "sip:bob@198.18.0.1:5060", 483},  // a user part: for bob, not for us
        {"OPTIONS", "sip:198.18.0.1:5070", 483},      // another port: another endpoint
        {"OPTIONS", "sip:bob@example.com", 483},
        {"OPTIONS", "sip:example.com", 483},          // our domain, not our address
        {"OPTIONS", "tel:+15551234;phone-context=example.com", 483},
        {"INVITE", "sip:198.18.0.1:5060", 483},       // only OPTIONS
        {"MESSAGE", "sip:198.18.0.1:5060", 483},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.method) + " " + std::string(r.ruri));
        stage_run s(stage_config(), request_spec{.method = r.method, .ruri = r.ruri, .max_forwards = "0"});
        const verdict v = validate(s.ctx);
        EXPECT_EQ(v.status, r.status);
        if (r.status != 200) continue;
        EXPECT_EQ(v.reason, "OK");
        EXPECT_NE(v.extra.find("Allow: "), std::string_view::npos);
        EXPECT_NE(v.extra.find("OPTIONS"), std::string_view::npos);
        EXPECT_EQ(v.extra.substr(v.extra.size() - 2), "\r\n");
    }
}

// ---- §16.3 step 6: Proxy-Require ------------------------------------------------------------------

TEST(Validate, ProxyRequireListsEveryTagWeDoNotSupport) {
    struct row {
        std::string_view extra;
        int status;
        std::string_view unsupported;  // the Unsupported line's value
    };
    const row rows[] = {
        {"", 0, ""},
        {"Proxy-Require: sec-agree\n", 0, ""},
        {"Proxy-Require: SEC-AGREE\n", 0, ""},  // option tags compare case-insensitively
        {"Proxy-Require: sec-agree, 100rel\n", 0, ""},
        {"Proxy-Require: foo\n", 420, "foo"},
        {"Proxy-Require: sec-agree, foo\n", 420, "foo"},
        {"Proxy-Require: foo, sec-agree, bar\n", 420, "foo, bar"},
        {"Proxy-Require: foo\nProxy-Require: sec-agree\nProxy-Require: bar\n", 420, "foo, bar"},
        {"Require: foo\n", 0, ""},  // Require is for the UAS, not for us
    };
    proxy_config c = stage_config();
    c.extensions = {"sec-agree", "100rel"};
    for (const row& r : rows) {
        SCOPED_TRACE(std::string(r.extra));
        stage_run s(c, request_spec{.extra = r.extra});
        const verdict v = validate(s.ctx);
        EXPECT_EQ(v.status, r.status);
        if (r.status == 0) continue;
        EXPECT_EQ(v.reason, "Bad Extension");
        EXPECT_EQ(v.extra, "Unsupported: " + std::string(r.unsupported) + "\r\n");
        EXPECT_EQ(s.ctx.err, sip::edit_error::none);
    }
    // With no extension configured, every tag is unsupported; sec-agree too when [sec_agree] refuses it.
    stage_run s(stage_config(), request_spec{.extra = "Proxy-Require: precondition\n"});
    const verdict v = validate(s.ctx);
    EXPECT_EQ(v.status, 420);
    EXPECT_EQ(v.extra, "Unsupported: precondition\r\n");
    proxy_config refusing = stage_config();
    refusing.sec_agree = sec_agree_mode::refuse;
    stage_run r(refusing, request_spec{.extra = "Proxy-Require: sec-agree\n"});
    EXPECT_EQ(validate(r.ctx).status, 420);
    stage_run accepting(stage_config(), request_spec{.extra = "Proxy-Require: sec-agree\n"});
    EXPECT_TRUE(validate(accepting.ctx).go_on());
}

TEST(Validate, TheChecksComeInTheOrderOfSection16_3) {
    // Scheme before Max-Forwards before Proxy-Require.
    stage_run a(stage_config(), request_spec{.ruri = "mailto:bob@example.com", .max_forwards = "0",
                                             .extra = "Proxy-Require: foo\n"});
    EXPECT_EQ(validate(a.ctx).status, 416);
    stage_run b(stage_config(), request_spec{.max_forwards = "0", .extra = "Proxy-Require: foo\n"});
    EXPECT_EQ(validate(b.ctx).status, 483);
}

// ---- §16.3 step 4: loops -----------------------------------------------------------------------

// Our Via as we would have added it to a request whose loop hash is `hash` (stateless branch).
std::string our_via(std::string_view host_port, std::uint64_t hash) {
    return "SIP/2.0/UDP " + std::string(host_port) + ";branch=" +
           std::string(txn::our_branch::stateless(0, 0x1234, {"call", 1}, hash).text());
}

TEST(Validate, OurViaWithThisRequestsLoopHashIsALoop) {
    const request_spec sent{.ruri = "sip:carol@198.18.0.40:5080"};
    const std::uint64_t hash = loop_hash(parsed(request_text(sent)).msg);
    const std::string uac_via = "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1;rport";
    const std::string ours = our_via("198.18.0.1:5060", hash);
    const std::string ours_no_port = our_via("198.18.0.1", hash);
    const std::string other_proxy = "SIP/2.0/UDP 198.18.0.60:5060;branch=z9hG4bKother1";
    struct row {
        std::string note;
        std::string via;    // the first Via header's value
        std::string extra;  // header lines after Max-Forwards
        std::string_view ruri;
        int status;
    };
    const row rows[] = {
        {"our Via on top", ours, "Via: " + uac_via + "\n", sent.ruri, 482},
        {"our Via without port", ours_no_port, "Via: " + uac_via + "\n", sent.ruri, 482},
        {"our Via under another proxy's, one line", other_proxy + ", " + ours + ", " + uac_via, "", sent.ruri, 482},
        {"our Via under another proxy's, own line", other_proxy, "Via: " + ours + "\nVia: " + uac_via + "\n", sent.ruri, 482},
        {"a spiral: the Request-URI changed", ours, "Via: " + uac_via + "\n", "sip:carol@198.18.0.41:5080", 0},
        {"the branch is ours but names another hash", our_via("198.18.0.1:5060", hash ^ 1), "Via: " + uac_via + "\n",
         sent.ruri, 0},
        {"the same branch at another address", our_via("198.18.0.2:5060", hash), "Via: " + uac_via + "\n", sent.ruri, 0},
        {"the same branch at another port", our_via("198.18.0.1:5070", hash), "Via: " + uac_via + "\n", sent.ruri, 0},
        {"a Route added", ours, "Via: " + uac_via + "\nRoute: <sip:198.18.0.50;lr>\n", sent.ruri, 0},
        {"not ours at all", uac_via, "", sent.ruri, 0},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.note);
        stage_run s(stage_config(), request_spec{.ruri = r.ruri, .via = r.via, .extra = r.extra});
        const verdict v = validate(s.ctx);
        EXPECT_EQ(v.status, r.status) << s.p.text;
        if (r.status == 482) {
            EXPECT_EQ(v.reason, "Loop Detected");
            EXPECT_EQ(s.ctx.loop_hash, hash);
        }
    }
}

TEST(Validate, AStatefulBranchCarriesTheLoopHashToo) {
    const request_spec sent{.method = "MESSAGE", .ruri = "sip:carol@198.18.0.40:5080"};
    const std::uint64_t hash = loop_hash(parsed(request_text(sent)).msg);
    const std::string via = "SIP/2.0/UDP 198.18.0.1:5060;branch=" + std::string(txn::our_branch::stateful(1, 7, 3, {"call", 1}, hash).text());
    stage_run s(stage_config(), request_spec{.method = "MESSAGE", .ruri = sent.ruri, .via = via,
                                             .extra = "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1\n"});
    EXPECT_EQ(validate(s.ctx).status, 482);
}

// ---- the hashes ------------------------------------------------------------------------------------

std::uint64_t loop_of(const request_spec& r) { return loop_hash(parsed(request_text(r)).msg); }
std::uint64_t request_of(const request_spec& r) { return request_hash(parsed(request_text(r)).msg); }

TEST(LoopHash, WhatDecidesWhereTheRequestGoes) {
    const request_spec base{.to_tag = "b1", .extra = "Route: <sip:198.18.0.50;lr>\n"};
    const std::uint64_t h = loop_of(base);
    // What does not decide where it goes leaves it alone.
    EXPECT_EQ(loop_of({.via = "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKother", .to_tag = "b1",
                       .extra = "Route: <sip:198.18.0.50;lr>\n"}),
              h);
    EXPECT_EQ(loop_of({.max_forwards = "3", .to_tag = "b1", .extra = "Route: <sip:198.18.0.50;lr>\n"}), h);
    EXPECT_EQ(loop_of({.to_tag = "b1", .extra = "Route: <sip:198.18.0.50;lr>\nSubject: hi\n"}), h);
    // What does changes it.
    EXPECT_NE(loop_of({.ruri = "sip:bob@example.org", .to_tag = "b1", .extra = "Route: <sip:198.18.0.50;lr>\n"}), h);
    EXPECT_NE(loop_of({.to_tag = "b2", .extra = "Route: <sip:198.18.0.50;lr>\n"}), h);
    EXPECT_NE(loop_of({.to_tag = "b1"}), h);
    EXPECT_NE(loop_of({.to_tag = "b1", .extra = "Route: <sip:198.18.0.51;lr>\n"}), h);
    EXPECT_NE(loop_of({.to_tag = "b1", .extra = "Route: <sip:198.18.0.50;lr>, <sip:198.18.0.51;lr>\n"}), h);
    std::string other_call = request_text(base);
    other_call.replace(other_call.find("stage-1@"), 8, "stage-2@");
    EXPECT_NE(loop_hash(parsed(other_call).msg), h);
    std::string other_from = request_text(base);
    other_from.replace(other_from.find("tag=a1"), 6, "tag=a2");
    EXPECT_NE(loop_hash(parsed(other_from).msg), h);
}

TEST(LoopHash, AnAcksToTagIsLeftOut) {
    // The ACK of a non-2xx answer carries the To tag of that answer; the INVITE had none.
    EXPECT_EQ(loop_of({.method = "ACK", .to_tag = "b1"}), loop_of({.method = "INVITE"}));
    EXPECT_EQ(loop_of({.method = "ACK", .to_tag = "b1"}), loop_of({.method = "ACK", .to_tag = "b2"}));
    EXPECT_NE(loop_of({.method = "BYE", .to_tag = "b1"}), loop_of({.method = "BYE", .to_tag = "b2"}));
}

TEST(RequestHash, SharedByRetransmissionsTheirCancelAndTheNon2xxAck) {
    const std::uint64_t h = request_of({});
    EXPECT_EQ(request_of({}), h);
    EXPECT_EQ(request_of({.method = "CANCEL"}), h);
    EXPECT_EQ(request_of({.method = "ACK", .to_tag = "b1"}), h);
    EXPECT_NE(request_of({.via = "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac2;rport"}), h);
    EXPECT_NE(request_of({.via = "SIP/2.0/UDP 198.18.0.8:5070;branch=z9hG4bKuac1;rport"}), h);
    // RFC 2543 branches (no magic cookie): the Via, From tag, Call-ID, CSeq number and Request-URI.
    const request_spec old{.via = "SIP/2.0/UDP 198.18.0.9:5070;branch=1"};
    const std::uint64_t o = request_of(old);
    EXPECT_EQ(request_of({.method = "CANCEL", .via = old.via}), o);
    EXPECT_EQ(request_of({.method = "ACK", .via = old.via, .to_tag = "b1"}), o);
    EXPECT_NE(request_of({.ruri = "sip:bob@example.org", .via = old.via}), o);
    EXPECT_NE(request_of({.via = "SIP/2.0/UDP 198.18.0.9:5070;branch=2"}), o);
    std::string cseq2 = request_text(old);
    cseq2.replace(cseq2.find("CSeq: 1 "), 8, "CSeq: 2 ");
    EXPECT_NE(request_hash(parsed(cseq2).msg), o);
}

} // namespace
} // namespace sipfast::proxy
