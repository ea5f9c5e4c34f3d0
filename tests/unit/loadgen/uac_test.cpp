// SPDX-License-Identifier: Apache-2.0
#include "sipfast/loadgen/uac.hpp"

#include <gtest/gtest.h>

#include "loadgen_test_util.hpp"
#include "sipfast/auth/digest.hpp"

namespace sipfast::loadgen {
namespace {

using test::answer;
using test::header;
using test::ms;
using test::start_line;

core::net_address proxy() {
    core::net_address a;
    EXPECT_TRUE(core::parse_ip("127.0.0.1", a));
    a.port = 5060;
    return a;
}

struct UacTest : ::testing::Test {
    uac_stats stats;
    test::recorder rec;
    uac_config config() {
        uac_config c;
        c.local_port = 40000;
        c.target = proxy();
        c.capacity = 4;
        c.run_id = 0xabcdef01;
        c.thread = 2;
        return c;
    }
    /// Calls between `users` registered users user1..userN, answering challenges with `password`.
    uac_config between_users(std::uint32_t users, std::string_view password) {
        uac_config c = config();
        c.user = "user";
        c.users = users;
        c.password = password;
        return c;
    }
    std::uint64_t t0 = 1'000 * ms;
};

TEST_F(UacTest, StartsWithAnInviteCarryingSdpToTheTarget) {
    uac u(config(), stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    const std::string& inv = sent[0].text;
    EXPECT_EQ(start_line(inv), "INVITE sip:service@127.0.0.1:5060 SIP/2.0");
    EXPECT_EQ(sent[0].to, proxy());
    EXPECT_TRUE(test::parses(inv));
    EXPECT_EQ(header(inv, "Via").rfind("SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK", 0), 0u);
    EXPECT_EQ(header(inv, "CSeq"), "1 INVITE");
    EXPECT_EQ(header(inv, "Content-Type"), "application/sdp");
    const auto body = inv.substr(inv.find("\r\n\r\n") + 4);
    EXPECT_EQ(header(inv, "Content-Length"), std::to_string(body.size()));
    EXPECT_EQ(body.rfind("v=0\r\n", 0), 0u);
    EXPECT_EQ(stats.offered.get(), 1u);
    EXPECT_EQ(stats.started.get(), 1u);
}

TEST_F(UacTest, EveryCallHasItsOwnCallIdTagAndBranch) {
    auto c = config();
    c.capacity = 2;
    uac u(c, stats, t0);
    std::vector<std::string> ids, tags, branches;
    for (int k = 0; k < 4; ++k) {  // two slots, each used twice: the generation tells them apart
        ASSERT_TRUE(u.start_call(t0, rec.out));
        const auto inv = rec.drain().at(0).text;
        ids.push_back(header(inv, "Call-ID"));
        tags.push_back(header(inv, "From"));
        branches.push_back(header(inv, "Via"));
        if (k % 2 == 1) u.abandon_all();
    }
    for (std::size_t a = 0; a < ids.size(); ++a)
        for (std::size_t b = a + 1; b < ids.size(); ++b) {
            EXPECT_NE(ids[a], ids[b]);
            EXPECT_NE(tags[a], tags[b]);
            EXPECT_NE(branches[a], branches[b]);
        }
    std::uint32_t slot = 0, generation = 0;
    EXPECT_TRUE(u.decode_call_id(ids[3], slot, generation));
    EXPECT_EQ(generation, 1u);
    EXPECT_FALSE(u.decode_call_id("abcdef010003" + ids[3].substr(12), slot, generation));  // another thread's
}

// One port (the socket's) unless asked: every message names it and says it is from it.
TEST_F(UacTest, EveryCallIsFromTheOnePortByDefault) {
    uac u(config(), stats, t0);
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(u.start_call(t0, rec.out));
    for (const auto& s : rec.drain()) {
        EXPECT_EQ(s.from_port, 40000u);
        EXPECT_EQ(header(s.text, "Via").rfind("SIP/2.0/UDP 127.0.0.1:40000;", 0), 0u);
        EXPECT_EQ(header(s.text, "Contact"), "<sip:loadgen@127.0.0.1:40000>");
    }
}

// sipfast-dpdk --generate: a port per call slot, so that each call is a flow of its own (RSS), in
// the Via and Contact of every request of the call and as the datagram's source.
TEST_F(UacTest, LocalPortsGiveEachCallSlotItsPortInTurn) {
    auto c = config();
    c.local_ports = 3;
    uac u(c, stats, t0);
    std::vector<std::string> invites;
    for (int k = 0; k < 4; ++k) {
        ASSERT_TRUE(u.start_call(t0, rec.out));
        const auto sent = rec.drain();
        ASSERT_EQ(sent.size(), 1u);
        const auto port = static_cast<std::uint16_t>(40000 + k % 3);  // slots 0, 1, 2, 3 in that order
        EXPECT_EQ(sent[0].from_port, port);
        EXPECT_EQ(header(sent[0].text, "Via").rfind("SIP/2.0/UDP 127.0.0.1:" + std::to_string(port) + ";", 0), 0u);
        EXPECT_EQ(header(sent[0].text, "Contact"), "<sip:loadgen@127.0.0.1:" + std::to_string(port) + ">");
        invites.push_back(sent[0].text);
    }
    // The ACK and BYE of slot 1's call come from its port too, and so does a retransmission.
    u.on_datagram(answer(invites[1], 200, "OK", "t"), t0 + 1 * ms, rec.out);
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 2u);
    for (const auto& s : sent) {
        EXPECT_EQ(s.from_port, 40001u);
        EXPECT_EQ(header(s.text, "Via").rfind("SIP/2.0/UDP 127.0.0.1:40001;", 0), 0u);
    }
    u.advance(t0 + 501 * ms, rec.out);
    sent = rec.drain();
    ASSERT_EQ(sent.size(), 4u);  // the three INVITEs unanswered and the BYE, sent again
    for (const auto& s : sent)
        EXPECT_EQ(header(s.text, "Via").rfind("SIP/2.0/UDP 127.0.0.1:" + std::to_string(s.from_port) + ";", 0), 0u);
}

TEST_F(UacTest, AFullCallMeasuresEachStepAndEndsWithTheByesOk) {
    uac u(config(), stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    u.on_datagram(answer(inv, 100, "Trying"), t0 + 1 * ms, rec.out);
    u.on_datagram(answer(inv, 180, "Ringing", "callee1"), t0 + 2 * ms, rec.out);
    EXPECT_TRUE(rec.drain().empty());
    // Two proxies record-routed: the route set is their Record-Route reversed (RFC 3261 §12.1.2).
    u.on_datagram(answer(inv, 200, "OK", "callee1",
                         "Record-Route: <sip:p2.example;lr>\r\nRecord-Route: <sip:p1.example;lr;sfd=x1>\r\n"
                         "Contact: <sip:service@127.0.0.1:5070>\r\n"),
                  t0 + 3 * ms, rec.out);
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 2u);  // ACK, then BYE at once (no hold)
    const std::string& ack = sent[0].text;
    EXPECT_EQ(start_line(ack), "ACK sip:service@127.0.0.1:5070 SIP/2.0");
    EXPECT_EQ(header(ack, "Route"), "<sip:p1.example;lr;sfd=x1>, <sip:p2.example;lr>");
    EXPECT_EQ(header(ack, "CSeq"), "1 ACK");
    EXPECT_NE(header(ack, "To").find(";tag=callee1"), std::string::npos);
    EXPECT_NE(header(ack, "Via"), header(inv, "Via"));  // the ACK of a 2xx is a new transaction
    EXPECT_TRUE(test::parses(ack));
    const std::string& bye = sent[1].text;
    EXPECT_EQ(start_line(bye), "BYE sip:service@127.0.0.1:5070 SIP/2.0");
    EXPECT_EQ(header(bye, "CSeq"), "2 BYE");
    EXPECT_EQ(header(bye, "Route"), header(ack, "Route"));
    EXPECT_EQ(header(bye, "Call-ID"), header(inv, "Call-ID"));
    EXPECT_TRUE(test::parses(bye));
    u.on_datagram(answer(bye, 200, "OK"), t0 + 3 * ms + 400'000, rec.out);
    EXPECT_EQ(stats.completed.get(), 1u);
    EXPECT_EQ(stats.failures(), 0u);
    EXPECT_EQ(u.in_progress(), 0u);
    EXPECT_EQ(stats.invite_to_180.total(), 1u);
    EXPECT_EQ(stats.invite_to_180.max(), 2000u);
    EXPECT_EQ(stats.invite_to_200.max(), 3000u);
    EXPECT_EQ(stats.bye_to_200.max(), 400u);
    // Its answers now are strays: the slot's generation moved on.
    u.on_datagram(answer(bye, 200, "OK"), t0 + 5 * ms, rec.out);
    EXPECT_EQ(stats.strays.get(), 1u);
    EXPECT_EQ(stats.completed.get(), 1u);
}

TEST_F(UacTest, HoldsTheCallBeforeItsBye) {
    auto c = config();
    c.hold_ns = 1000 * ms;
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    u.on_datagram(answer(inv, 200, "OK", "t"), t0 + 1 * ms, rec.out);
    ASSERT_EQ(rec.drain().size(), 1u);  // the ACK only
    u.advance(t0 + 999 * ms, rec.out);
    EXPECT_TRUE(rec.drain().empty());
    u.advance(t0 + 1002 * ms, rec.out);
    const auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(start_line(sent[0].text), "BYE sip:service@127.0.0.1:5060 SIP/2.0");  // no Contact: the Request-URI
}

// RFC 3261 §17.1.1.2: Timer A fires at T1, 2*T1, 4*T1... with no cap; Timer B ends it at 64*T1.
TEST_F(UacTest, RetransmitsTheInviteOnTimerAAndTimesOutOnTimerB) {
    uac u(config(), stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto first = rec.drain().at(0).text;
    std::vector<std::uint64_t> at;
    for (std::uint64_t t = 0; t <= 33'000; t += 10) {
        u.advance(t0 + t * ms, rec.out);
        for (const auto& s : rec.drain()) {
            EXPECT_EQ(s.text, first);  // the same request, the same branch
            at.push_back(t);
        }
    }
    EXPECT_EQ(at, (std::vector<std::uint64_t>{500, 1500, 3500, 7500, 15500, 31500}));
    EXPECT_EQ(stats.retransmissions.get(), 6u);
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::invite_timeout)].get(), 1u);
    EXPECT_EQ(u.in_progress(), 0u);
}

TEST_F(UacTest, AProvisionalStopsRetransmissionsButNotTheTimeout) {
    auto c = config();
    c.timeout_ns = 10'000 * ms;
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    u.on_datagram(answer(inv, 100, "Trying"), t0 + 1 * ms, rec.out);
    u.advance(t0 + 9'990 * ms, rec.out);
    EXPECT_TRUE(rec.drain().empty());
    EXPECT_EQ(u.in_progress(), 1u);
    u.advance(t0 + 10'002 * ms, rec.out);
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::invite_timeout)].get(), 1u);
    EXPECT_EQ(stats.invite_to_180.total(), 0u);  // a 100 is no ringing
}

// RFC 3261 §17.1.2.2: Timer E doubles from T1 up to T2; Timer F ends it at 64*T1.
TEST_F(UacTest, RetransmitsTheByeOnTimerECappedAtT2) {
    uac u(config(), stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    u.on_datagram(answer(inv, 200, "OK", "t"), t0, rec.out);
    const auto bye = rec.drain().at(1).text;
    std::vector<std::uint64_t> at;
    for (std::uint64_t t = 0; t <= 33'000; t += 10) {
        u.advance(t0 + t * ms, rec.out);
        for (const auto& s : rec.drain()) {
            EXPECT_EQ(s.text, bye);
            at.push_back(t);
        }
    }
    EXPECT_EQ(at, (std::vector<std::uint64_t>{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::bye_timeout)].get(), 1u);
    EXPECT_EQ(stats.bye_to_200.total(), 0u);
}

TEST_F(UacTest, ARejectionIsAckedInItsTransactionAndCountedByClass) {
    uac u(config(), stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    const auto busy = answer(inv, 486, "Busy Here", "b1");
    u.on_datagram(busy, t0 + 1 * ms, rec.out);
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    const auto& ack = sent[0].text;
    EXPECT_EQ(start_line(ack), "ACK sip:service@127.0.0.1:5060 SIP/2.0");
    EXPECT_EQ(header(ack, "Via"), header(inv, "Via"));  // RFC 3261 §17.1.1.3: the INVITE's branch
    EXPECT_EQ(header(ack, "CSeq"), "1 ACK");
    EXPECT_NE(header(ack, "To").find("tag=b1"), std::string::npos);
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::invite_rejected)].get(), 1u);
    EXPECT_EQ(stats.rejected_by_class[4].get(), 1u);
    u.advance(t0 + 10'000 * ms, rec.out);
    EXPECT_TRUE(rec.drain().empty());  // no retransmission of an ended call
}

TEST_F(UacTest, AnOkThatComesAgainIsAckedAgain) {
    auto c = config();
    c.hold_ns = 5'000 * ms;
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    const auto ok = answer(inv, 200, "OK", "t");
    u.on_datagram(ok, t0 + 1 * ms, rec.out);
    const auto ack = rec.drain().at(0).text;
    u.on_datagram(ok, t0 + 500 * ms, rec.out);
    const auto again = rec.drain();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].text, ack);
    EXPECT_EQ(stats.responses_retransmitted.get(), 1u);
    EXPECT_EQ(stats.invite_to_200.total(), 1u);
}

TEST_F(UacTest, TheFarEndsByeIsAnsweredAndEndsTheCall) {
    auto c = config();
    c.hold_ns = 60'000 * ms;
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    u.on_datagram(answer(inv, 200, "OK", "t"), t0 + 1 * ms, rec.out);
    (void)rec.drain();
    const std::string bye = "BYE sip:loadgen@127.0.0.1:40000 SIP/2.0\r\n"
                            "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKfar\r\n"
                            "From: " + header(inv, "To") + ";tag=t\r\nTo: " + header(inv, "From") +
                            "\r\nCall-ID: " + header(inv, "Call-ID") + "\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n";
    u.on_datagram(bye, t0 + 2 * ms, rec.out);
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(start_line(sent[0].text), "SIP/2.0 200 OK");
    EXPECT_EQ(header(sent[0].text, "Via"), "SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKfar");
    EXPECT_EQ(stats.completed.get(), 1u);
    EXPECT_EQ(stats.ended_by_peer.get(), 1u);
    EXPECT_EQ(u.in_progress(), 0u);
    u.on_datagram(bye, t0 + 3 * ms, rec.out);  // again: the call is gone
    EXPECT_EQ(start_line(rec.drain().at(0).text), "SIP/2.0 481 Call/Transaction Does Not Exist");
}

TEST_F(UacTest, AFullTableRefusesTheCallAsAFailure) {
    auto c = config();
    c.capacity = 1;
    uac u(c, stats, t0);
    EXPECT_TRUE(u.start_call(t0, rec.out));
    EXPECT_FALSE(u.start_call(t0, rec.out));
    EXPECT_EQ(rec.drain().size(), 1u);
    EXPECT_EQ(stats.offered.get(), 2u);
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::table_full)].get(), 1u);
    u.abandon_all();
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::unfinished)].get(), 1u);
}

TEST_F(UacTest, GarbageAndStraysAreCountedNotFatal) {
    uac u(config(), stats, t0);
    u.on_datagram("not sip at all", t0, rec.out);
    u.on_datagram("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP x;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\n"
                  "Call-ID: someone-else\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
                  t0, rec.out);
    EXPECT_EQ(stats.unparsable.get(), 1u);
    EXPECT_EQ(stats.strays.get(), 1u);
    EXPECT_TRUE(rec.drain().empty());
}

TEST_F(UacTest, ImsInvitesAreLargerAndStillParse) {
    auto c = config();
    c.ims = true;
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    EXPECT_GT(inv.size(), 1200u);  // the seeds' INVITEs (tests/corpus/seed) are 1.2-1.3 KB
    EXPECT_LT(inv.size(), 1700u);
    EXPECT_TRUE(test::parses(inv));
    EXPECT_FALSE(header(inv, "P-Asserted-Identity").empty());
}

} // namespace
} // namespace sipfast::loadgen

namespace sipfast::loadgen {
namespace {

// RFC 3261 §17.1.1.2: over a reliable transport Timer A is not set; the timeout still ends the call.
TEST_F(UacTest, OverTcpNothingIsSentAgainAndTheTimeoutStillRuns) {
    auto c = config();
    c.reliable = true;
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const auto inv = rec.drain().at(0).text;
    EXPECT_EQ(header(inv, "Via").rfind("SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bK", 0), 0u);
    for (std::uint64_t t = 0; t < 32'000; t += 10) u.advance(t0 + t * ms, rec.out);
    EXPECT_TRUE(rec.drain().empty());
    u.advance(t0 + 32'001 * ms, rec.out);
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::invite_timeout)].get(), 1u);
    EXPECT_EQ(stats.retransmissions.get(), 0u);
}

// Calls between registered users (--users with --password): from user n+1 to user n, and a 407
// to the INVITE answered once, in a new transaction, with credentials the proxy would accept.
TEST_F(UacTest, CallsBetweenRegisteredUsersAnswerAChallengeOnce) {
    auto c = between_users(3, "pw");
    c.request_host = "example.com";
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const std::string inv = rec.drain().at(0).text;
    EXPECT_EQ(start_line(inv), "INVITE sip:user1@example.com SIP/2.0");  // slot 0 calls user1 ...
    EXPECT_EQ(header(inv, "From").rfind("<sip:user2@example.com>;tag=", 0), 0u);  // ... from user2
    u.on_datagram(answer(inv, 407, "Proxy Authentication Required", "p1",
                         "Proxy-Authenticate: Digest realm=\"example.com\", nonce=\"n0\", qop=\"auth\"\r\n"),
                  t0 + ms, rec.out);
    auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(start_line(sent[0].text), "ACK sip:user1@example.com SIP/2.0");  // §17.1.1.3: the 407's ACK
    EXPECT_EQ(header(sent[0].text, "CSeq"), "1 ACK");
    EXPECT_EQ(header(sent[0].text, "Via"), header(inv, "Via"));
    const std::string again = sent[1].text;
    EXPECT_EQ(header(again, "CSeq"), "2 INVITE");
    EXPECT_NE(header(again, "Via"), header(inv, "Via"));  // a new transaction
    EXPECT_EQ(header(again, "Call-ID"), header(inv, "Call-ID"));
    const std::string credentials = header(again, "Proxy-Authorization");  // cr views into it
    auth::credentials cr;
    ASSERT_EQ(auth::parse_credentials(credentials, cr), auth::credentials_fault::none) << again;
    EXPECT_EQ(cr.username, "user2");
    EXPECT_EQ(cr.uri, "sip:user1@example.com");
    EXPECT_EQ(auth::response_for(cr, auth::ha1(cr.alg, "user2", "example.com", "pw").view(), "INVITE").view(), cr.response);
    EXPECT_EQ(stats.challenges.get(), 1u);
    u.advance(t0 + 501 * ms, rec.out);  // Timer A: the INVITE with its credentials again
    sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].text, again);
    u.on_datagram(answer(again, 200, "OK", "b1", "Contact: <sip:user1@198.18.0.20:5070>\r\n"), t0 + 600 * ms, rec.out);
    sent = rec.drain();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(header(sent[0].text, "CSeq"), "2 ACK");
    EXPECT_EQ(header(sent[1].text, "CSeq"), "3 BYE");
    EXPECT_EQ(header(sent[1].text, "Proxy-Authorization"), "");
    EXPECT_EQ(start_line(sent[1].text), "BYE sip:user1@198.18.0.20:5070 SIP/2.0");
    u.on_datagram(answer(sent[1].text, 200, "OK"), t0 + 601 * ms, rec.out);
    EXPECT_EQ(stats.completed.get(), 1u);
    EXPECT_EQ(stats.invite_to_200.total(), 1u);
}

TEST_F(UacTest, ASecondChallengeOrNoPasswordFailsTheCall) {
    auto c = between_users(2, "wrong");
    uac u(c, stats, t0);
    ASSERT_TRUE(u.start_call(t0, rec.out));
    const std::string inv = rec.drain().at(0).text;
    const std::string challenge = "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n";
    u.on_datagram(answer(inv, 401, "Unauthorized", "p1", challenge), t0 + ms, rec.out);
    const std::string again = rec.drain().at(1).text;
    EXPECT_FALSE(header(again, "Authorization").empty());
    u.on_datagram(answer(again, 401, "Unauthorized", "p1", challenge), t0 + 2 * ms, rec.out);
    EXPECT_EQ(rec.drain().size(), 1u);  // its ACK, no third INVITE
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::invite_rejected)].get(), 1u);
    EXPECT_EQ(stats.rejected_by_class[4].get(), 1u);
    // The first 401 again, late: the call is over, a stray.
    u.on_datagram(answer(inv, 401, "Unauthorized", "p1", challenge), t0 + 3 * ms, rec.out);
    EXPECT_EQ(stats.strays.get(), 1u);
    EXPECT_EQ(stats.failed[static_cast<std::size_t>(failure::invite_rejected)].get(), 1u);
}

} // namespace
} // namespace sipfast::loadgen
