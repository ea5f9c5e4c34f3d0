// SPDX-License-Identifier: Apache-2.0
// The registrar's rules (RFC 3261 §10.3 steps 6-8, RFC 5626 §6) on bindings alone, with an
// explicit clock: what a REGISTER adds, refreshes, removes and refuses.
#include "sipfast/registrar/register_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipfast::registrar {
namespace {

constexpr std::uint64_t s = 1'000'000'000;

contact_request contact(std::string_view uri, int expires = -1) {
    contact_request c;
    c.uri = uri;
    if (expires >= 0) {
        c.has_expires = true;
        c.expires_s = static_cast<std::uint32_t>(expires);
    }
    return c;
}

struct reg {
    std::vector<contact_request> contacts;
    register_request r;
    reg(std::vector<contact_request> c, std::string_view call_id, std::uint32_t cseq, int expires_header = -1)
        : contacts(std::move(c)) {
        r.contacts = contacts;
        r.call_id = call_id;
        r.cseq = cseq;
        if (expires_header >= 0) {
            r.has_expires = true;
            r.expires_s = static_cast<std::uint32_t>(expires_header);
        }
    }
};

const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 3};

std::vector<std::string> contacts_of(const std::vector<binding>& b) {
    std::vector<std::string> out;
    for (const binding& x : b) out.push_back(x.contact);
    return out;
}

TEST(RegisterRules, AddsWithTheExpiryAskedForOrTheDefaultAndCapsAtTheMaximum) {
    std::vector<binding> b;
    const reg r({contact("sip:alice@198.18.0.9:5070", 120), contact("sip:alice@198.18.0.10"), contact("sip:a@198.18.0.11", 99999)},
                "call-1", 1);
    ASSERT_EQ(apply_register(r.r, b, 10 * s, limits), register_fault::none);
    ASSERT_EQ(b.size(), 3u);
    EXPECT_EQ(b[0].expires_ns, 130 * s);
    EXPECT_EQ(b[1].expires_ns, 3610 * s);  // no expires anywhere: the default
    EXPECT_EQ(b[2].expires_ns, 7210 * s);  // capped
    EXPECT_EQ(b[0].call_id, "call-1");
    EXPECT_EQ(b[0].seconds_left(10 * s + 1), 120u);  // rounded up
}

TEST(RegisterRules, TheContactsExpiresWinsOverTheHeader) {
    std::vector<binding> b;
    const reg r({contact("sip:alice@198.18.0.9", 300), contact("sip:alice@198.18.0.10")}, "c", 1, 600);
    ASSERT_EQ(apply_register(r.r, b, 0, limits), register_fault::none);
    EXPECT_EQ(b[0].expires_ns, 300 * s);
    EXPECT_EQ(b[1].expires_ns, 600 * s);
}

TEST(RegisterRules, TooBriefIsRefusedAndChangesNothing) {
    std::vector<binding> b;
    ASSERT_EQ(apply_register(reg({contact("sip:alice@198.18.0.9")}, "c", 1).r, b, 0, limits), register_fault::none);
    const reg brief({contact("sip:alice@198.18.0.10", 59), contact("sip:alice@198.18.0.9", 0)}, "c", 2);
    EXPECT_EQ(apply_register(brief.r, b, 0, limits), register_fault::too_brief);
    EXPECT_EQ(contacts_of(b), std::vector<std::string>{"sip:alice@198.18.0.9"});  // the removal did not happen either
    EXPECT_EQ(answer_for(register_fault::too_brief).status, 423);
}

TEST(RegisterRules, RefreshMatchesByUriEquivalenceNotText) {
    std::vector<binding> b;
    ASSERT_EQ(apply_register(reg({contact("sip:alice@Example.COM:5070;transport=udp", 100)}, "c", 1).r, b, 0, limits),
              register_fault::none);
    ASSERT_EQ(apply_register(reg({contact("sip:alice@example.com:5070;TRANSPORT=UDP", 200)}, "c", 2).r, b, 0, limits),
              register_fault::none);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].expires_ns, 200 * s);
    // No port is not port 5060 (§19.1.4): another binding.
    ASSERT_EQ(apply_register(reg({contact("sip:alice@example.com:5060", 200)}, "c", 3).r, b, 0, limits), register_fault::none);
    ASSERT_EQ(apply_register(reg({contact("sip:alice@example.com", 200)}, "c", 4).r, b, 0, limits), register_fault::none);
    EXPECT_EQ(b.size(), 3u);
}

TEST(RegisterRules, ExpiresZeroRemovesOneAndStarRemovesAll) {
    std::vector<binding> b;
    ASSERT_EQ(apply_register(reg({contact("sip:a@198.18.0.9"), contact("sip:a@198.18.0.10")}, "c", 1).r, b, 0, limits),
              register_fault::none);
    ASSERT_EQ(apply_register(reg({contact("sip:a@198.18.0.9", 0)}, "c", 2).r, b, 0, limits), register_fault::none);
    EXPECT_EQ(contacts_of(b), std::vector<std::string>{"sip:a@198.18.0.10"});
    reg star({}, "other-call", 1, 0);
    star.r.star = true;
    ASSERT_EQ(apply_register(star.r, b, 0, limits), register_fault::none);
    EXPECT_TRUE(b.empty());
}

TEST(RegisterRules, StarNeedsExpiresZeroAndNoOtherContact) {
    std::vector<binding> b;
    ASSERT_EQ(apply_register(reg({contact("sip:a@198.18.0.9")}, "c", 1).r, b, 0, limits), register_fault::none);
    reg no_expires({}, "c", 2);
    no_expires.r.star = true;
    EXPECT_EQ(apply_register(no_expires.r, b, 0, limits), register_fault::star_not_alone);
    reg nonzero({}, "c", 2, 60);
    nonzero.r.star = true;
    EXPECT_EQ(apply_register(nonzero.r, b, 0, limits), register_fault::star_not_alone);
    reg with_other({contact("sip:a@198.18.0.10")}, "c", 2, 0);
    with_other.r.star = true;
    EXPECT_EQ(apply_register(with_other.r, b, 0, limits), register_fault::star_not_alone);
    EXPECT_EQ(b.size(), 1u);
    EXPECT_EQ(answer_for(register_fault::star_not_alone).status, 400);
}

TEST(RegisterRules, AnOlderCSeqOfTheSameCallIdIsRefusedTheSameIsARetransmission) {
    std::vector<binding> b;
    ASSERT_EQ(apply_register(reg({contact("sip:a@198.18.0.9", 100)}, "c", 5).r, b, 0, limits), register_fault::none);
    EXPECT_EQ(apply_register(reg({contact("sip:a@198.18.0.9", 0)}, "c", 4).r, b, 0, limits), register_fault::out_of_order);
    EXPECT_EQ(b.size(), 1u);
    // The same request again (its 200 was lost): nothing changes, and it is answered 200.
    EXPECT_EQ(apply_register(reg({contact("sip:a@198.18.0.9", 100)}, "c", 5).r, b, 50 * s, limits), register_fault::none);
    EXPECT_EQ(b[0].expires_ns, 100 * s);
    // Another Call-ID may have any CSeq (another device, or the phone restarted).
    EXPECT_EQ(apply_register(reg({contact("sip:a@198.18.0.9", 0)}, "d", 1).r, b, 0, limits), register_fault::none);
    EXPECT_TRUE(b.empty());
    EXPECT_EQ(answer_for(register_fault::out_of_order).status, 500);
}

TEST(RegisterRules, AStarOlderThanABindingIsRefused) {
    std::vector<binding> b;
    ASSERT_EQ(apply_register(reg({contact("sip:a@198.18.0.9")}, "c", 5).r, b, 0, limits), register_fault::none);
    reg star({}, "c", 3, 0);
    star.r.star = true;
    EXPECT_EQ(apply_register(star.r, b, 0, limits), register_fault::out_of_order);
    star.r.cseq = 5;  // not newer either
    EXPECT_EQ(apply_register(star.r, b, 0, limits), register_fault::out_of_order);
    EXPECT_EQ(b.size(), 1u);
    star.r.cseq = 6;
    EXPECT_EQ(apply_register(star.r, b, 0, limits), register_fault::none);
    EXPECT_TRUE(b.empty());
}

TEST(RegisterRules, InstanceAndRegIdNameTheBindingWhateverTheUri) {
    std::vector<binding> b;
    contact_request c1 = contact("sip:a@198.18.0.9:5070", 100);
    c1.instance = "\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";
    c1.reg_id = 1;
    ASSERT_EQ(apply_register(reg({c1}, "c", 1).r, b, 0, limits), register_fault::none);
    contact_request moved = c1;  // the same flow from a new address: replaces
    moved.uri = "sip:a@198.18.0.99:6000";
    ASSERT_EQ(apply_register(reg({moved}, "c", 2).r, b, 0, limits), register_fault::none);
    EXPECT_EQ(contacts_of(b), std::vector<std::string>{"sip:a@198.18.0.99:6000"});
    contact_request second = c1;  // a second flow of the same instance: another binding
    second.reg_id = 2;
    ASSERT_EQ(apply_register(reg({second}, "c", 3).r, b, 0, limits), register_fault::none);
    EXPECT_EQ(b.size(), 2u);
}

TEST(RegisterRules, LapsedBindingsGoAndTheLimitCountsWhatRemains) {
    std::vector<binding> b;
    ASSERT_EQ(apply_register(reg({contact("sip:a@198.18.0.1", 60), contact("sip:a@198.18.0.2", 600),
                                  contact("sip:a@198.18.0.3", 600)}, "c", 1).r, b, 0, limits),
              register_fault::none);
    EXPECT_EQ(apply_register(reg({contact("sip:a@198.18.0.4", 600)}, "c", 2).r, b, 0, limits),
              register_fault::too_many_bindings);
    EXPECT_EQ(b.size(), 3u);
    // At 60 s the first has lapsed: room for the fourth.
    EXPECT_EQ(apply_register(reg({contact("sip:a@198.18.0.4", 600)}, "c", 3).r, b, 60 * s, limits), register_fault::none);
    EXPECT_EQ(contacts_of(b), (std::vector<std::string>{"sip:a@198.18.0.2", "sip:a@198.18.0.3", "sip:a@198.18.0.4"}));
    EXPECT_EQ(answer_for(register_fault::too_many_bindings).status, 403);
}

TEST(RegisterRules, ABadContactUriIsRefused) {
    std::vector<binding> b;
    EXPECT_EQ(apply_register(reg({contact("sip:@@@")}, "c", 1).r, b, 0, limits), register_fault::bad_contact);
    EXPECT_TRUE(b.empty());
}

TEST(RegisterRules, PreferenceIsQThenTheLatestToLapse) {
    std::vector<binding> b;
    contact_request low = contact("sip:a@198.18.0.1", 600), high = contact("sip:a@198.18.0.2", 100),
                    none = contact("sip:a@198.18.0.3", 300);
    low.has_q = high.has_q = true;
    low.q_milli = 100;
    high.q_milli = 1000;
    ASSERT_EQ(apply_register(reg({low, high, none}, "c", 1).r, b, 0, limits), register_fault::none);
    order_by_preference(b);
    // q=1.0 and no q tie: the later expiry first.
    EXPECT_EQ(contacts_of(b), (std::vector<std::string>{"sip:a@198.18.0.3", "sip:a@198.18.0.2", "sip:a@198.18.0.1"}));
}

TEST(RegisterRules, PathAndTheFlowAreKept) {
    std::vector<binding> b;
    reg r({contact("sip:a@10.0.0.5:5060")}, "c", 1);
    const std::string_view path[] = {"<sip:pcscf.example.net;lr>"};
    r.r.path = path;
    r.r.received = {sip::transport::tcp, {}};
    r.r.received.source.family = 4;
    r.r.received.source.port = 40000;
    ASSERT_EQ(apply_register(r.r, b, 0, limits), register_fault::none);
    EXPECT_EQ(b[0].path, std::vector<std::string>{"<sip:pcscf.example.net;lr>"});
    EXPECT_EQ(b[0].received.transport, sip::transport::tcp);
    EXPECT_EQ(b[0].received.source.port, 40000);
}

} // namespace
} // namespace sipfast::registrar
