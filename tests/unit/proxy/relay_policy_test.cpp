// SPDX-License-Identifier: Apache-2.0
// The relay policy (docs/configuration.md, [policy] and [[peer]]): with it closed, requests go on
// only for our users, from our authenticated users, within dialogs we record-routed, from or to a
// peer; never to the deny list.
#include "sipfast/proxy/stages/admit.hpp"
#include "sipfast/proxy/stages/identity.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/proxy/stages/target.hpp"
#include "sipfast/sip/parser.hpp"
#include "proxy_test_util.hpp"
#include "stages/stage_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::parsed;
using test::request_spec;
using test::request_text;

// The proxy of the other tests, with nobody trusted: 198.18.0.9 is a stranger.
struct stranger_fixture : test::pipeline_driver {
    net_address stranger = addr("198.18.0.9:5070");
    explicit stranger_fixture(proxy_mode mode = proxy_mode::stateful) : pipeline_driver(test::test_config(mode)) {
        config.policy.peers.clear();
        config.transactions_per_shard = 64;
        config.dialogs_per_shard = 64;
        start();
    }
    void start() { p = std::make_unique<pipeline>(config, 0); }
    int requests = 0;
    /// What `spec` from `from` produced: the status of our answer, or 0 when it was forwarded (to
    /// `*to` when given).
    int send(request_spec spec, net_address from, net_address* to = nullptr) {
        // A branch of its own: each is a new transaction, not a retransmission of the last.
        const std::string via = std::string(spec.via.substr(0, spec.via.find(";branch="))) + ";branch=z9hG4bKp" +
                                std::to_string(++requests) + ";rport";
        spec.via = via;
        feed_at(request_text(spec), from, &config.listen[0]);
        for (std::size_t i = 0; i < out.size(); ++i) {
            const parsed m(sent(i));
            if (m.msg.is_request()) {
                if (to != nullptr) *to = out[i].destination;
                return 0;
            }
            if (m.msg.status_code != 100) return m.msg.status_code;
        }
        return -1;  // nothing at all (an ACK)
    }
};

TEST(RelayPolicy, AStrangerCannotUseUsAsARelay) {
    for (const proxy_mode mode : {proxy_mode::stateful, proxy_mode::stateless}) {
        stranger_fixture f(mode);
        // To an address of its choosing, by Request-URI or by a Route it put first.
        EXPECT_EQ(f.send({.ruri = "sip:carol@198.18.0.40:5080"}, f.stranger), 403);
        EXPECT_EQ(f.sent().substr(0, 41), "SIP/2.0 403 Forbidden (Relaying Denied)\r\n");
        EXPECT_EQ(f.send({.ruri = "sip:bob@example.com", .extra = "Route: <sip:198.18.0.40:5080;lr>\n"}, f.stranger), 403);
        // Within a dialog it claims through our address, but without our mark.
        EXPECT_EQ(f.send({.method = "BYE", .ruri = "sip:carol@198.18.0.40:5080", .to_tag = "t1",
                          .extra = "Route: <sip:198.18.0.1:5060;lr>\n"},
                         f.stranger),
                  403);
        // An ACK is never answered, and never forwarded either.
        EXPECT_EQ(f.send({.method = "ACK", .ruri = "sip:carol@198.18.0.40:5080", .to_tag = "t1"}, f.stranger), -1);
        EXPECT_EQ(f.p->stats().dropped(drop_cause::relay_denied), 4u);
        // To a user of ours: forwarded.
        net_address to;
        EXPECT_EQ(f.send({.ruri = "sip:bob@example.com"}, f.stranger, &to), 0);
        EXPECT_EQ(to, addr("198.18.0.20:5062"));
    }
}

TEST(RelayPolicy, RequestsWithinADialogWeRecordRoutedCarryOurMark) {
    stranger_fixture f;
    // The caller's INVITE to our user is record-routed; the callee's BYE comes back with the
    // Record-Route as its Route, our mark in it, and goes to the caller's Contact.
    ASSERT_EQ(f.send({.ruri = "sip:bob@example.com", .call_id = "dialog-1@198.18.0.9"}, f.stranger), 0);
    const std::string rr(parsed(f.sent(1)).msg.find(sip::header_id::record_route)->value);
    ASSERT_NE(rr.find(";sfd="), std::string::npos) << rr;
    const net_address bob = addr("198.18.0.20:5062");
    net_address to;
    EXPECT_EQ(f.send({.method = "BYE", .ruri = "sip:alice@198.18.0.9:5070", .to_tag = "a1",
                      .extra = "Route: " + rr + "\n", .call_id = "dialog-1@198.18.0.9"},
                     bob, &to),
              0);
    EXPECT_EQ(to, addr("198.18.0.9:5070"));
    // The mark is for that Call-ID alone.
    EXPECT_EQ(f.send({.method = "BYE", .ruri = "sip:alice@198.18.0.9:5070", .to_tag = "a1",
                      .extra = "Route: " + rr + "\n", .call_id = "dialog-2@198.18.0.9"},
                     bob),
              403);
}

TEST(RelayPolicy, PeersReachWhatTheirReachAllowsAndAreReachedByAnyone) {
    stranger_fixture f;
    f.config.policy.peers.push_back({{addr("198.18.0.9"), 32}, {{addr("198.18.1.0"), 24}}});
    f.config.policy.peers.push_back({{addr("198.18.2.2"), 32}, {}});
    f.start();
    EXPECT_EQ(f.send({.ruri = "sip:carol@198.18.1.40:5080"}, f.stranger), 0);  // within its reach
    EXPECT_EQ(f.send({.ruri = "sip:carol@198.18.0.40:5080", .call_id = "c2"}, f.stranger), 403);
    // Anyone may send to a peer (a trunk, an S-CSCF): it applies its own policy.
    EXPECT_EQ(f.send({.ruri = "sip:carol@198.18.2.2:5060", .call_id = "c3"}, addr("198.18.7.7:5060")), 0);
}

TEST(RelayPolicy, NobodyReachesTheDenyList) {
    stranger_fixture f;
    f.config.policy.peers.push_back({{addr("198.18.0.9"), 32}, {}});
    f.start();
    int n = 0;
    for (const std::string_view ruri :
         {"sip:x@127.0.0.1:5060", "sip:x@[::1]:5060", "sip:x@0.0.0.0:5060", "sip:x@169.254.1.1:5060",
          "sip:x@[fe80::1]:5060", "sip:x@224.0.0.1:5060", "sip:x@[ff02::1]:5060", "sip:x@255.255.255.255:5060",
          "sip:x@198.18.0.40:0", "sip:x@[::ffff:127.0.0.1]:5060"}) {
        SCOPED_TRACE(ruri);
        const std::string call_id = "deny-" + std::to_string(n++);
        const int status = f.send({.ruri = ruri, .call_id = call_id}, f.stranger);
        // What names no address we could send to is refused before the policy: 503, else 403.
        EXPECT_TRUE(status == 403 || status == 503) << status;
        if (status == 403) {
            EXPECT_EQ(f.sent().substr(0, 49), "SIP/2.0 403 Forbidden (Destination Not Allowed)\r\n");
        }
    }
    // Loopback when the operator allows it (a proxy and its agents on one machine).
    f.config.policy.allow_loopback = true;
    f.start();
    EXPECT_EQ(f.send({.ruri = "sip:x@127.0.0.1:5070", .call_id = "lo"}, f.stranger), 0);
}

TEST(RelayPolicy, OpenForwardsForAnyoneButNeverToTheDenyList) {
    stranger_fixture f;
    f.config.policy.closed = false;
    f.start();
    EXPECT_EQ(f.send({.ruri = "sip:carol@198.18.0.40:5080"}, f.stranger), 0);
    EXPECT_EQ(f.send({.ruri = "sip:carol@255.255.255.255:5080", .call_id = "b"}, f.stranger), 403);
}

TEST(RelayPolicy, OurAuthenticatedUsersGoAnywhere) {
    // The authenticate stage has proved who sent it (its tests show how): the policy lets it out.
    proxy_config c = test::stage_config();
    c.policy.peers.clear();
    for (const bool proved : {false, true}) {
        test::stage_run r(c, request_spec{.ruri = "sip:carol@198.18.0.40:5080"});
        r.validated_and_routed();
        if (proved) r.ctx.authenticated_user = "alice";
        ASSERT_TRUE(resolve_target(r.ctx, r.locations).go_on());
        EXPECT_EQ(admit(r.ctx).status, proved ? 0 : 403);
    }
}

TEST(RelayPolicy, AForksDeniedBranchesAreLeftOut) {
    proxy_config c = test::stage_config();
    c.policy.allow_loopback = false;
    test::stage_run r(c, request_spec{});
    r.validated_and_routed();
    ASSERT_TRUE(resolve_target(r.ctx, r.locations).go_on());
    r.ctx.for_our_domain = true;
    r.ctx.destination = addr("127.0.0.1:5062");  // a binding on loopback: denied
    r.ctx.more[0] = {.new_ruri = "sip:bob@198.18.0.21:5064", .route = {}, .destination = addr("198.18.0.21:5064"),
                     .leave = r.ctx.leave};
    r.ctx.more[1] = {.new_ruri = "sip:bob@224.0.0.1", .route = {}, .destination = addr("224.0.0.1:5060"), .leave = r.ctx.leave};
    r.ctx.more_count = 2;
    ASSERT_TRUE(admit(r.ctx).go_on());
    EXPECT_EQ(r.ctx.destination, addr("198.18.0.21:5064"));
    EXPECT_EQ(r.ctx.more_count, 0u);
}

// Emergency calls (TS 24.229 §5.2.10, RFC 5031): urn:service:sos and its sub-services go to the
// configured emergency next hop from anyone, never challenged, never 416.
TEST(Emergency, AnSosCallGoesToTheEmergencyNextHopFromAStrangerUnchallenged) {
    stranger_fixture f;
    auth::nonce_source nonces{std::array<std::uint8_t, auth::nonce_source::secret_bytes>{4, 5, 6}};
    auto users = std::make_shared<auth::user_directory>();
    users->add_password("alice", "example.com", "wonder");
    f.config.auth.mode = auth_mode::all;  // every initial request from our users is challenged
    f.config.auth.users = users;
    f.config.emergency_next_hop = addr("198.18.0.50:5060");
    f.start();
    f.p->attach({nullptr, &nonces, nullptr});
    net_address to;
    for (const std::string_view urn : {"urn:service:sos", "urn:service:sos.fire", "URN:Service:SOS.police"}) {
        EXPECT_EQ(f.send({.ruri = urn}, f.stranger, &to), 0) << urn;
        EXPECT_EQ(to, addr("198.18.0.50:5060")) << urn;
        bool forwarded = false;  // with its Request-URI as the caller wrote it
        for (std::size_t i = 0; i < f.out.size(); ++i) forwarded |= f.sent(i).starts_with("INVITE " + std::string(urn) + " ");
        EXPECT_TRUE(forwarded) << urn;
    }
    // The same user calling anyone else is challenged; another service URN is still not ours to route.
    EXPECT_EQ(f.send({.ruri = "sip:bob@example.com"}, f.stranger), 407);
    EXPECT_EQ(f.send({.ruri = "urn:service:counseling"}, f.stranger), 416);
    EXPECT_EQ(f.send({.ruri = "urn:service:sosx"}, f.stranger), 416);
}

TEST(Emergency, WithoutANextHopAnSosCallIsAnswered503Not416) {
    stranger_fixture f;
    EXPECT_EQ(f.send({.ruri = "urn:service:sos"}, f.stranger), 503);
    EXPECT_EQ(f.sent().substr(0, 52), "SIP/2.0 503 Service Unavailable (No Emergency Route)");
}

// Asserted identity (RFC 3325): the [[peer]]s are the trust domain.
TEST(AssertedIdentity, OnlyThePeersAssertAndWeAssertOurAuthenticatedUsersTowardThem) {
    proxy_config c = test::stage_config();
    c.policy.peers = {{{addr("198.18.0.30"), 32}, {}}};  // the S-CSCF, say
    const std::string pai = "P-Asserted-Identity: <sip:ceo@example.com>\n";
    const auto run = [&](net_address from, std::string_view extra, std::string_view user, net_address to) {
        test::stage_run r(c, request_spec{.ruri = "sip:carol@198.18.0.40:5080", .extra = extra}, from);
        r.validated_and_routed();
        r.ctx.authenticated_user = user;
        r.ctx.destination = to;
        EXPECT_TRUE(assert_identity(r.ctx).go_on());
        return r.edited();
    };
    const net_address stranger = addr("198.18.0.9:5070"), peer = addr("198.18.0.30:5060"), elsewhere = addr("198.18.0.40:5080");
    // Anyone can write one: from outside the trust domain it is removed.
    EXPECT_EQ(run(stranger, pai, "", elsewhere).find("P-Asserted-Identity"), std::string::npos);
    EXPECT_EQ(run(stranger, pai, "", peer).find("P-Asserted-Identity"), std::string::npos);
    // A peer's stands.
    EXPECT_NE(run(peer, pai, "", elsewhere).find("P-Asserted-Identity: <sip:ceo@example.com>\r\n"), std::string::npos);
    // A peer's, toward outside the trust domain, when the user asked for privacy: removed.
    EXPECT_EQ(run(peer, pai + "Privacy: header; id\n", "", elsewhere).find("P-Asserted-Identity"), std::string::npos);
    // Our authenticated user toward a peer: asserted as the identity proved, whatever they preferred or claimed.
    const std::string asserted = run(stranger, pai + "P-Preferred-Identity: <sip:ceo@example.com>\n", "alice", peer);
    EXPECT_NE(asserted.find("P-Asserted-Identity: <sip:alice@example.com>\r\nFrom: "), std::string::npos) << asserted;
    EXPECT_EQ(asserted.find("ceo"), std::string::npos) << asserted;
    // ... and toward anyone else, nothing asserted.
    EXPECT_EQ(run(stranger, "", "alice", elsewhere).find("P-Asserted-Identity"), std::string::npos);
}

} // namespace
} // namespace sipfast::proxy
