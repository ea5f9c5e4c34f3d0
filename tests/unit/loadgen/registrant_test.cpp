// SPDX-License-Identifier: Apache-2.0
// The registrant on an explicit clock: users registered within the window with their Contact at the
// callee; a 401 or 407 answered once with digest credentials a registrar would accept; Timer E and
// Timer F; refusals and strays.
#include "sipfast/loadgen/registrant.hpp"

#include <gtest/gtest.h>

#include "loadgen_test_util.hpp"
#include "sipfast/auth/digest.hpp"

namespace sipfast::loadgen {
namespace {

using test::answer;
using test::header;
using test::ms;
using test::start_line;

core::net_address registrar_address() {
    core::net_address a;
    EXPECT_TRUE(core::parse_ip("127.0.0.1", a));
    a.port = 5060;
    return a;
}

struct RegistrantTest : ::testing::Test {
    registrant_stats stats;
    test::recorder rec;
    registrant_config config(std::uint32_t count = 3) {
        registrant_config c;
        c.local_port = 5070;
        c.target = registrar_address();
        c.domain = "example.com";
        c.user_prefix = "user";
        c.first = 7;
        c.count = count;
        c.password = "secret";
        c.window = 2;
        c.run_id = 0x1234abcd;
        return c;
    }
    std::uint64_t t0 = 1'000 * ms;

    /// Whether `request`'s credentials (header `name`) are what a registrar holding `password`
    /// computes for them (stages/authenticate.cpp's check).
    static void expect_valid_credentials(const std::string& request, std::string_view name, std::string_view password) {
        const std::string value = header(request, name);
        auth::credentials c;
        ASSERT_EQ(auth::parse_credentials(value, c), auth::credentials_fault::none) << value;
        const auth::hex_digest ha1 = auth::ha1(c.alg, c.username, c.realm, password);
        EXPECT_EQ(auth::response_for(c, ha1.view(), "REGISTER").view(), c.response) << value;
    }
};

TEST_F(RegistrantTest, RegistersEachUserWithinTheWindowWithItsContactAtTheCallee) {
    registrant r(config(), stats, t0);
    r.start(t0, rec.out);
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 2u);  // the window
    const std::string first = sent[0].text;
    EXPECT_EQ(start_line(first), "REGISTER sip:example.com SIP/2.0");
    EXPECT_EQ(sent[0].to, registrar_address());
    EXPECT_TRUE(test::parses(first));
    EXPECT_EQ(header(first, "To"), "<sip:user7@example.com>");
    EXPECT_EQ(header(first, "Contact"), "<sip:user7@127.0.0.1:5070>");
    EXPECT_EQ(header(first, "Expires"), "3600");
    EXPECT_EQ(header(first, "CSeq"), "1 REGISTER");
    EXPECT_EQ(header(first, "Via").rfind("SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK", 0), 0u);
    EXPECT_EQ(header(sent[1].text, "To"), "<sip:user8@example.com>");
    EXPECT_NE(header(first, "Call-ID"), header(sent[1].text, "Call-ID"));
    EXPECT_TRUE(r.on_datagram(answer(first, 200, "OK", "reg"), t0 + 3 * ms, rec.out));
    sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);  // room for the third
    EXPECT_EQ(header(sent[0].text, "To"), "<sip:user9@example.com>");
    EXPECT_FALSE(r.done());
    EXPECT_EQ(stats.registered, 1u);
    EXPECT_EQ(latency_summary::of(stats.first_to_200).count, 1u);
    (void)r.on_datagram(answer(sent[0].text, 200, "OK", "reg"), t0 + 4 * ms, rec.out);
    EXPECT_FALSE(r.done());
    (void)r.on_datagram(answer(first, 200, "OK", "reg"), t0 + 4 * ms, rec.out);  // again: a stray
    EXPECT_EQ(stats.strays, 1u);
}

TEST_F(RegistrantTest, AnswersAChallengeOnceWithCredentialsTheRegistrarAccepts) {
    registrant r(config(1), stats, t0);
    r.start(t0, rec.out);
    const std::string first = rec.drain().at(0).text;
    (void)r.on_datagram(answer(first, 401, "Unauthorized", "c1",
                               "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n0nce\", qop=\"auth,auth-int\", "
                               "algorithm=MD5, opaque=\"op4\"\r\n"),
                        t0 + 2 * ms, rec.out);
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    const std::string& again = sent[0].text;
    EXPECT_EQ(header(again, "CSeq"), "2 REGISTER");
    EXPECT_EQ(header(again, "Call-ID"), header(first, "Call-ID"));
    EXPECT_NE(header(again, "Via"), header(first, "Via"));  // a new transaction, a new branch
    const std::string credentials = header(again, "Authorization");
    EXPECT_NE(credentials.find("username=\"user7\""), std::string::npos) << credentials;
    EXPECT_NE(credentials.find("uri=\"sip:example.com\""), std::string::npos) << credentials;
    EXPECT_NE(credentials.find("qop=auth, nc=00000001"), std::string::npos) << credentials;
    EXPECT_NE(credentials.find("opaque=\"op4\""), std::string::npos) << credentials;
    expect_valid_credentials(again, "Authorization", "secret");
    // Challenged again: the password is wrong; no third try.
    (void)r.on_datagram(answer(again, 401, "Unauthorized", "c1",
                               "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n1\"\r\n"),
                        t0 + 3 * ms, rec.out);
    EXPECT_TRUE(rec.drain().empty());
    EXPECT_TRUE(r.done());
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(registration_failure::auth_rejected)], 1u);
    EXPECT_EQ(stats.challenges, 1u);
}

TEST_F(RegistrantTest, TakesTheFirstChallengeItCanAnswerAndAProxysToo) {
    registrant r(config(2), stats, t0);
    r.start(t0, rec.out);
    const auto sent = rec.drain();
    (void)r.on_datagram(answer(sent[0].text, 401, "Unauthorized", "c1",
                               "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"x\", algorithm=SHA-512-256\r\n"
                               "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"s\", algorithm=SHA-256, qop=\"auth\"\r\n"),
                        t0 + 2 * ms, rec.out);
    (void)r.on_datagram(answer(sent[1].text, 407, "Proxy Authentication Required", "c2",
                               "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"p\"\r\n"),
                        t0 + 2 * ms, rec.out);
    const auto again = rec.drain();
    ASSERT_EQ(again.size(), 2u);
    EXPECT_NE(header(again[0].text, "Authorization").find("algorithm=SHA-256"), std::string::npos);
    expect_valid_credentials(again[0].text, "Authorization", "secret");
    EXPECT_EQ(header(again[1].text, "Authorization"), "");
    expect_valid_credentials(again[1].text, "Proxy-Authorization", "secret");  // RFC 2069 form: no qop
    (void)r.on_datagram(answer(again[0].text, 200, "OK", "c1"), t0 + 3 * ms, rec.out);
    (void)r.on_datagram(answer(again[1].text, 200, "OK", "c2"), t0 + 3 * ms, rec.out);
    EXPECT_TRUE(r.done());
    EXPECT_EQ(stats.registered, 2u);
}

TEST_F(RegistrantTest, RetransmitsOnTimerEUntilTimerF) {
    registrant r(config(1), stats, t0);
    r.start(t0, rec.out);
    const std::string first = rec.drain().at(0).text;
    r.advance(t0 + 500 * ms, rec.out);  // T1
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].text, first);
    r.advance(t0 + 1500 * ms, rec.out);  // 2*T1 later
    EXPECT_EQ(rec.drain().size(), 1u);
    for (std::uint64_t t = 2; t <= 33; ++t) r.advance(t0 + t * 1000 * ms, rec.out);  // 64*T1 = 32 s
    EXPECT_TRUE(r.done());
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(registration_failure::timeout)], 1u);
    EXPECT_GE(stats.retransmissions, 9u);  // 0.5, 1.5, 3.5, 7.5, then every T2 (4 s) to 32 s
}

TEST_F(RegistrantTest, RefusalsAndWhatIsNotItsOwn) {
    auto c = config(2);
    c.password = {};
    registrant r(c, stats, t0);
    r.start(t0, rec.out);
    const auto sent = rec.drain();
    (void)r.on_datagram(answer(sent[0].text, 403, "Forbidden", "c1"), t0 + ms, rec.out);
    (void)r.on_datagram(answer(sent[1].text, 401, "Unauthorized", "c2",
                               "WWW-Authenticate: Digest realm=\"example.com\", nonce=\"n\"\r\n"),
                        t0 + ms, rec.out);
    EXPECT_TRUE(r.done());
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(registration_failure::rejected)], 1u);
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(registration_failure::auth_rejected)], 1u);  // no password to give
    // A request is the callee's; a response of another run is a stray.
    EXPECT_FALSE(r.on_datagram("OPTIONS sip:user7@127.0.0.1:5070 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKo\r\n"
                               "From: <sip:a@b>;tag=1\r\nTo: <sip:user7@b>\r\nCall-ID: o1\r\nCSeq: 1 OPTIONS\r\n"
                               "Content-Length: 0\r\n\r\n",
                               t0 + ms, rec.out));
    EXPECT_TRUE(r.on_datagram("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKo\r\nFrom: <sip:a@b>;tag=1\r\n"
                              "To: <sip:user7@b>\r\nCall-ID: 00000000r00000000@127.0.0.1\r\nCSeq: 1 REGISTER\r\n"
                              "Content-Length: 0\r\n\r\n",
                              t0 + ms, rec.out));
    EXPECT_EQ(stats.strays, 1u);
}

} // namespace
} // namespace sipfast::loadgen
