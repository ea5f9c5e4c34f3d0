// SPDX-License-Identifier: Apache-2.0
#include "sipfast/loadgen/uas.hpp"

#include <gtest/gtest.h>

#include "loadgen_test_util.hpp"

namespace sipfast::loadgen {
namespace {

using test::header;
using test::ms;
using test::start_line;

core::net_address caller() {
    core::net_address a;
    EXPECT_TRUE(core::parse_ip("127.0.0.1", a));
    a.port = 5060;
    return a;
}

const std::string invite =
    "INVITE sip:service@127.0.0.1:5070 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy;rport=5060\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKcaller;received=127.0.0.1\r\n"
    "Record-Route: <sip:127.0.0.1:5060;lr;sfd=abc>\r\n"
    "Max-Forwards: 69\r\n"
    "From: <sip:loadgen@127.0.0.1>;tag=f1\r\n"
    "To: <sip:service@127.0.0.1:5060>\r\n"
    "Call-ID: call-1@127.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Contact: <sip:loadgen@127.0.0.1:40000>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n\r\nv=0\n";

std::string in_dialog(std::string_view method, int cseq) {
    return std::string(method) + " sip:service@127.0.0.1:5070 SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK" + std::string(method) + "\r\n"
           "From: <sip:loadgen@127.0.0.1>;tag=f1\r\nTo: <sip:service@127.0.0.1:5060>;tag=x\r\n"
           "Call-ID: call-1@127.0.0.1\r\nCSeq: " + std::to_string(cseq) + " " + std::string(method) +
           "\r\nContent-Length: 0\r\n\r\n";
}

struct UasTest : ::testing::Test {
    uas_stats stats;
    test::recorder rec;
    std::uint64_t t0 = 1'000 * ms;
};

TEST_F(UasTest, AnswersAnInviteWithRingingAndOkCopyingViasAndRecordRoute) {
    uas u(uas_config{}, stats, t0);
    u.on_datagram(invite, caller(), t0, rec.out);
    const auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(start_line(sent[0].text), "SIP/2.0 180 Ringing");
    EXPECT_EQ(start_line(sent[1].text), "SIP/2.0 200 OK");
    for (const auto& s : sent) {
        EXPECT_EQ(s.to, caller());
        EXPECT_TRUE(test::parses(s.text)) << s.text;
        EXPECT_EQ(s.text.find("Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKproxy;rport=5060\r\n"
                              "Via: SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKcaller;received=127.0.0.1\r\n"),
                  s.text.find("\r\n") + 2);
        EXPECT_EQ(header(s.text, "Record-Route"), "<sip:127.0.0.1:5060;lr;sfd=abc>");
        EXPECT_EQ(header(s.text, "Contact"), "<sip:service@127.0.0.1:5070>");
        EXPECT_EQ(header(s.text, "CSeq"), "1 INVITE");
    }
    EXPECT_EQ(header(sent[0].text, "To"), header(sent[1].text, "To"));
    EXPECT_NE(header(sent[1].text, "To").find(";tag="), std::string::npos);
    EXPECT_EQ(header(sent[1].text, "Content-Type"), "application/sdp");
    EXPECT_EQ(stats.invites.get(), 1u);
    EXPECT_EQ(u.awaiting_ack(), 1u);
}

TEST_F(UasTest, SendsTryingFirstWhenAsked) {
    uas_config c;
    c.send_100 = true;
    uas u(c, stats, t0);
    u.on_datagram(invite, caller(), t0, rec.out);
    const auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 3u);
    EXPECT_EQ(start_line(sent[0].text), "SIP/2.0 100 Trying");
    EXPECT_EQ(header(sent[0].text, "To"), "<sip:service@127.0.0.1:5060>");  // no tag on a 100
}

// RFC 3261 §13.3.1.4: the 200 again at T1, 2*T1... up to T2, until the ACK or 64*T1.
TEST_F(UasTest, RetransmitsTheOkUntilItsAckComes) {
    uas u(uas_config{}, stats, t0);
    u.on_datagram(invite, caller(), t0, rec.out);
    const auto ok = rec.drain().at(1).text;
    std::vector<std::uint64_t> at;
    for (std::uint64_t t = 0; t <= 8'000; t += 10) {
        u.advance(t0 + t * ms, rec.out);
        for (const auto& s : rec.drain()) {
            EXPECT_EQ(s.text, ok);
            at.push_back(t);
        }
    }
    EXPECT_EQ(at, (std::vector<std::uint64_t>{500, 1500, 3500, 7500}));
    u.on_datagram(in_dialog("ACK", 1), caller(), t0 + 8'000 * ms, rec.out);
    EXPECT_EQ(stats.acks.get(), 1u);
    EXPECT_EQ(u.awaiting_ack(), 0u);
    u.advance(t0 + 40'000 * ms, rec.out);
    EXPECT_TRUE(rec.drain().empty());
    EXPECT_EQ(stats.retransmissions.get(), 4u);
}

TEST_F(UasTest, GivesUpOnAnOkNeverAcked) {
    uas u(uas_config{}, stats, t0);
    u.on_datagram(invite, caller(), t0, rec.out);
    (void)rec.drain();
    for (std::uint64_t t = 0; t <= 33'000; t += 100) u.advance(t0 + t * ms, rec.out);
    EXPECT_EQ(stats.ack_timeouts.get(), 1u);
    EXPECT_EQ(u.awaiting_ack(), 0u);
    EXPECT_EQ(stats.retransmissions.get(), 10u);  // 0.5, 1.5, 3.5, 7.5, 11.5 ... 31.5 s
}

TEST_F(UasTest, AnInviteAgainGetsTheSameOkAgain) {
    uas u(uas_config{}, stats, t0);
    u.on_datagram(invite, caller(), t0, rec.out);
    const auto ok = rec.drain().at(1).text;
    u.on_datagram(invite, caller(), t0 + 200 * ms, rec.out);
    const auto again = rec.drain();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].text, ok);
    EXPECT_EQ(stats.invites.get(), 1u);
    EXPECT_EQ(stats.requests_retransmitted.get(), 1u);
}

TEST_F(UasTest, AnswersByeWithOk) {
    uas u(uas_config{}, stats, t0);
    u.on_datagram(invite, caller(), t0, rec.out);
    u.on_datagram(in_dialog("ACK", 1), caller(), t0 + 1 * ms, rec.out);
    (void)rec.drain();
    u.on_datagram(in_dialog("BYE", 2), caller(), t0 + 2 * ms, rec.out);
    const auto sent = rec.drain();
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(start_line(sent[0].text), "SIP/2.0 200 OK");
    EXPECT_EQ(header(sent[0].text, "CSeq"), "2 BYE");
    EXPECT_EQ(header(sent[0].text, "To"), "<sip:service@127.0.0.1:5060>;tag=x");  // its tag, not another
    EXPECT_EQ(stats.completed.get(), 1u);
}

TEST_F(UasTest, AFullNeighbourhoodAnswersWithoutKeepingState) {
    uas_config c;
    c.capacity = 8;  // every key's neighbourhood is the whole table
    uas u(c, stats, t0);
    for (int k = 0; k < 9; ++k) {
        std::string inv = invite;
        inv.replace(inv.find("call-1"), 6, "call-" + std::to_string(k + 10));
        u.on_datagram(inv, caller(), t0, rec.out);
    }
    EXPECT_EQ(rec.drain().size(), 18u);
    EXPECT_EQ(stats.invites.get(), 9u);
    EXPECT_EQ(stats.untracked.get(), 1u);
    EXPECT_EQ(u.awaiting_ack(), 8u);
}

} // namespace
} // namespace sipfast::loadgen
