// SPDX-License-Identifier: Apache-2.0
// The reg event notifier through the whole pipeline on an explicit clock (RFC 3680, RFC 6665): a
// SUBSCRIBE answered 200 and its NOTIFY sent in the dialog; the NOTIFY's client transaction
// retransmitted on Timer E until Timer F ends the subscription; a 2xx keeping it and a change
// then told; who may subscribe when authentication is on; refusals; stateless mode relaying.
#include "sipfast/proxy/stages/reg_event.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sipfast/auth/users.hpp"
#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/registrar/aliases.hpp"
#include "sipfast/proxy/response.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::crlf;
using test::parsed;

constexpr std::uint64_t ms = test::pipeline_driver::ms;

struct fixture : test::pipeline_driver {
    std::unique_ptr<registrar::location_store> store = registrar::make_memory_store();
    net_address ue = addr("198.18.0.9:5070");

    explicit fixture(proxy_mode mode = proxy_mode::stateful, bool with_auth = false)
        : pipeline_driver(test::test_config(mode)) {
        config.serve_registrations = true;
        config.transactions_per_shard = 64;
        if (with_auth) {
            auto users = std::make_shared<auth::user_directory>();
            users->add_password("alice", "example.com", "secret");
            config.auth.users = users;
            config.auth.mode = auth_mode::registrations;
            config.policy.peers.clear();  // nobody trusted
            config.policy.allow_loopback = false;
        }
        start();
        now = 1000 * ms;
    }
    /// A pipeline on `config` as it is now (a test changes it first).
    void start() {
        p = std::make_unique<pipeline>(config, 0);
        shared_services s;
        s.bindings = store.get();
        p->attach(s);
    }
    std::size_t feed(const std::string& text, net_address from) { return feed_at(text, from, &config.listen[0]); }
    /// Registers alice's contact straight in the store (the registrar stage is tested elsewhere).
    void bind(std::string_view contact, std::uint32_t expires_s, net_address from, std::string_view call_id = "reg-1") {
        registrar::contact_request c;
        c.uri = contact;
        c.has_expires = true;
        c.expires_s = expires_s;
        registrar::register_request r;
        r.contacts = std::span<const registrar::contact_request>(&c, 1);
        r.call_id = call_id;
        r.cseq = ++cseq;
        r.received = {sip::transport::udp, from};
        registrar::binding_list after;
        ASSERT_EQ(store->update("alice@example.com", r, {now, 0}, config.registrar_limits, after), registrar::register_fault::none);
    }
    std::uint32_t cseq = 0;
};

std::string subscribe(std::string_view extra = "Event: reg\n", std::string_view to_tag = "", int cseq = 1,
                      std::string_view ruri = "sip:alice@example.com") {
    return crlf("SUBSCRIBE " + std::string(ruri) + " SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKsub" + std::to_string(cseq) + ";rport\n"
                "Max-Forwards: 70\n"
                "From: <sip:alice@example.com>;tag=w1\n"
                "To: <sip:alice@example.com>" + (to_tag.empty() ? "" : ";tag=" + std::string(to_tag)) + "\n"
                "Call-ID: sub-1@198.18.0.9\n"
                "CSeq: " + std::to_string(cseq) + " SUBSCRIBE\n"
                "Contact: <sip:alice@198.18.0.9:5070>\n" + std::string(extra) +
                "Content-Length: 0\n\n");
}

std::string header_of(const std::string& m, sip::header_id id) {
    const parsed p(m);
    const sip::header* h = p.msg.find(id);
    return h ? std::string(h->value) : std::string();
}

TEST(reg_event, A200ThenAFullNotifyInTheDialog) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    ASSERT_EQ(f.feed(subscribe("Event: reg\nExpires: 300\n"), f.ue), 2u);
    const parsed ok(f.sent(0));
    ASSERT_EQ(ok.msg.status_code, 200);
    EXPECT_EQ(header_of(f.sent(0), sip::header_id::expires), "300");
    const std::string notify = f.sent(1);
    EXPECT_EQ(f.out[1].destination, f.ue);
    const parsed n(notify);
    ASSERT_TRUE(n.msg.is_request()) << notify;
    EXPECT_EQ(n.msg.method, sip::method::notify);
    EXPECT_EQ(n.msg.request_uri_text, "sip:alice@198.18.0.9:5070");
    EXPECT_EQ(n.msg.call_id, "sub-1@198.18.0.9");
    EXPECT_EQ(n.msg.from.tag, ok.msg.to.tag);  // our tag, as the 200 gave it
    EXPECT_EQ(n.msg.to.tag, "w1");
    EXPECT_EQ(n.msg.content_type(), "application/reginfo+xml");
    EXPECT_EQ(header_of(notify, sip::header_id::subscription_state), "active;expires=300");
    EXPECT_NE(n.msg.body.find("state=\"full\""), std::string_view::npos);
    EXPECT_NE(n.msg.body.find("<uri>sip:alice@198.18.0.9:5070</uri>"), std::string_view::npos);
    EXPECT_EQ(f.p->subscriptions(), 1u);
    EXPECT_EQ(f.p->stats().reg_subscriptions_active, 1u);
    EXPECT_EQ(f.p->stats().reg_notifies_sent, 1u);
}

TEST(reg_event, ARetransmittedSubscribeIsAnsweredAgainWithoutASecondNotify) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    ASSERT_EQ(f.feed(subscribe("Event: reg\nExpires: 300\n"), f.ue), 2u);
    const std::string tag(parsed(f.sent(0)).msg.to.tag);
    f.now += 2'000 * ms;
    ASSERT_EQ(f.feed(subscribe("Event: reg\nExpires: 300\n"), f.ue), 1u);
    const parsed again(f.sent(0));
    EXPECT_EQ(again.msg.status_code, 200);
    EXPECT_EQ(again.msg.to.tag, tag);
    EXPECT_EQ(header_of(f.sent(0), sip::header_id::expires), "298");
    EXPECT_EQ(f.p->subscriptions(), 1u);
    EXPECT_EQ(f.p->stats().reg_notifies_sent, 1u);
}

TEST(reg_event, AnUnansweredNotifyIsRetransmittedUntilTimerFEndsTheSubscription) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 3600, f.ue);
    ASSERT_EQ(f.feed(subscribe(), f.ue), 2u);
    const std::string notify = f.sent(1);
    ASSERT_EQ(f.tick(f.now + 500 * ms), 1u);  // Timer E at T1
    EXPECT_EQ(f.sent(0), notify);
    ASSERT_EQ(f.tick(f.now + 1000 * ms), 1u);  // then 2*T1
    EXPECT_EQ(f.sent(0), notify);
    (void)f.tick(f.now + 64 * 500 * ms);       // Timer F: 64*T1
    EXPECT_EQ(f.p->subscriptions(), 0u);
    EXPECT_EQ(f.p->stats().reg_subscriptions_active, 0u);
    EXPECT_EQ(f.p->stats().reg_subscriptions_ended, 1u);
    EXPECT_EQ(f.p->stats().reg_notifies_sent, 1u);  // its retransmissions are not new NOTIFYs
    EXPECT_EQ(f.p->transactions(), 0u);
}

TEST(reg_event, AnAnsweredNotifyKeepsItAndTheNextChangeIsTold) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 3600, f.ue);
    ASSERT_EQ(f.feed(subscribe(), f.ue), 2u);
    const std::string notify = f.sent(1);
    EXPECT_EQ(f.feed(test::answer_to(notify, 200, "OK", ""), f.ue), 0u);
    EXPECT_EQ(f.tick(f.now + 1000 * ms), 0u);  // nothing retransmitted, nothing changed
    f.bind("sip:alice@198.18.0.77:5070", 600, addr("198.18.0.77:5070"), "reg-2");
    ASSERT_EQ(f.tick(f.now + 200 * ms), 1u);  // within a poll
    const parsed partial(f.sent(0));
    EXPECT_EQ(partial.msg.cseq.number, parsed(notify).msg.cseq.number + 1);
    EXPECT_NE(partial.msg.body.find("state=\"partial\""), std::string_view::npos);
    EXPECT_NE(partial.msg.body.find("version=\"1\""), std::string_view::npos);
    EXPECT_NE(partial.msg.body.find("<uri>sip:alice@198.18.0.77:5070</uri>"), std::string_view::npos);
    // A 481 ends it.
    EXPECT_EQ(f.feed(test::answer_to(f.sent(0), 481, "Subscription Does Not Exist", ""), f.ue), 0u);
    EXPECT_EQ(f.p->subscriptions(), 0u);
}

TEST(reg_event, TheNotifyTakesTheRecordRouteSetToItsFirstHop) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 3600, f.ue);
    const net_address pcscf = addr("198.18.0.40:5070");
    ASSERT_EQ(f.feed(subscribe("Event: reg\nRecord-Route: <sip:198.18.0.40:5070;lr>, <sip:198.18.0.41;lr;x=1>\n"), pcscf), 2u);
    EXPECT_EQ(f.out[0].destination, pcscf);  // the 200 by its Via
    EXPECT_EQ(f.out[1].destination, pcscf);  // the NOTIFY to the first Route
    const parsed n(f.sent(1));
    std::vector<std::string> routes;
    n.msg.for_each_value(sip::header_id::route, [&](std::string_view v) {
        routes.emplace_back(v);
        return true;
    });
    EXPECT_EQ(routes, (std::vector<std::string>{"<sip:198.18.0.40:5070;lr>", "<sip:198.18.0.41;lr;x=1>"}));
    EXPECT_EQ(n.msg.request_uri_text, "sip:alice@198.18.0.9:5070");
}

// An attacker on a public port, authentication off (anyone may watch then): its SUBSCRIBE, with a
// forged source or a Record-Route naming a victim, must not aim reginfo documents at the victim.
struct unverified_fixture : fixture {
    net_address attacker = addr("198.18.0.66:5070");
    net_address victim = addr("198.18.0.99:5060");
    unverified_fixture() {
        config.policy.peers.clear();  // nobody is a neighbour of ours
        start();
        bind("sip:alice@198.18.0.9:5070", 3600, ue);
    }
    [[nodiscard]] std::uint64_t limited() const noexcept {
        return p->stats().drops[static_cast<std::size_t>(drop_cause::answer_limited)].get();
    }
};

TEST(reg_event, AnUntrustedSubscribersRecordRouteIsNotFollowed) {
    unverified_fixture f;
    ASSERT_EQ(f.feed(subscribe("Event: reg\nRecord-Route: <sip:198.18.0.99:5060;lr>\n"), f.attacker), 2u);
    EXPECT_EQ(f.out[0].destination, f.attacker);
    EXPECT_EQ(f.out[1].destination, f.attacker);  // back where it came from, not to the victim
    EXPECT_EQ(header_of(f.sent(1), sip::header_id::route), "<sip:198.18.0.99:5060;lr>");  // its business
}

TEST(reg_event, AnUnverifiedSubscriberGetsEachNotifyOnceAndTimerFEndsIt) {
    unverified_fixture f;
    ASSERT_EQ(f.feed(subscribe(), f.victim), 2u);  // the source forged: the victim's
    EXPECT_EQ(f.out[1].destination, f.victim);
    EXPECT_EQ(f.tick(f.now + 500 * ms), 0u);   // Timer E: not retransmitted toward it
    EXPECT_EQ(f.tick(f.now + 1000 * ms), 0u);
    EXPECT_EQ(f.limited(), 2u);
    f.bind("sip:alice@198.18.0.77:5070", 600, addr("198.18.0.77:5070"), "reg-2");
    EXPECT_EQ(f.tick(f.now + 200 * ms), 0u);  // one NOTIFY at a time: the change waits
    (void)f.tick(f.now + 64 * 500 * ms);      // Timer F ends it
    EXPECT_EQ(f.p->subscriptions(), 0u);
    EXPECT_EQ(f.p->transactions(), 0u);
    EXPECT_EQ(f.p->stats().reg_notifies_sent, 1u);
}

TEST(reg_event, ASubscriberThatAnsweredGetsRetransmissionsUntilItMovesElsewhere) {
    unverified_fixture f;
    ASSERT_EQ(f.feed(subscribe(), f.ue), 2u);
    const std::string tag(parsed(f.sent(0)).msg.to.tag);
    EXPECT_EQ(f.feed(test::answer_to(f.sent(1), 200, "OK", ""), f.ue), 0u);
    f.bind("sip:alice@198.18.0.77:5070", 600, addr("198.18.0.77:5070"), "reg-2");
    ASSERT_EQ(f.tick(f.now + 200 * ms), 1u);
    const std::string partial = f.sent(0);
    ASSERT_EQ(f.tick(f.now + 500 * ms), 1u);  // reached: Timer E as RFC 3261 §17.1.2.2 has it
    EXPECT_EQ(f.sent(0), partial);
    EXPECT_EQ(f.feed(test::answer_to(partial, 200, "OK", ""), f.ue), 0u);
    EXPECT_EQ(f.limited(), 0u);
    // A refresh from another address: that one has answered nothing yet.
    const net_address moved = addr("198.18.0.78:5070");
    ASSERT_EQ(f.feed(subscribe("Event: reg\n", tag, 2), moved), 2u);
    EXPECT_EQ(f.out[1].destination, moved);
    EXPECT_EQ(f.tick(f.now + 500 * ms), 0u);
    EXPECT_EQ(f.limited(), 1u);
}

TEST(reg_event, AnUnverifiedSubscribersNotifyIsChargedToItsAnswerBudget) {
    unverified_fixture f;
    f.config.limits = {200, 400, 1000, 1000, 0};  // a kilobyte: the 200, not the reginfo too
    f.start();
    ASSERT_EQ(f.feed(subscribe(), f.victim), 1u);
    EXPECT_EQ(parsed(f.sent(0)).msg.status_code, 200);
    EXPECT_EQ(f.limited(), 1u);
    EXPECT_EQ(f.p->subscriptions(), 1u);  // held until Timer F, as if the NOTIFY were lost
}

TEST(reg_event, AnAliasIsWatchedAsItsRegistrationAndTheNotifyListsTheWholeSet) {
    auto aliases = std::make_shared<registrar::alias_map>();
    ASSERT_EQ(aliases->add("sip:alice@example.com", {"sip:1012@example.com", "tel:1012"}), "");
    fixture f;
    f.config.aliases = aliases;
    f.p = std::make_unique<pipeline>(f.config, 0);
    shared_services services;
    services.bindings = f.store.get();
    f.p->attach(services);
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    std::string sub = subscribe("Event: reg\n", "", 1, "sip:1012@example.com");
    sub.replace(sub.find("To: <sip:alice@example.com>"), 27, "To: <sip:1012@example.com>");
    ASSERT_EQ(f.feed(sub, f.ue), 2u);
    const parsed n(f.sent(1));
    ASSERT_EQ(n.msg.method, sip::method::notify);
    const std::string_view body = n.msg.body;
    const std::size_t first = body.find("<registration aor=\"sip:1012@example.com\"");
    ASSERT_NE(first, std::string_view::npos) << body;
    EXPECT_LT(first, body.find("<registration aor=\"sip:alice@example.com\""));
    EXPECT_NE(body.find("<registration aor=\"tel:1012\""), std::string_view::npos);
    EXPECT_EQ(body.find("<registration aor=\"sip:1012@example.com\"", first + 1), std::string_view::npos);  // once
}

TEST(reg_event, ASubscriptionExpiresWithATerminatedNotify) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 3600, f.ue);
    ASSERT_EQ(f.feed(subscribe("Event: reg\nExpires: 60\n"), f.ue), 2u);
    EXPECT_EQ(f.feed(test::answer_to(f.sent(1), 200, "OK", ""), f.ue), 0u);
    EXPECT_EQ(f.tick(f.now + 59'000 * ms), 0u);
    ASSERT_EQ(f.tick(f.now + 1'100 * ms), 1u);
    const std::string last = f.sent(0);
    EXPECT_EQ(header_of(last, sip::header_id::subscription_state), "terminated;reason=timeout");
    EXPECT_NE(last.find("state=\"full\""), std::string::npos);
    EXPECT_EQ(f.p->subscriptions(), 0u);
}

TEST(reg_event, AnUnsubscribeIsAnswered200AndATerminatedNotify) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 3600, f.ue);
    ASSERT_EQ(f.feed(subscribe(), f.ue), 2u);
    const std::string tag(parsed(f.sent(0)).msg.to.tag);
    const std::string first = f.sent(1);
    EXPECT_EQ(f.feed(test::answer_to(first, 200, "OK", ""), f.ue), 0u);
    ASSERT_EQ(f.feed(subscribe("Event: reg\nExpires: 0\n", tag, 2, "sip:198.18.0.1:5060"), f.ue), 2u);
    EXPECT_EQ(parsed(f.sent(0)).msg.status_code, 200);
    EXPECT_EQ(header_of(f.sent(0), sip::header_id::expires), "0");
    const parsed last(f.sent(1));
    EXPECT_EQ(last.msg.method, sip::method::notify);
    EXPECT_EQ(last.msg.cseq.number, parsed(first).msg.cseq.number + 1);
    EXPECT_EQ(header_of(f.sent(1), sip::header_id::subscription_state), "terminated;reason=timeout");
    EXPECT_EQ(f.p->subscriptions(), 0u);
    // Its answer, or its retransmissions' end, finds nothing to do.
    EXPECT_EQ(f.feed(test::answer_to(f.sent(1), 200, "OK", ""), f.ue), 0u);
}

TEST(reg_event, WithAuthenticationOnlyTheRegisteredFlowOrAnAuthenticatedUserMaySubscribe) {
    fixture f(proxy_mode::stateful, true);
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    // From elsewhere, unauthenticated, untrusted: 403, no NOTIFY.
    ASSERT_EQ(f.feed(subscribe(), addr("198.18.0.66:5070")), 1u);
    EXPECT_EQ(parsed(f.sent(0)).msg.status_code, 403);
    // From the flow alice registered from: hers.
    ASSERT_EQ(f.feed(subscribe(), f.ue), 2u);
    EXPECT_EQ(parsed(f.sent(0)).msg.status_code, 200);
}

TEST(reg_event, Refusals) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    const auto status = [&](const std::string& m) {
        EXPECT_EQ(f.feed(m, f.ue), 1u);
        return parsed(f.sent(0)).msg.status_code;
    };
    EXPECT_EQ(status(subscribe("Event: presence\n", "", 1, "sip:198.18.0.1:5060")), 489);
    EXPECT_EQ(status(subscribe("Event: reg\nAccept: application/pidf+xml\n")), 406);
    EXPECT_EQ(status(subscribe("Event: reg\nExpires: 1\n")), 423);
    EXPECT_EQ(status(subscribe("Event: reg\nRequire: foo\n")), 420);
    EXPECT_EQ(status(subscribe("Event: reg\n", "", 1, "sip:nobody@example.com")), 404);
    // A dialog of ours (our tag) we do not hold.
    const answer_tag ours("sub-1@198.18.0.9");
    EXPECT_EQ(status(subscribe("Event: reg\n", ours.view(), 2)), 481);
    EXPECT_EQ(f.p->subscriptions(), 0u);
}

TEST(reg_event, AnotherPackageToAUserIsRelayedAsBefore) {
    fixture f;
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    ASSERT_EQ(f.feed(subscribe("Event: presence\n"), addr("198.18.0.50:5070")), 1u);
    EXPECT_TRUE(parsed(f.sent(0)).msg.is_request());  // forwarded to alice's contact
    EXPECT_EQ(f.out[0].destination, f.ue);
}

TEST(reg_event, StatelessModeRelaysRegSubscribes) {
    fixture f(proxy_mode::stateless);
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    ASSERT_EQ(f.feed(subscribe(), addr("198.18.0.50:5070")), 1u);
    EXPECT_TRUE(parsed(f.sent(0)).msg.is_request());
    EXPECT_EQ(f.p->subscriptions(), 0u);
}

/// The memory store, but one whose file is full: subscriptions cannot be kept.
struct full_disk final : registrar::location_store {
    std::unique_ptr<registrar::location_store> inner = registrar::make_memory_store();
    registrar::register_fault update(std::string_view aor, const registrar::register_request& r, const registrar::instant& now,
                                     const registrar::registrar_limits& limits, registrar::binding_list& after) override {
        return inner->update(aor, r, now, limits, after);
    }
    registrar::binding_list lookup(std::string_view aor) const override { return inner->lookup(aor); }
    std::size_t expire(const registrar::instant& now) override { return inner->expire(now); }
    bool keep_subscription(const registrar::reg_subscription&, const registrar::instant&) override { return false; }
};

TEST(reg_event, ASubscriptionThatCannotBeKeptIsAnswered503AndNotHeld) {
    fixture f;
    auto disk = std::make_unique<full_disk>();
    f.store = std::move(disk);
    shared_services services;
    services.bindings = f.store.get();
    f.p->attach(services);
    f.bind("sip:alice@198.18.0.9:5070", 600, f.ue);
    ASSERT_EQ(f.feed(subscribe(), f.ue), 1u);  // no NOTIFY
    const parsed answer(f.sent(0));
    EXPECT_EQ(answer.msg.status_code, 503);
    EXPECT_EQ(header_of(f.sent(0), sip::header_id::retry_after), "5");
    EXPECT_EQ(f.p->subscriptions(), 0u);
}

TEST(reg_event, TheSeed004SubscribeGetsTheNotifyItsSCscfSent) {
    // tests/corpus/seed/004_05_subscribe_reg.sip as the phone sent it, and what its S-CSCF answered
    // (004_07_notify_reginfo_xml.sip), header by header where they must agree.
    fixture f;
    f.config.domains = {"test.3gpp.com"};
    f.p = std::make_unique<pipeline>(f.config, 0);
    shared_services services;
    services.bindings = f.store.get();
    f.p->attach(services);
    const net_address phone = addr("10.133.202.46:50997");
    registrar::contact_request c;
    c.uri = "sip:+11234567890@10.133.202.46:50997";
    c.has_expires = true;
    c.expires_s = 600;
    registrar::register_request r;
    r.contacts = std::span<const registrar::contact_request>(&c, 1);
    r.call_id = "reg@10.133.202.46";
    r.cseq = 1;
    r.received = {sip::transport::udp, phone};
    registrar::binding_list after;
    ASSERT_EQ(f.store->update("+11234567890@test.3gpp.com", r, {f.now, 0}, f.config.registrar_limits, after),
              registrar::register_fault::none);
    const std::string seed = crlf(
        "SUBSCRIBE sip:+11234567890@test.3gpp.com SIP/2.0\n"
        "Via: SIP/2.0/UDP 10.133.202.46:50997;branch=z9hG4bK2968d27245f17c7bcae38c31991bfdaa\n"
        "Max-Forwards: 70\n"
        "Contact: <sip:+11234567890@10.133.202.46:50997>;+sip.instance=\"<urn:gsma:imei:00440113-904785-0>\"\n"
        "To: <sip:+11234567890@test.3gpp.com>\n"
        "From: <sip:+11234567890@test.3gpp.com>;tag=210a54\n"
        "Call-ID: d57a0b04-785ba328-13a4d876@10.133.202.46\n"
        "CSeq: 14534 SUBSCRIBE\n"
        "Expires: 600000\n"
        "User-Agent: IM-client/OMA1.0 DUT-IMS\n"
        "Event: reg\n"
        "Accept: application/reginfo+xml\n"
        "P-Access-Network-Info: 3GPP-E-UTRAN-FDD;utran-cell-id-3gpp=\"0010100010000000\"\n"
        "P-Preferred-Identity: <sip:+11234567890@test.3gpp.com>\n"
        "Content-Length: 0\n\n");
    ASSERT_EQ(f.feed(seed, phone), 2u);
    EXPECT_EQ(parsed(f.sent(0)).msg.status_code, 200);
    EXPECT_EQ(header_of(f.sent(0), sip::header_id::expires), "7200");  // our max_expires_s, not 600000
    const std::string text = f.sent(1);
    const parsed n(text);
    EXPECT_EQ(f.out[1].destination, phone);
    EXPECT_EQ(n.msg.request_uri_text, "sip:+11234567890@10.133.202.46:50997");
    EXPECT_EQ(n.msg.call_id, "d57a0b04-785ba328-13a4d876@10.133.202.46");
    EXPECT_EQ(n.msg.from.get()->address.text, "sip:+11234567890@test.3gpp.com");
    EXPECT_EQ(n.msg.to.get()->address.text, "sip:+11234567890@test.3gpp.com");
    EXPECT_EQ(n.msg.to.tag, "210a54");
    EXPECT_FALSE(n.msg.from.tag.empty());
    EXPECT_EQ(header_of(text, sip::header_id::event), "reg");
    EXPECT_EQ(header_of(text, sip::header_id::subscription_state), "active;expires=7200");
    EXPECT_EQ(n.msg.content_type(), "application/reginfo+xml");
    EXPECT_EQ(n.msg.content_length, n.msg.body.size());
    const std::string_view body = n.msg.body;
    EXPECT_NE(body.find("<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"0\" state=\"full\">"),
              std::string_view::npos) << body;
    EXPECT_NE(body.find("<registration aor=\"sip:+11234567890@test.3gpp.com\""), std::string_view::npos);
    EXPECT_NE(body.find("state=\"active\" event=\"registered\" expires=\"600\""), std::string_view::npos);
    EXPECT_NE(body.find("<uri>sip:+11234567890@10.133.202.46:50997</uri>"), std::string_view::npos);
}

TEST(reg_event, AcceptsReginfoUnlessAcceptExcludesIt) {
    struct row {
        const char* accept;
        bool yes;
    };
    for (const row& r : {row{"", true}, row{"Accept: application/reginfo+xml\n", true}, row{"Accept: application/*\n", true},
                         row{"Accept: */*\n", true}, row{"Accept: application/sdp, application/reginfo+xml;q=0.5\n", true},
                         row{"Accept: application/pidf+xml\n", false}}) {
        const parsed p(subscribe(std::string("Event: reg\n") + r.accept));
        EXPECT_EQ(accepts_reginfo(p.msg), r.yes) << r.accept;
    }
}

} // namespace
} // namespace sipfast::proxy
