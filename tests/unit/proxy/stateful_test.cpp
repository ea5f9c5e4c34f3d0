// SPDX-License-Identifier: Apache-2.0
// The pipeline in stateful mode (RFC 3261 §16 with §17 transactions), driven with a fake clock.
#include "sipfast/proxy/pipeline.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/sip/parser.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::crlf;
using test::parsed;

constexpr std::uint64_t ms = test::pipeline_driver::ms;

using test::addr;

struct fixture : test::pipeline_driver {
    net_address uac = addr("198.18.0.9:5070");
    net_address uas = addr("198.18.0.20:5062");

    explicit fixture(std::uint32_t capacity = 64) : pipeline_driver(test::test_config(proxy_mode::stateful)) {
        config.transactions_per_shard = capacity;
        p = std::make_unique<pipeline>(config, 3);
    }
    std::size_t feed(const std::string& datagram, net_address from) { return feed_at(datagram, from, &config.listen[0]); }
    // The message sent to `to`, or "" when none was.
    std::string sent_to(const net_address& to) const {
        for (std::size_t i = 0; i < out.size(); ++i)
            if (out[i].destination == to) return sent(i);
        return {};
    }
};

std::string invite(std::string_view method = "INVITE", std::string_view branch = "z9hG4bKuac1") {
    return crlf(std::string(method) + " sip:bob@example.com SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=" + std::string(branch) + ";rport\n"
                "Max-Forwards: 70\n"
                "From: Alice <sip:alice@example.com>;tag=a1\n"
                "To: Bob <sip:bob@example.com>\n"
                "Call-ID: call-1@198.18.0.9\n"
                "CSeq: 1 " + std::string(method) + "\n"
                "Contact: <sip:alice@198.18.0.9:5070>\n"
                "Content-Length: 0\n\n");
}

// The callee's answer to what the proxy forwarded, with its tag from the first answer past 100.
std::string answer(const std::string& forwarded, int status, std::string_view reason) {
    return test::answer_to(forwarded, status, reason, status > 100 ? "b1" : "");
}

int status_of(const std::string& m) { return parsed(m).msg.status_code; }

// Whether something sent since the last feed or tick answered the caller with `status`.
bool caller_heard(fixture& f, int status) {
    for (std::size_t i = 0; i < f.out.size(); ++i)
        if (f.out[i].destination == f.uac && status_of(f.sent(i)) == status) return true;
    return false;
}

TEST(Stateful, InviteIsAnswered100AndForwardedOnce) {
    fixture f;
    ASSERT_EQ(f.feed(invite(), f.uac), 2u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 100);
    const std::string fwd = f.sent_to(f.uas);
    ASSERT_FALSE(fwd.empty());
    EXPECT_EQ(parsed(fwd).msg.top_via.branch.substr(0, 15), "z9hG4bKsf0003.t");
    // The retransmitted INVITE gets the 100 again and is not forwarded twice.
    ASSERT_EQ(f.feed(invite(), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, f.uac);
    EXPECT_EQ(status_of(f.sent()), 100);
    EXPECT_EQ(f.p->stats().requests_forwarded(), 1u);
    EXPECT_EQ(f.p->stats().retransmissions_absorbed, 1u);
    EXPECT_EQ(f.p->stats().transactions_pending, 1u);  // no final answer yet: a drain waits for it
    EXPECT_EQ(f.p->stats().received_requests[static_cast<std::size_t>(sip::method::invite)], 2u);
}

TEST(Stateful, TimerARetransmitsUntilAProvisionalArrives) {
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    ASSERT_EQ(f.tick(500 * ms), 1u);
    EXPECT_EQ(f.sent_to(f.uas), fwd);  // the same bytes again
    ASSERT_EQ(f.feed(answer(fwd, 180, "Ringing"), f.uas), 1u);
    EXPECT_EQ(f.out[0].destination, f.uac);
    parsed ringing(f.sent());
    EXPECT_EQ(ringing.msg.status_code, 180);
    EXPECT_EQ(ringing.msg.count(sip::header_id::via), 1u);  // ours removed
    EXPECT_EQ(f.tick(5000 * ms), 0u);  // no more retransmissions
}

TEST(Stateful, NonTwoHundredFinalIsAckedHopByHopAndItsAckAbsorbed) {
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    ASSERT_EQ(f.feed(answer(fwd, 486, "Busy Here"), f.uas), 2u);
    const std::string ack = f.sent_to(f.uas);
    parsed a(ack);
    ASSERT_TRUE(a.result.ok()) << ack;
    EXPECT_EQ(a.msg.method, sip::method::ack);
    EXPECT_EQ(a.msg.top_via.branch, parsed(fwd).msg.top_via.branch);  // same branch as the INVITE
    EXPECT_EQ(a.msg.to.tag, "b1");
    EXPECT_EQ(a.msg.cseq.method, sip::method::ack);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 486);
    // The callee retransmits its 486: ACKed again, not forwarded again.
    ASSERT_EQ(f.feed(answer(fwd, 486, "Busy Here"), f.uas), 1u);
    EXPECT_EQ(parsed(f.sent_to(f.uas)).msg.method, sip::method::ack);
    // The caller's ACK for the 486 ends at the proxy.
    std::string caller_ack = invite("ACK");
    caller_ack.replace(caller_ack.find("To: Bob <sip:bob@example.com>"), 29, "To: Bob <sip:bob@example.com>;tag=b1");
    EXPECT_EQ(f.feed(caller_ack, f.uac), 0u);
    // Timer G stops after the ACK; everything is gone after Timers I and D.
    EXPECT_EQ(f.tick(40000 * ms), 0u);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
}

TEST(Stateful, AResponseWithNoViaLeftIsNotForwarded) {
    // §16.7 step 3: a callee that answers with our Via alone sent it to us; the caller must not get
    // a response without a Via. The failure is still ACKed hop by hop, and the branch has failed: the
    // caller hears 502 from us.
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    const std::string our_via = "Via: " + std::string(parsed(fwd).msg.find(sip::header_id::via)->value) + "\r\n";
    const std::string bad = crlf("SIP/2.0 487 Request Terminated\n") + our_via +
                            crlf("From: Alice <sip:alice@example.com>;tag=a1\nTo: Bob <sip:bob@example.com>;tag=b1\n"
                                 "Call-ID: call-1@198.18.0.9\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    ASSERT_EQ(parsed(bad).msg.top_via.branch, parsed(fwd).msg.top_via.branch);
    f.feed(bad, f.uas);
    const std::string answered = f.sent_to(f.uac);
    const parsed up(answered);
    EXPECT_EQ(up.msg.status_code, 502);
    EXPECT_EQ(up.msg.top_via.branch, "z9hG4bKuac1");
    EXPECT_EQ(parsed(f.sent_to(f.uas)).msg.method, sip::method::ack);
    EXPECT_EQ(f.p->stats().dropped(drop_cause::not_ours), 1u);
}

TEST(Stateful, AForgedAnswerTouchesNoTransaction) {
    // An attacker who learnt our branch answers the call first: from another address, or for
    // another call (its Call-ID or CSeq), or with a branch guessed from one of ours. None reaches
    // the caller; the callee's own answer still does.
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    const std::string busy = answer(fwd, 486, "Busy Here");
    EXPECT_EQ(f.feed(busy, addr("198.18.0.66:5062")), 0u);
    std::string other_call = busy;
    other_call.replace(other_call.find("call-1@"), 7, "call-2@");
    EXPECT_EQ(f.feed(other_call, f.uas), 0u);
    std::string other_cseq = busy;
    other_cseq.replace(other_cseq.find("CSeq: 1 "), 8, "CSeq: 2 ");
    EXPECT_EQ(f.feed(other_cseq, f.uas), 0u);
    std::string guessed = busy;
    const std::size_t slot_digit = guessed.find(".t") + 9;  // the slot's last hex digit
    guessed[slot_digit] = guessed[slot_digit] == '0' ? '1' : '0';
    EXPECT_EQ(f.feed(guessed, f.uas), 0u);
    EXPECT_EQ(f.p->stats().dropped(drop_cause::unverified), 4u);
    ASSERT_EQ(f.feed(answer(fwd, 200, "OK"), f.uas), 1u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 200);
}

TEST(Stateful, TwoHundredPassesAndEndsTheTransaction) {
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    ASSERT_EQ(f.feed(answer(fwd, 200, "OK"), f.uas), 1u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 200);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
    // A retransmitted 200 matches nothing now: forwarded statelessly by its Via (§16.7).
    ASSERT_EQ(f.feed(answer(fwd, 200, "OK"), f.uas), 1u);
    EXPECT_EQ(f.out[0].destination, f.uac);
}

// The callee hangs up: a BYE from bob to alice's Contact, through us by the route set.
std::string bye_from_callee(std::string_view branch = "z9hG4bKbye1") {
    return crlf("BYE sip:alice@198.18.0.9:5070 SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.18.0.20:5062;branch=" + std::string(branch) + "\n"
                "Route: <sip:198.18.0.1:5060;lr>\n"
                "Max-Forwards: 70\n"
                "From: Bob <sip:bob@example.com>;tag=b1\n"
                "To: Alice <sip:alice@example.com>;tag=a1\n"
                "Call-ID: call-1@198.18.0.9\n"
                "CSeq: 7 BYE\n"
                "Content-Length: 0\n\n");
}

TEST(Stateful, DialogsAreCountedFromTheir2xxToTheAnswerToBye) {
    fixture f;
    f.feed(invite(), f.uac);
    f.feed(answer(f.sent_to(f.uas), 200, "OK"), f.uas);
    EXPECT_EQ(f.p->stats().dialogs_created, 1u);
    EXPECT_EQ(f.p->stats().dialogs_active, 1u);
    // A BYE from the other end finds the same dialog (the tags in the other order).
    f.feed(bye_from_callee(), f.uas);
    const std::string bye = f.sent_to(f.uac);
    ASSERT_FALSE(bye.empty());
    std::string ok = answer(bye, 200, "OK");  // alice answers: the To of the BYE is hers
    ok.replace(ok.find("To: Bob <sip:bob@example.com>;tag=b1"), 36, "To: Alice <sip:alice@example.com>;tag=a1");
    f.feed(ok, f.uac);
    EXPECT_EQ(f.p->stats().dialogs_active, 0u);
    EXPECT_EQ(f.p->stats().dialogs_ended, 1u);
}

TEST(Stateful, ASilentDialogTimesOut) {
    fixture f;
    f.config.dialog_timeout_ns = 60'000 * ms;
    f.feed(invite(), f.uac);
    f.feed(answer(f.sent_to(f.uas), 200, "OK"), f.uas);
    EXPECT_EQ(f.p->stats().dialogs_active, 1u);
    f.tick(59'000 * ms);
    EXPECT_EQ(f.p->stats().dialogs_active, 1u);
    f.tick(61'000 * ms);
    EXPECT_EQ(f.p->stats().dialogs_active, 0u);
    EXPECT_EQ(f.p->stats().dialogs_timed_out, 1u);
}

TEST(Stateful, CancelIsAnswered200AndSentOnAfterAProvisional) {
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    std::string cancel = invite("CANCEL");
    // Before any provisional the CANCEL is answered but held (§9.1).
    ASSERT_EQ(f.feed(cancel, f.uac), 1u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 200);
    ASSERT_EQ(f.feed(answer(fwd, 180, "Ringing"), f.uas), 2u);
    const std::string down = f.sent_to(f.uas);
    parsed c(down);
    ASSERT_TRUE(c.result.ok()) << down;
    EXPECT_EQ(c.msg.method, sip::method::cancel);
    EXPECT_EQ(c.msg.top_via.branch, parsed(fwd).msg.top_via.branch);
    EXPECT_EQ(c.msg.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_EQ(c.msg.cseq.number, 1u);
    // Unanswered, our CANCEL is retransmitted on Timer E (§9.1: it is a transaction of its own).
    f.now = 0;
    ASSERT_GE(f.tick(600 * ms), 1u);
    EXPECT_EQ(parsed(f.sent_to(f.uas)).msg.method, sip::method::cancel);
    // The callee answers the CANCEL (kept here) and the INVITE with 487 (forwarded, ACKed).
    std::string ok_cancel = answer(down, 200, "OK");
    EXPECT_EQ(f.feed(ok_cancel, f.uas), 0u);
    ASSERT_EQ(f.feed(answer(fwd, 487, "Request Terminated"), f.uas), 2u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 487);
    EXPECT_EQ(parsed(f.sent_to(f.uas)).msg.method, sip::method::ack);
    // No more CANCELs once it was answered; everything retires.
    f.tick(40000 * ms);
    for (std::size_t i = 0; i < f.out.size(); ++i)
        EXPECT_NE(parsed(f.sent(i)).msg.method, sip::method::cancel);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
}

TEST(Stateful, RingingWithoutEndIsCancelledByTimerCThenGivenUp) {
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    f.feed(answer(fwd, 180, "Ringing"), f.uas);
    f.tick(179'000 * ms);
    // §16.6 step 11: three minutes after the last provisional, the branch is cancelled ...
    bool cancelled = false;
    f.tick(181'000 * ms);
    for (std::size_t i = 0; i < f.out.size(); ++i) cancelled = cancelled || parsed(f.sent(i)).msg.method == sip::method::cancel;
    EXPECT_TRUE(cancelled);
    EXPECT_EQ(f.p->stats().transactions_pending, 1u);
    // ... and with no final answer 64*T1 later (§9.1), the caller gets 408 and nothing waits.
    f.tick(200'000 * ms);
    f.tick(214'000 * ms);
    EXPECT_TRUE(caller_heard(f, 408));
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
    f.tick(300'000 * ms);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
}

TEST(Stateful, TimerCGivesUpABranchWhoseCancelCannotBeMade) {
    // Found by pipeline_fuzz: when Timer C fires and no CANCEL can be made (here a From too long
    // for the 2 kB a CANCEL is written in; also a full message store), the branch must still end.
    // It was left in Proceeding with no timer, its slot taken for ever.
    fixture f;
    std::string inv = invite();
    const std::size_t from = inv.find("From: Alice");
    ASSERT_NE(from, std::string::npos);
    inv.replace(from, 11, "From: \"" + std::string(2100, 'a') + "\"");
    ASSERT_EQ(f.feed(inv, f.uac), 2u);
    const std::string fwd = f.sent_to(f.uas);
    ASSERT_FALSE(fwd.empty());
    f.feed(answer(fwd, 180, "Ringing"), f.uas);
    f.tick(179'000 * ms);
    f.tick(181'000 * ms);
    // §16.6 step 11 and §16.7 step 2: the branch is over, the caller hears 408.
    EXPECT_TRUE(caller_heard(f, 408));
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
    f.tick(300'000 * ms);
    EXPECT_EQ(f.p->transactions(), 0u);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
}

TEST(Stateful, ACancelTheCalleeNeverAnswersEndsIn487) {
    fixture f;
    f.feed(invite(), f.uac);
    const std::string fwd = f.sent_to(f.uas);
    f.feed(answer(fwd, 180, "Ringing"), f.uas);
    f.feed(invite("CANCEL"), f.uac);  // 200 here, CANCEL downstream; then silence
    f.tick(31'000 * ms);
    bool terminated = false;
    f.tick(34'000 * ms);
    for (std::size_t i = 0; i < f.out.size(); ++i)
        terminated = terminated || (f.out[i].destination == f.uac && status_of(f.sent(i)) == 487);
    EXPECT_TRUE(terminated);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
}

TEST(Stateful, ACancelBeforeAnyProvisionalEndsIn487WhenTheCalleeStaysSilent) {
    // §9.1: the CANCEL waits for a provisional that never comes; Timer B ends the branch, and the
    // caller, who cancelled, hears 487 as it would from a callee, not 408.
    fixture f;
    f.feed(invite(), f.uac);
    ASSERT_EQ(f.feed(invite("CANCEL"), f.uac), 1u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 200);
    f.tick(31'000 * ms);
    EXPECT_FALSE(caller_heard(f, 487));
    f.tick(33'000 * ms);
    EXPECT_TRUE(caller_heard(f, 487));
    EXPECT_FALSE(caller_heard(f, 408));
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
    f.tick(80'000 * ms);
    EXPECT_EQ(f.p->transactions(), 0u);
}

TEST(Stateful, ARouteAfterOursThatDoesNotParseIsAnswered400AndNothingIsKept) {
    // Found by pipeline_fuzz: the Route after ours, unread by the parser, was forwarded as the top
    // Route; our copy of the request no longer parsed, so when its branch timed out the caller's
    // answer could not be written and the transaction waited for ever.
    fixture f;
    std::string inv = invite();
    inv.insert(inv.find("From:"), "Route: <sip:198.18.0.1:5060;lr>\r\nRoute: <sip:198.18.0.50;lr\r\n");
    ASSERT_EQ(f.feed(inv, f.uac), 1u);
    parsed refused(f.sent());
    EXPECT_EQ(refused.msg.status_code, 400);
    EXPECT_EQ(refused.msg.reason, "Bad Request (Malformed Route)");
    EXPECT_EQ(f.out[0].destination, f.uac);
    EXPECT_EQ(f.p->stats().requests_forwarded(), 0u);
    EXPECT_EQ(f.p->transactions(), 0u);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
}

TEST(Stateful, StoredCopiesAreSizedToTheMessage) {
    // A 20 kB answer is kept (and relayed) like a small one: copies are not capped at 4 kB.
    fixture f;
    f.feed(invite(), f.uac);
    std::string busy = answer(f.sent_to(f.uas), 486, "Busy Here");
    busy.insert(busy.find("Content-Length"), "X-Padding: " + std::string(20000, 'p') + "\r\n");
    f.feed(busy, f.uas);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 486);
    EXPECT_GE(f.p->stored_bytes(), 20000u);
    f.feed(invite(), f.uac);  // the retransmitted INVITE is answered from the stored copy
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 486);
    f.tick(40'000 * ms);  // Timers H and D: everything is freed
    EXPECT_EQ(f.p->stored_bytes(), 0u);
    EXPECT_EQ(f.p->transactions(), 0u);
}

TEST(Stateful, AFinalAnswerTooLargeToKeepBecomes502) {
    // The smallest store (one 128 kB chunk) gives its chunk to the size class of the forwarded
    // INVITE; an 8 kB answer then finds no room, and the caller still gets a final answer.
    proxy_config c = test::test_config(proxy_mode::stateful);
    c.transactions_per_shard = 4;
    c.memory_per_shard = 0;
    test::pipeline_driver f(c);
    f.p = std::make_unique<pipeline>(f.config, 3);
    const net_address uac = addr("198.18.0.9:5070");
    f.feed_at(invite(), uac, &f.config.listen[0]);
    std::string fwd;
    for (std::size_t i = 0; i < f.out.size(); ++i)
        if (f.out[i].destination == addr("198.18.0.20:5062")) fwd = f.sent(i);
    std::string busy = answer(fwd, 486, "Busy Here");
    busy.insert(busy.find("Content-Length"), "X-Padding: " + std::string(5000, 'p') + "\r\n");
    f.feed_at(busy, addr("198.18.0.20:5062"), &f.config.listen[0]);
    int status = 0;
    for (std::size_t i = 0; i < f.out.size(); ++i)
        if (f.out[i].destination == uac) status = status_of(f.sent(i));
    EXPECT_EQ(status, 502);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
}

TEST(Stateful, SilenceIsAnswered408AfterTimerB) {
    fixture f;
    f.feed(invite(), f.uac);
    f.tick(31000 * ms);
    ASSERT_GE(f.tick(32100 * ms), 1u);
    const std::string timeout = f.sent_to(f.uac);
    parsed t(timeout);
    ASSERT_TRUE(t.result.ok()) << timeout;
    EXPECT_EQ(t.msg.status_code, 408);
    EXPECT_EQ(t.msg.count(sip::header_id::via), 1u);  // the caller's Via only
    EXPECT_EQ(t.msg.top_via.branch, "z9hG4bKuac1");
    EXPECT_EQ(f.p->stats().transactions_timed_out, 1u);
}

TEST(Stateful, AFullTableAnswers503) {
    fixture f(2);
    EXPECT_EQ(f.feed(invite("INVITE", "z9hG4bKa"), f.uac), 2u);
    EXPECT_EQ(f.feed(invite("INVITE", "z9hG4bKb"), f.uac), 2u);
    ASSERT_EQ(f.feed(invite("INVITE", "z9hG4bKc"), f.uac), 1u);
    parsed r(f.sent());
    EXPECT_EQ(r.msg.status_code, 503);
    EXPECT_EQ(r.msg.find(sip::header_id::retry_after)->value, "5");
    EXPECT_EQ(f.p->stats().dropped(drop_cause::table_full), 1u);
}

TEST(Stateful, NonInviteGetsNoTrying) {
    fixture f;
    ASSERT_EQ(f.feed(invite("MESSAGE"), f.uac), 1u);
    const std::string fwd = f.sent_to(f.uas);
    ASSERT_FALSE(fwd.empty());
    ASSERT_EQ(f.feed(answer(fwd, 200, "OK"), f.uas), 1u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 200);
    // A retransmitted MESSAGE gets the 200 again from the transaction.
    ASSERT_EQ(f.feed(invite("MESSAGE"), f.uac), 1u);
    EXPECT_EQ(status_of(f.sent_to(f.uac)), 200);
    EXPECT_EQ(f.tick(40000 * ms), 0u);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
}

TEST(Stateful, RefusalsGoThroughTheTransaction) {
    fixture f;
    std::string unknown = invite();
    unknown.replace(unknown.find("sip:bob@example.com SIP"), 19, "sip:eve@example.com");
    ASSERT_EQ(f.feed(unknown, f.uac), 1u);  // a final answer at once: no 100 first (§16.2)
    EXPECT_EQ(status_of(f.sent(0)), 404);
    ASSERT_EQ(f.feed(unknown, f.uac), 1u);  // the retransmission gets the 404 again
    EXPECT_EQ(status_of(f.sent()), 404);
}

TEST(Stateful, EveryMessageOfACallIsHandledByItsOwnerShard) {
    // Two shards; each message lands on a shard at random (as SO_REUSEPORT or RSS spread them by
    // 4-tuple) and is handed over once when that shard does not own it.
    const proxy_config config = test::test_config(proxy_mode::stateful);
    pipeline shard0(config, 0, 0, 2), shard1(config, 1, 0, 2);
    pipeline* shards[2] = {&shard0, &shard1};
    outbox out(1 << 16, 64);
    std::mt19937 rng(9);
    int hops = 0;
    // Delivers to a random shard; returns the shard that handled it and the messages it sent.
    const auto deliver = [&](const std::string& datagram, net_address from) {
        out.clear();
        const std::uint32_t first = rng() % 2;
        std::uint32_t owner = shards[first]->on_packet(inbound{datagram, from, &config.listen[0]}, 0, out);
        if (owner != first) {
            ++hops;
            EXPECT_EQ(shards[owner]->on_packet(inbound{datagram, from, &config.listen[0], true}, 0, out), owner);
        }
        return owner;
    };
    for (int call = 0; call < 40; ++call) {
        const std::string call_id = "call-" + std::to_string(call) + "@198.18.0.9";
        std::string inv = invite();
        inv.replace(inv.find("call-1@198.18.0.9"), 17, call_id);
        inv.replace(inv.find("z9hG4bKuac1"), 11, "z9hG4bKc" + std::to_string(call) + "x");
        const std::uint32_t owner = core::owner_shard(call_id, 2);
        ASSERT_EQ(deliver(inv, addr("198.18.0.9:5070")), owner);
        std::string fwd;
        for (std::size_t i = 0; i < out.size(); ++i)
            if (out[i].destination == addr("198.18.0.20:5062")) fwd = std::string(out.bytes(out[i]).data(), out[i].size);
        ASSERT_FALSE(fwd.empty());
        ASSERT_EQ(deliver(answer(fwd, 180, "Ringing"), addr("198.18.0.20:5062")), owner);
        ASSERT_EQ(deliver(answer(fwd, 200, "OK"), addr("198.18.0.20:5062")), owner);
        std::string ack = inv;
        ack.replace(0, 6, "ACK");
        ack.replace(ack.find("CSeq: 1 INVITE"), 14, "CSeq: 1 ACK");
        ASSERT_EQ(deliver(ack, addr("198.18.0.9:5070")), owner);
    }
    EXPECT_GT(hops, 20);  // about half the deliveries land on the wrong shard first
    EXPECT_EQ(shard0.stats().transactions_active + shard1.stats().transactions_active, 0u);
    EXPECT_EQ(shard0.stats().responses_forwarded() + shard1.stats().responses_forwarded(), 80u);
}

} // namespace
} // namespace sipfast::proxy
