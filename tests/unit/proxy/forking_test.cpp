// SPDX-License-Identifier: Apache-2.0
// Forking (RFC 3261 §16.6) and the response context (§16.7): a user with two registered contacts,
// the pipeline driven by hand with a fake clock.
#include "sipfast/proxy/pipeline.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sipfast/sip/parser.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::crlf;
using test::parsed;

constexpr std::uint64_t ms = test::pipeline_driver::ms;

struct fork_fixture : test::pipeline_driver {
    std::unique_ptr<registrar::location_store> store = registrar::make_memory_store();
    net_address uac = addr("198.18.0.9:5070");
    net_address phone_a = addr("198.18.0.20:5062");  // q=1.0: tried first
    net_address phone_b = addr("198.18.0.21:5064");  // q=0.5

    explicit fork_fixture(fork_mode mode = fork_mode::parallel, std::string_view path_a = "")
        : pipeline_driver(test::test_config(proxy_mode::stateful)) {
        config.serve_registrations = true;
        config.forking = mode;
        config.branch_timeout_ns = 5'000 * ms;
        config.transactions_per_shard = 64;
        p = std::make_unique<pipeline>(config, 0);
        p->attach({store.get(), nullptr, nullptr});
        // Each phone registers bob from its own address.
        EXPECT_EQ(status_of(do_register("<sip:bob@198.18.0.20:5062>;q=1.0", "reg-a", phone_a, path_a)), 200);
        EXPECT_EQ(status_of(do_register("<sip:bob@198.18.0.21:5064>;q=0.5", "reg-b", phone_b)), 200);
    }
    std::string do_register(std::string_view contact, std::string_view call_id, net_address from, std::string_view path = "") {
        const std::string via = "SIP/2.0/UDP " + std::string(core::format_host(from, host_buf)) + ":" +
                                std::to_string(from.port) + ";branch=z9hG4bK" + std::string(call_id) + ";rport";
        const std::string extra = path.empty() ? "Expires: 3600\n" : "Expires: 3600\nSupported: path\nPath: " + std::string(path) + "\n";
        feed(test::request_text({.method = "REGISTER", .ruri = "sip:example.com", .via = via, .extra = extra,
                                 .call_id = call_id, .contact = contact}),
             from);
        return sent_to(from);
    }
    std::size_t feed(const std::string& datagram, net_address from) { return feed_at(datagram, from, &config.listen[0]); }
    std::string sent_to(const net_address& to) const {
        for (std::size_t i = 0; i < out.size(); ++i)
            if (out[i].destination == to) return sent(i);
        return {};
    }
    /// Every message sent to `to` in the last batch.
    std::vector<std::string> all_sent_to(const net_address& to) const {
        std::vector<std::string> v;
        for (std::size_t i = 0; i < out.size(); ++i)
            if (out[i].destination == to) v.push_back(sent(i));
        return v;
    }
    static int status_of(const std::string& m) { return m.empty() ? 0 : parsed(m).msg.status_code; }
    std::array<char, 48> host_buf{};
};

std::string invite(std::string_view method = "INVITE") {
    return test::request_text({.method = method, .call_id = "fork-1@198.18.0.9"});
}

std::string answer(const std::string& forwarded, int status, std::string_view reason, std::string_view tag,
                   std::string_view extra = "") {
    return test::answer_to(forwarded, status, reason, tag, extra);
}

std::size_t headers(const sip::message& m, sip::header_id id) {
    std::size_t n = 0;
    for (const sip::header& h : m.headers) n += h.id == id ? 1 : 0;
    return n;
}

sip::method method_of(const std::string& m) { return m.empty() ? sip::method::other : parsed(m).msg.method; }

struct rung {
    std::string a;  // the INVITE as phone A got it
    std::string b;
};

// The INVITE is forked to both phones and both ring.
rung ring_both(fork_fixture& f) {
    f.feed(invite(), f.uac);
    rung r{f.sent_to(f.phone_a), f.sent_to(f.phone_b)};
    EXPECT_EQ(method_of(r.a), sip::method::invite);
    EXPECT_EQ(method_of(r.b), sip::method::invite);
    EXPECT_EQ(f.feed(answer(r.a, 180, "Ringing", "ta"), f.phone_a), 1u);
    EXPECT_EQ(f.feed(answer(r.b, 180, "Ringing", "tb"), f.phone_b), 1u);
    return r;
}

// Both branches over and nothing left: every slot is back.
void expect_all_freed(fork_fixture& f) {
    f.tick(f.now + 60'000 * ms);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
    EXPECT_EQ(f.p->stats().transactions_pending, 0u);
    EXPECT_EQ(f.p->transactions(), 0u);
}

TEST(Forking, AnInviteRingsEveryContactAndTheFirst2xxCancelsTheOthers) {
    fork_fixture f;
    f.feed(invite(), f.uac);
    ASSERT_EQ(f.out.size(), 3u);  // 100 Trying, and one INVITE per contact
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 100);
    const std::string a = f.sent_to(f.phone_a), b = f.sent_to(f.phone_b);
    const parsed pa(a), pb(b);
    EXPECT_EQ(pa.msg.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_EQ(pb.msg.request_uri_text, "sip:bob@198.18.0.21:5064");
    EXPECT_NE(pa.msg.top_via.branch, pb.msg.top_via.branch);  // one client transaction each
    EXPECT_EQ(f.p->stats().branches_forked, 1u);
    // Each provisional answer goes to the caller.
    EXPECT_EQ(f.feed(answer(a, 180, "Ringing", "ta"), f.phone_a), 1u);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 180);
    EXPECT_EQ(f.feed(answer(b, 180, "Ringing", "tb"), f.phone_b), 1u);
    // B answers: its 200 goes up and A's branch is cancelled (§16.7 step 10).
    ASSERT_EQ(f.feed(answer(b, 200, "OK", "tb"), f.phone_b), 2u);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 200);
    const std::string cancel = f.sent_to(f.phone_a);
    ASSERT_EQ(method_of(cancel), sip::method::cancel);
    EXPECT_EQ(parsed(cancel).msg.top_via.branch, pa.msg.top_via.branch);
    // A's 487 is ACKed hop by hop and goes no further; the caller already has its answer.
    f.feed(answer(cancel, 200, "OK", "ta"), f.phone_a);
    ASSERT_EQ(f.feed(answer(a, 487, "Request Terminated", "ta"), f.phone_a), 1u);
    EXPECT_EQ(method_of(f.sent_to(f.phone_a)), sip::method::ack);
    EXPECT_EQ(f.p->stats().dialogs_created, 1u);
    expect_all_freed(f);
}

TEST(Forking, EveryTwoHundredIsForwarded) {
    // §16.7 step 5: a 2xx that crosses our CANCEL still goes to the caller, who ends that dialog.
    fork_fixture f;
    const rung r = ring_both(f);
    f.feed(answer(r.a, 200, "OK", "ta"), f.phone_a);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 200);
    ASSERT_EQ(f.feed(answer(r.b, 200, "OK", "tb"), f.phone_b), 1u);
    const std::string late = f.sent_to(f.uac);
    EXPECT_EQ(fork_fixture::status_of(late), 200);
    EXPECT_EQ(parsed(late).msg.to.tag, "tb");
    EXPECT_EQ(parsed(late).msg.top_via.branch, "z9hG4bKuac1");
    expect_all_freed(f);
}

TEST(Forking, WithTopologyHidingEveryTwoHundredGoesUpWithTheCallersVias) {
    // Each branch keeps the caller's Vias: a late 2xx goes up through its own branch, the head's
    // server side being over.
    fork_fixture f;
    f.config.hide_topology = true;
    f.p->reconfigure(f.config);
    const rung r = ring_both(f);
    EXPECT_EQ(headers(parsed(r.a).msg, sip::header_id::via), 1u);
    EXPECT_EQ(headers(parsed(r.b).msg, sip::header_id::via), 1u);
    f.feed(answer(r.a, 200, "OK", "ta"), f.phone_a);
    const std::string first = f.sent_to(f.uac);
    EXPECT_EQ(fork_fixture::status_of(first), 200);
    EXPECT_EQ(parsed(first).msg.top_via.branch, "z9hG4bKuac1");
    ASSERT_EQ(f.feed(answer(r.b, 200, "OK", "tb"), f.phone_b), 1u);
    const std::string late = f.sent_to(f.uac);
    EXPECT_EQ(fork_fixture::status_of(late), 200);
    EXPECT_EQ(parsed(late).msg.to.tag, "tb");
    EXPECT_EQ(parsed(late).msg.top_via.branch, "z9hG4bKuac1");
    EXPECT_EQ(late.find("198.18.0.21"), std::string::npos);
    expect_all_freed(f);
}

TEST(Forking, WhenEveryBranchFailsTheCallerGetsTheBestAnswerOnce) {
    fork_fixture f;
    const rung r = ring_both(f);
    // A 5xx is kept, not forwarded: another branch may still do better.
    ASSERT_EQ(f.feed(answer(r.a, 500, "Server Error", "ta"), f.phone_a), 1u);
    EXPECT_EQ(method_of(f.sent_to(f.phone_a)), sip::method::ack);
    EXPECT_EQ(f.sent_to(f.uac), "");
    // The 4xx is the lower class: it is what the caller gets (§16.7 step 6).
    ASSERT_EQ(f.feed(answer(r.b, 486, "Busy Here", "tb"), f.phone_b), 2u);
    const std::string final_answer = f.sent_to(f.uac);
    EXPECT_EQ(fork_fixture::status_of(final_answer), 486);
    EXPECT_EQ(parsed(final_answer).msg.to.tag, "tb");
    EXPECT_EQ(parsed(final_answer).msg.top_via.branch, "z9hG4bKuac1");
    // The caller's retransmitted INVITE is answered from the transaction.
    ASSERT_EQ(f.feed(invite(), f.uac), 1u);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 486);
    expect_all_freed(f);
}

TEST(Forking, A6xxEndsTheSearch) {
    fork_fixture f;
    const rung r = ring_both(f);
    ASSERT_EQ(f.feed(answer(r.a, 603, "Decline", "ta"), f.phone_a), 2u);  // ACK, and B cancelled
    EXPECT_EQ(method_of(f.sent_to(f.phone_b)), sip::method::cancel);
    EXPECT_EQ(f.sent_to(f.uac), "");  // not before the cancelled branch is over
    f.feed(answer(r.b, 487, "Request Terminated", "tb"), f.phone_b);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 603);
    expect_all_freed(f);
}

TEST(Forking, ChallengesOfEveryBranchAreMerged) {
    fork_fixture f;
    const rung r = ring_both(f);
    f.feed(answer(r.a, 401, "Unauthorized", "ta", "WWW-Authenticate: Digest realm=\"a.example\", nonce=\"1\"\n"), f.phone_a);
    f.feed(answer(r.b, 407, "Proxy Authentication Required", "tb",
                  "Proxy-Authenticate: Digest realm=\"b.example\", nonce=\"2\"\n"),
           f.phone_b);
    const std::string up = f.sent_to(f.uac);
    ASSERT_FALSE(up.empty());
    const parsed m(up);
    EXPECT_EQ(m.msg.status_code, 401);  // the first of the class
    EXPECT_EQ(headers(m.msg, sip::header_id::www_authenticate), 1u);
    EXPECT_EQ(headers(m.msg, sip::header_id::proxy_authenticate), 1u);
    EXPECT_NE(up.find("realm=\"a.example\""), std::string::npos);
    EXPECT_NE(up.find("realm=\"b.example\""), std::string::npos);
    expect_all_freed(f);
}

TEST(Forking, A503IsGivenToTheCallerAs500) {
    fork_fixture f;
    const rung r = ring_both(f);
    f.feed(answer(r.a, 503, "Service Unavailable", "ta"), f.phone_a);
    f.feed(answer(r.b, 503, "Service Unavailable", "tb"), f.phone_b);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 500);
    expect_all_freed(f);
}

TEST(Forking, TheCallersCancelCancelsEveryBranch) {
    fork_fixture f;
    const rung r = ring_both(f);
    ASSERT_EQ(f.feed(invite("CANCEL"), f.uac), 3u);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 200);
    EXPECT_EQ(method_of(f.sent_to(f.phone_a)), sip::method::cancel);
    EXPECT_EQ(method_of(f.sent_to(f.phone_b)), sip::method::cancel);
    f.feed(answer(r.a, 487, "Request Terminated", "ta"), f.phone_a);
    EXPECT_EQ(f.sent_to(f.uac), "");
    f.feed(answer(r.b, 487, "Request Terminated", "tb"), f.phone_b);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 487);
    expect_all_freed(f);
}

TEST(Forking, ABranchThatNeverAnswersCountsAs408AfterAnAnswer) {
    fork_fixture f;
    f.feed(invite(), f.uac);
    const std::string b = f.sent_to(f.phone_b);
    f.feed(answer(b, 486, "Busy Here", "tb"), f.phone_b);
    EXPECT_EQ(f.sent_to(f.uac), "");
    // A stays silent: Timer B (64*T1) ends its branch, and the busy answer beats our own 408
    // (sent again on Timer G until the caller ACKs it).
    f.tick(40'000 * ms);
    const std::vector<std::string> up = f.all_sent_to(f.uac);
    ASSERT_FALSE(up.empty());
    for (const std::string& m : up) EXPECT_EQ(fork_fixture::status_of(m), 486);
    expect_all_freed(f);
}

TEST(Forking, SequentialTriesTheBestContactFirstAndFailsOver) {
    fork_fixture f(fork_mode::sequential);
    f.feed(invite(), f.uac);
    ASSERT_EQ(f.out.size(), 2u);  // 100 Trying and A's INVITE only
    const std::string a = f.sent_to(f.phone_a);
    ASSERT_EQ(method_of(a), sip::method::invite);
    // A is busy: B is tried next, and the caller hears nothing of A's failure.
    ASSERT_EQ(f.feed(answer(a, 486, "Busy Here", "ta"), f.phone_a), 2u);
    EXPECT_EQ(method_of(f.sent_to(f.phone_a)), sip::method::ack);
    const std::string b = f.sent_to(f.phone_b);
    ASSERT_EQ(method_of(b), sip::method::invite);
    EXPECT_EQ(parsed(b).msg.request_uri_text, "sip:bob@198.18.0.21:5064");
    f.feed(answer(b, 200, "OK", "tb"), f.phone_b);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 200);
    expect_all_freed(f);
}

TEST(Forking, SequentialMovesOnWhenABranchRingsPastItsTime) {
    fork_fixture f(fork_mode::sequential);
    f.feed(invite(), f.uac);
    const std::string a = f.sent_to(f.phone_a);
    f.feed(answer(a, 180, "Ringing", "ta"), f.phone_a);
    // Ringing past branch_timeout_s: A is cancelled, and when it confirms, B rings.
    f.tick(4'900 * ms);
    EXPECT_EQ(f.sent_to(f.phone_a), "");
    f.tick(5'100 * ms);
    const std::string cancel = f.sent_to(f.phone_a);
    ASSERT_EQ(method_of(cancel), sip::method::cancel);
    f.feed(answer(cancel, 200, "OK", "ta"), f.phone_a);
    ASSERT_EQ(f.feed(answer(a, 487, "Request Terminated", "ta"), f.phone_a), 2u);  // ACK, and B's INVITE
    const std::string b = f.sent_to(f.phone_b);
    ASSERT_EQ(method_of(b), sip::method::invite);
    // The last branch has the whole of Timer C: it is not cut at branch_timeout_s.
    f.feed(answer(b, 180, "Ringing", "tb"), f.phone_b);
    f.tick(f.now + 10'000 * ms);
    EXPECT_EQ(f.sent_to(f.phone_b), "");
    f.feed(answer(b, 486, "Busy Here", "tb"), f.phone_b);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 486);  // of A's 487 and B's 486, the lower code
    expect_all_freed(f);
}

TEST(Forking, ACancelledSequentialSearchStartsNoFurtherBranch) {
    fork_fixture f(fork_mode::sequential);
    f.feed(invite(), f.uac);
    const std::string a = f.sent_to(f.phone_a);
    f.feed(answer(a, 180, "Ringing", "ta"), f.phone_a);
    f.feed(invite("CANCEL"), f.uac);
    EXPECT_EQ(method_of(f.sent_to(f.phone_a)), sip::method::cancel);
    f.feed(answer(a, 487, "Request Terminated", "ta"), f.phone_a);
    EXPECT_EQ(f.sent_to(f.phone_b), "");
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 487);
    expect_all_freed(f);
}

TEST(Forking, NonInviteRequestsForkToo) {
    fork_fixture f;
    f.feed(invite("MESSAGE"), f.uac);
    const std::string a = f.sent_to(f.phone_a), b = f.sent_to(f.phone_b);
    ASSERT_EQ(method_of(a), sip::method::message);
    ASSERT_EQ(method_of(b), sip::method::message);
    f.feed(answer(a, 200, "OK", "ta"), f.phone_a);
    EXPECT_EQ(fork_fixture::status_of(f.sent_to(f.uac)), 200);
    EXPECT_EQ(f.sent_to(f.phone_b), "");  // a non-INVITE is never cancelled (§9.1)
    f.feed(answer(b, 200, "OK", "tb"), f.phone_b);
    expect_all_freed(f);
}

TEST(Forking, ARequestInADialogGoesToOneContactOnly) {
    fork_fixture f;
    // Its Request-URI at our address: resolved through the bindings, as a strict router's would be.
    f.feed(test::request_text({.method = "BYE", .ruri = "sip:bob@198.18.0.1:5060", .to_tag = "b1", .call_id = "fork-2@198.18.0.9"}),
           f.uac);
    EXPECT_EQ(f.all_sent_to(f.phone_a).size() + f.all_sent_to(f.phone_b).size(), 1u);
    EXPECT_EQ(f.p->stats().branches_forked, 0u);
}

TEST(Forking, APathIsTheRouteToItsContact) {
    // RFC 3327 §5.3: a binding registered through an edge proxy is reached through it.
    fork_fixture f(fork_mode::parallel, "<sip:198.18.0.50:5060;lr>");
    f.feed(invite(), f.uac);
    const std::string via_edge = f.sent_to(addr("198.18.0.50:5060"));
    ASSERT_EQ(method_of(via_edge), sip::method::invite);
    const parsed m(via_edge);
    EXPECT_EQ(m.msg.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_EQ(test::values(m.msg, sip::header_id::route), std::vector<std::string>{"<sip:198.18.0.50:5060;lr>"});
    EXPECT_EQ(f.sent_to(f.phone_a), "");
    EXPECT_EQ(method_of(f.sent_to(f.phone_b)), sip::method::invite);
}

} // namespace
} // namespace sipfast::proxy
