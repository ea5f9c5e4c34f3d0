// SPDX-License-Identifier: Apache-2.0
// sec-agree (RFC 3329, TS 33.203 §7.2) at an edge without IPsec: the option tag accepted or
// refused as configured, Security-Server answered on our challenge, Security-Verify checked, and
// everything of it stripped from what is forwarded.
#include "sipfast/proxy/stages/sec_agree.hpp"

#include <gtest/gtest.h>

#include <string>

#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::request_spec;
using test::stage_run;

// Two of the six mechanisms seed 000's phone offers, as it writes them.
constexpr std::string_view mech1 =
    "ipsec-3gpp;alg=hmac-sha-1-96;prot=esp;mod=trans;ealg=aes-cbc;spi-c=13710035;spi-s=50757030;port-c=31521;port-s=31867";
constexpr std::string_view mech2 =
    "ipsec-3gpp;alg=hmac-md5-96;prot=esp;mod=trans;ealg=null;spi-c=13710035;spi-s=50757030;port-c=31521;port-s=31867";

struct sec_agree_fixture : ::testing::Test {
    proxy_config config = test::stage_config();
    std::array<char, 2048> room{};

    sec_agree_fixture() { config.serve_registrations = true; }

    /// validate, local routing, then sec-agree, as the pipeline chains them.
    verdict run(stage_run& r) {
        verdict v = validate(r.ctx);
        if (v.go_on()) v = route_locally(r.ctx);
        if (v.go_on()) v = sec_agree(r.ctx, room);
        return v;
    }
    static std::string offer() {
        return "Supported: path,sec-agree\nRequire: sec-agree\nProxy-Require: sec-agree\nSecurity-Client: " +
               std::string(mech1) + "," + std::string(mech2) + "\n";
    }
    static request_spec reg(const std::string& extra) {
        return {.method = "REGISTER", .ruri = "sip:example.com", .extra = extra, .contact = "<sip:bob@198.18.0.30:5080>"};
    }
    /// The Security-Server our challenge would carry for `offer()`, without its name and CRLF.
    std::string server_list() {
        const std::string extra = offer();
        stage_run r(config, reg(extra));
        EXPECT_TRUE(run(r).go_on());
        std::string line(r.ctx.security_server);
        EXPECT_EQ(line.rfind("Security-Server: ", 0), 0u) << line;
        EXPECT_EQ(line.substr(line.size() - 2), "\r\n");
        return line.substr(17, line.size() - 19);
    }
};

TEST_F(sec_agree_fixture, RefusedModeAnswers420AsAnyTagWeDoNotSupport) {
    config.sec_agree = sec_agree_mode::refuse;
    const std::string extra = offer();
    stage_run r(config, reg(extra));
    const verdict v = run(r);
    EXPECT_EQ(v.status, 420);
    EXPECT_EQ(v.extra, "Unsupported: sec-agree\r\n");
    // Listed in extensions it passes Proxy-Require, as before this stage existed, and is left alone.
    config.extensions = {"sec-agree"};
    stage_run listed(config, request_spec{.extra = "Proxy-Require: sec-agree\n"});
    EXPECT_TRUE(run(listed).go_on());
    EXPECT_NE(listed.edited().find("Proxy-Require: sec-agree"), std::string::npos);
}

TEST_F(sec_agree_fixture, AcceptedByDefaultWithTheOfferedMechanismsInSecurityServer) {
    EXPECT_EQ(config.sec_agree, sec_agree_mode::accept);
    const std::string list = server_list();
    // Each offered mechanism, in the phone's order, with the same MAC of the whole list.
    const std::size_t second = list.find(", ipsec-3gpp;alg=hmac-md5-96");
    ASSERT_NE(second, std::string::npos) << list;
    const std::string a = list.substr(0, second);
    const std::string b = list.substr(second + 2);
    EXPECT_EQ(a.rfind(std::string(mech1) + ";sfv=", 0), 0u) << a;
    EXPECT_EQ(b.rfind(std::string(mech2) + ";sfv=", 0), 0u) << b;
    EXPECT_EQ(a.size(), mech1.size() + 5 + 16);
    EXPECT_EQ(a.substr(a.size() - 16), b.substr(b.size() - 16));
    // Only a REGISTER our registrar answers gets one: an INVITE with an offer is forwarded.
    const std::string extra = offer();
    stage_run invite(config, request_spec{.extra = extra});
    EXPECT_TRUE(run(invite).go_on());
    EXPECT_TRUE(invite.ctx.security_server.empty());
}

TEST_F(sec_agree_fixture, SecurityVerifyMustBeTheListWeSentUnchanged) {
    const std::string list = server_list();
    stage_run ok(config, request_spec{.extra = "Security-Verify: " + list + "\nRequire: sec-agree\n"});
    EXPECT_TRUE(run(ok).go_on());
    // Split over two header lines, as RFC 3261 §7.3.1 allows: the same list.
    const std::size_t comma = list.find(", ipsec-3gpp;alg=hmac-md5-96");
    stage_run split(config, request_spec{.extra = "Security-Verify: " + list.substr(0, comma) + "\nSecurity-Verify: " +
                                                  list.substr(comma + 2) + "\n"});
    EXPECT_TRUE(run(split).go_on());
    // A mechanism dropped on the way (a downgrade), one changed, a MAC not ours, no MAC at all.
    const std::string tampered[] = {
        list.substr(0, comma),
        list.substr(comma + 2),
        std::string(list).replace(list.find("ealg=aes-cbc"), 12, "ealg=null"),
        list.substr(0, list.size() - 1) + (list.back() == '0' ? "1" : "0"),
        std::string(mech1),
    };
    for (const std::string& t : tampered) {
        stage_run bad(config, request_spec{.extra = "Security-Verify: " + t + "\n"});
        const verdict v = run(bad);
        EXPECT_EQ(v.status, 494) << t;
        EXPECT_EQ(v.reason, "Security Agreement Required (Security-Verify Is Not Ours)");
    }
}

TEST_F(sec_agree_fixture, ForwardedRequestsLoseTheAgreement) {
    // TS 24.229 §5.2.7.2: what the phone and its edge agreed stays between them.
    const std::string list = server_list();
    const std::string extra = "Supported: 100rel,sec-agree\nRequire: 100rel, sec-agree\nProxy-Require: sec-agree\n"
                              "Security-Verify: " + list + "\nSecurity-Client: " + std::string(mech1) + "\n";
    stage_run r(config, request_spec{.extra = extra});
    ASSERT_TRUE(run(r).go_on());
    const std::string out = r.edited();
    EXPECT_EQ(out.find("Security-"), std::string::npos) << out;
    EXPECT_EQ(out.find("Proxy-Require"), std::string::npos) << out;
    EXPECT_NE(out.find("\r\nRequire: 100rel\r\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Supported: 100rel,sec-agree"), std::string::npos) << out;  // what the phone supports is its own
    EXPECT_EQ(r.ctx.err, sip::edit_error::none);
    // An ACK is never answered, so never refused: with a Security-Verify not ours it goes on, stripped.
    stage_run ack(config, request_spec{.method = "ACK", .to_tag = "b1",
                                       .extra = "Security-Verify: " + std::string(mech1) + ";sfv=0000000000000000\n"});
    ASSERT_TRUE(run(ack).go_on());
    EXPECT_EQ(ack.edited().find("Security-Verify"), std::string::npos);
}

} // namespace
} // namespace sipfast::proxy
