// SPDX-License-Identifier: Apache-2.0
// The reg subscription state machine (RFC 6665 §4.2, RFC 3680) on an explicit clock: what a
// SUBSCRIBE makes of the table (created, refreshed, ended, retransmitted, refused), the NOTIFYs a
// poll asks for as the watched bindings change (full first, then partial, none while one is in
// flight), expiry, and what a NOTIFY's answer does.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "sipfast/registrar/reg_subscription.hpp"
#include "sipfast/registrar/reginfo.hpp"

namespace sipfast::registrar {
namespace {

constexpr std::uint64_t s = 1'000'000'000;
const registrar_limits limits{.min_expires_s = 60, .max_expires_s = 7200, .default_expires_s = 3600, .max_bindings = 10};

subscribe_request initial(std::uint32_t cseq = 1, bool has_expires = false, std::uint32_t expires = 0) {
    subscribe_request r;
    r.aor = "alice@example.com";
    r.identity = "sip:alice@example.com";
    r.call_id = "sub-1";
    r.from_tag = "w1";
    r.local_tag = "ours";
    r.local_uri = "<sip:alice@example.com>";
    r.remote_uri = "<sip:alice@example.com>;tag=w1";
    r.remote_target = "sip:alice@198.51.100.7:5062";
    r.cseq = cseq;
    r.has_expires = has_expires;
    r.expires_s = expires;
    return r;
}

subscribe_request in_dialog(std::uint32_t cseq, std::uint32_t expires, std::string_view to_tag = "ours") {
    subscribe_request r = initial(cseq, true, expires);
    r.to_tag = to_tag;
    return r;
}

binding make(std::string contact, std::uint64_t expires_ns, std::uint32_t cseq = 1) {
    binding b;
    b.contact = std::move(contact);
    b.expires_ns = expires_ns;
    b.cseq = cseq;
    return b;
}

using list_ptr = std::shared_ptr<const std::vector<binding>>;
list_ptr list(std::vector<binding> v) { return std::make_shared<const std::vector<binding>>(std::move(v)); }

TEST(reg_subscription, ExpiresIsGrantedWithinTheRegistrarsBounds) {
    struct row {
        bool has;
        std::uint32_t asked;
        int status;
        std::uint32_t granted;
    };
    for (const row& r : {row{false, 0, 200, default_reg_subscription_s}, row{true, 600, 200, 600},
                         row{true, 100000, 200, 7200}, row{true, 30, 423, 0}, row{true, 0, 200, 0}}) {
        subscription_table t(8);
        const subscribe_result out = t.subscribe(initial(1, r.has, r.asked), 0, limits);
        EXPECT_EQ(out.status, r.status) << r.asked;
        if (r.status == 200) {
            EXPECT_EQ(out.granted_s, r.granted) << r.asked;
        }
    }
}

TEST(reg_subscription, ADialogIsCreatedRetransmittedRefreshedAndEnded) {
    subscription_table t(8);
    subscribe_result r = t.subscribe(initial(1, true, 600), 0, limits);
    ASSERT_EQ(r.kind, subscribe_kind::created);
    ASSERT_NE(r.sub, nullptr);
    EXPECT_EQ(r.sub->expires_ns, 600 * s);
    EXPECT_EQ(t.size(), 1u);
    // The same SUBSCRIBE again (UDP): the same answer, no second subscription, no NOTIFY.
    r = t.subscribe(initial(1, true, 600), 2 * s, limits);
    EXPECT_EQ(r.kind, subscribe_kind::retransmission);
    EXPECT_EQ(t.size(), 1u);
    // A refresh in the dialog moves the expiry and asks for a full document.
    r = t.subscribe(in_dialog(2, 900), 100 * s, limits);
    ASSERT_EQ(r.kind, subscribe_kind::refreshed);
    EXPECT_EQ(r.sub->expires_ns, 1000 * s);
    EXPECT_FALSE(r.sub->synced);
    // An older CSeq is refused (RFC 3261 §12.2.2); another To tag, or another dialog, is 481.
    EXPECT_EQ(t.subscribe(in_dialog(1, 900), 101 * s, limits).status, 500);
    EXPECT_EQ(t.subscribe(in_dialog(3, 900, "theirs"), 101 * s, limits).status, 481);
    subscribe_request other = in_dialog(3, 900);
    other.call_id = "sub-2";
    EXPECT_EQ(t.subscribe(other, 101 * s, limits).status, 481);
    // Expires: 0 ends it.
    r = t.subscribe(in_dialog(4, 0), 102 * s, limits);
    EXPECT_EQ(r.kind, subscribe_kind::ended);
    const std::uint32_t slot = r.sub->slot, generation = t.generation(*r.sub);
    t.erase(*r.sub);
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.at(slot, generation), nullptr);  // a late NOTIFY answer finds nothing
    EXPECT_EQ(t.subscribe(in_dialog(5, 600), 103 * s, limits).status, 481);
}

TEST(reg_subscription, AFullTableAnswers503) {
    subscription_table t(1);
    ASSERT_EQ(t.subscribe(initial(), 0, limits).kind, subscribe_kind::created);
    subscribe_request r = initial();
    r.call_id = "sub-2";
    EXPECT_EQ(t.subscribe(r, 0, limits).status, 503);
}

TEST(reg_subscription, PollsAskForAFullThenPartialDocumentsAsBindingsChange) {
    subscription_table t(8);
    reg_subscription& sub = *t.subscribe(initial(1, true, 3600), 0, limits).sub;
    std::vector<contact_report> out;
    list_ptr hold;
    list_ptr bindings = list({make("sip:a@h", 600 * s)});

    ASSERT_EQ(subscription_table::poll(sub, bindings, 1 * s, out, hold), poll_result::full);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].event, contact_event::registered);
    // Nothing new while the NOTIFY is out, nor after its 200 while the bindings stay.
    sub.notify_in_flight = true;
    bindings = list({make("sip:a@h", 600 * s), make("sip:b@h", 700 * s)});
    EXPECT_EQ(subscription_table::poll(sub, bindings, 2 * s, out, hold), poll_result::nothing);
    EXPECT_FALSE(subscription_table::answered(sub, 200));
    EXPECT_FALSE(sub.notify_in_flight);
    // A second contact registered meanwhile: a partial document with it alone.
    ASSERT_EQ(subscription_table::poll(sub, bindings, 3 * s, out, hold), poll_result::partial);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].b->contact, "sip:b@h");
    EXPECT_EQ(out[0].event, contact_event::registered);
    EXPECT_EQ(subscription_table::poll(sub, bindings, 4 * s, out, hold), poll_result::nothing);
    // The first one refreshed by a REGISTER on another shard: the list is a new one.
    bindings = list({make("sip:a@h", 1200 * s, 2), make("sip:b@h", 700 * s)});
    ASSERT_EQ(subscription_table::poll(sub, bindings, 5 * s, out, hold), poll_result::partial);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].event, contact_event::refreshed);
    // The same list, but b's expiry has come: expired, though no sweep has replaced the list yet.
    EXPECT_EQ(subscription_table::poll(sub, bindings, 699 * s, out, hold), poll_result::nothing);
    ASSERT_EQ(subscription_table::poll(sub, bindings, 700 * s, out, hold), poll_result::partial);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].b->contact, "sip:b@h");
    EXPECT_EQ(out[0].event, contact_event::expired);
    EXPECT_FALSE(out[0].active);
    // The sweep then takes b out: told already, nothing new.
    bindings = list({make("sip:a@h", 1200 * s, 2)});
    EXPECT_EQ(subscription_table::poll(sub, bindings, 701 * s, out, hold), poll_result::nothing);
    // a unregistered (Expires: 0): the list goes, and what is reported views into the held one.
    ASSERT_EQ(subscription_table::poll(sub, nullptr, 702 * s, out, hold), poll_result::partial);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].event, contact_event::unregistered);
    ASSERT_TRUE(hold);
    EXPECT_EQ(out[0].b, &(*hold)[0]);
    // The subscription's own time is up: expired, even with a NOTIFY in flight.
    sub.notify_in_flight = true;
    EXPECT_EQ(subscription_table::poll(sub, nullptr, 3600 * s, out, hold), poll_result::expired);
}

TEST(reg_subscription, ARefreshOrARestartSendsTheFullStateAgain) {
    subscription_table t(8);
    reg_subscription* sub = t.subscribe(initial(1, true, 3600), 0, limits).sub;
    std::vector<contact_report> out;
    list_ptr hold;
    const list_ptr bindings = list({make("sip:a@h", 600 * s)});
    ASSERT_EQ(subscription_table::poll(*sub, bindings, s, out, hold), poll_result::full);
    EXPECT_EQ(subscription_table::poll(*sub, bindings, 2 * s, out, hold), poll_result::nothing);
    sub = t.subscribe(in_dialog(2, 3600), 3 * s, limits).sub;
    EXPECT_EQ(subscription_table::poll(*sub, bindings, 3 * s, out, hold), poll_result::full);

    reg_subscription kept = *sub;  // as a store gives it back after a restart
    subscription_table after(8);
    reg_subscription* back = after.restore(std::move(kept));
    ASSERT_NE(back, nullptr);
    EXPECT_EQ(after.find("sub-1", "w1"), back);
    EXPECT_EQ(subscription_table::poll(*back, bindings, 4 * s, out, hold), poll_result::full);
}

TEST(reg_subscription, AFailedNotifyEndsTheSubscription) {
    for (const int status : {481, 408, 500, 403}) {
        reg_subscription sub;
        sub.notify_in_flight = true;
        EXPECT_TRUE(subscription_table::answered(sub, status)) << status;
    }
    reg_subscription sub;
    sub.notify_in_flight = true;
    EXPECT_FALSE(subscription_table::answered(sub, 100));
    EXPECT_TRUE(sub.notify_in_flight);
    EXPECT_FALSE(subscription_table::answered(sub, 202));
}

} // namespace
} // namespace sipfast::registrar
