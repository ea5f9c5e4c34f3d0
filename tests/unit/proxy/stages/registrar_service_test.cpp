// SPDX-License-Identifier: Apache-2.0
// The registrar as a stage: a REGISTER for a domain we serve is answered by us and its bindings
// are what target resolution then finds (RFC 3261 §10.3, §16.5), on an explicit clock.
#include "sipfast/proxy/stages/registrar_service.hpp"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <string>

#include "sipfast/proxy/stages/identity.hpp"
#include "sipfast/registrar/aliases.hpp"
#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::request_spec;
using test::stage_config;
using test::stage_run;

constexpr std::uint64_t s = 1'000'000'000;

struct registrar_fixture : ::testing::Test {
    std::unique_ptr<registrar::location_store> store = registrar::make_memory_store();
    std::array<char, 8192> room{};
    proxy_config config = stage_config();

    registrar_fixture() { config.serve_registrations = true; }

    registrar_host host(std::uint64_t now_ns) {
        return {store.get(), &config.registrar_limits, {now_ns, std::int64_t{1'700'000'000} * std::int64_t{s}}, room};
    }
    /// Runs a REGISTER through validate, local routing and the registrar.
    verdict do_register(stage_run& r, std::uint64_t now_ns) {
        r.validated_and_routed();
        return serve_register(r.ctx, host(now_ns));
    }
    verdict do_register(const request_spec& spec, std::uint64_t now_ns, core::net_address from = addr("198.18.0.30:5080"),
                        std::size_t arrived_at = 0, proxy_config c = {}) {
        stage_run r(c.listen.empty() ? config : c, spec, from, arrived_at);
        const verdict v = do_register(r, now_ns);
        extra = std::string(v.extra);
        return v;
    }
    /// An INVITE for bob@example.com resolved with the bindings at now_ns.
    verdict invite(stage_run& r, std::uint64_t now_ns) {
        r.validated_and_routed();
        return resolve_target(r.ctx, r.locations, store.get(), now_ns);
    }
    std::string extra;
};

request_spec register_bob(std::string_view contact, std::string_view extra = "",
                          std::string_view call_id = "reg-1@198.18.0.30") {
    return {.method = "REGISTER", .ruri = "sip:example.com", .extra = extra, .call_id = call_id, .contact = contact};
}

TEST_F(registrar_fixture, ARegisterIsAnsweredWithItsBindingsAndTheyRouteTheNextInvite) {
    const verdict v = do_register(register_bob("<sip:bob@198.18.0.30:5080>;expires=120"), 10 * s);
    ASSERT_EQ(v.status, 200) << v.reason;
    EXPECT_NE(extra.find("Contact: <sip:bob@198.18.0.30:5080>;expires=120\r\n"), std::string::npos) << extra;
    EXPECT_NE(extra.find("Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"), std::string::npos) << extra;

    // The binding wins over the configuration's [[location]] for bob (198.18.0.20:5062).
    stage_run call(config, request_spec{}, addr("198.18.0.9:5070"));
    ASSERT_TRUE(invite(call, 20 * s).go_on());
    EXPECT_EQ(test::str(call.ctx.destination), "198.18.0.30:5080");
    EXPECT_EQ(call.ctx.new_ruri, "sip:bob@198.18.0.30:5080");
    EXPECT_EQ(call.ctx.transport, sip::transport::udp);
}

TEST_F(registrar_fixture, ALapsedBindingIs480AndAnUnregisteredUserFallsThrough) {
    ASSERT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080>;expires=60"), 0).status, 200);
    stage_run at_expiry(config, request_spec{}, addr("198.18.0.9:5070"));
    const verdict v = invite(at_expiry, 60 * s);
    EXPECT_EQ(v.status, 480);
    stage_run before(config, request_spec{}, addr("198.18.0.9:5070"));
    EXPECT_TRUE(invite(before, 60 * s - 1).go_on());
    // carol never registered: the static location service and the routes decide (404 here).
    stage_run carol(config, request_spec{.ruri = "sip:carol@example.com"}, addr("198.18.0.9:5070"));
    EXPECT_EQ(invite(carol, 0).status, 404);
}

TEST_F(registrar_fixture, UnregisteringRemovesTheBinding) {
    ASSERT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080>"), 0).status, 200);
    // Every CSeq here is 1: the "*" comes from another Call-ID (the same one would not be newer).
    const verdict v = do_register(register_bob("*", "Expires: 0\n", "reg-2@198.18.0.30"), 1 * s);
    ASSERT_EQ(v.status, 200) << v.reason;
    EXPECT_EQ(extra.find("Contact:"), std::string::npos) << extra;
    stage_run call(config, request_spec{}, addr("198.18.0.9:5070"));
    // No bindings left: back to the static location (bob at 198.18.0.20:5062).
    ASSERT_TRUE(invite(call, 2 * s).go_on());
    EXPECT_EQ(test::str(call.ctx.destination), "198.18.0.20:5062");
}

TEST_F(registrar_fixture, TooBriefIs423WithMinExpires) {
    const verdict v = do_register(register_bob("<sip:bob@198.18.0.30:5080>;expires=10"), 0);
    EXPECT_EQ(v.status, 423);
    EXPECT_EQ(extra, "Min-Expires: 60\r\n");
}

TEST_F(registrar_fixture, AnAddressOfRecordOutsideOurDomainsIs404) {
    std::string text = test::request_text(register_bob("<sip:bob@198.18.0.30:5080>"));
    text.replace(text.find("To: Bob <sip:bob@example.com>"), 29, "To: <sip:bob@elsewhere.example.org>");
    stage_run r(config, text, addr("198.18.0.30:5080"));
    EXPECT_EQ(do_register(r, 0).status, 404);
}

// The parser leaves To's address to its first reader: the registrar answers for it.
TEST_F(registrar_fixture, AMalformedToIs400NamingIt) {
    std::string text = test::request_text(register_bob("<sip:bob@198.18.0.30:5080>"));
    text.replace(text.find("To: Bob <sip:bob@example.com>"), 29, "To: Bob <sip:bob@>");
    stage_run r(config, text, addr("198.18.0.30:5080"));
    const verdict v = do_register(r, 0);
    EXPECT_EQ(v.status, 400);
    EXPECT_EQ(v.reason, "Invalid To header: malformed host");
    EXPECT_FALSE(store->lookup("sip:bob@example.com"));
}

TEST_F(registrar_fixture, ARegisterForAnotherDomainOrWithoutAStoreGoesOn) {
    EXPECT_TRUE(do_register(request_spec{.method = "REGISTER", .ruri = "sip:elsewhere.example.org"}, 0).go_on());
    stage_run r(config, register_bob("<sip:bob@198.18.0.30:5080>"), addr("198.18.0.30:5080"));
    r.validated_and_routed();
    EXPECT_TRUE(serve_register(r.ctx, {nullptr, &config.registrar_limits, {}, room}).go_on());
}

TEST_F(registrar_fixture, TheContactsParametersComeBackWithTheExpiresGranted) {
    // As an IMS phone registers (the seed's REGISTER): feature tags and +sip.instance.
    const verdict v = do_register(register_bob("<sip:bob@198.18.0.30:5080>;+sip.instance=\"<urn:gsma:imei:86130905-267370-0>\";"
                                               "expires=600;audio;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\""),
                                  0);
    ASSERT_EQ(v.status, 200);
    EXPECT_NE(extra.find("Contact: <sip:bob@198.18.0.30:5080>;expires=600;+sip.instance=\"<urn:gsma:imei:86130905-267370-0>\";"
                         "audio;+g.3gpp.icsi-ref=\"urn%3Aurn-7%3A3gpp-service.ims.icsi.mmtel\"\r\n"),
              std::string::npos)
        << extra;
}

TEST_F(registrar_fixture, ARequiredExtensionWeDoNotDoIs420) {
    const verdict v = do_register(register_bob("<sip:bob@198.18.0.30:5080>", "Require: path, gruu\n"), 0);
    EXPECT_EQ(v.status, 420);
    EXPECT_EQ(extra, "Unsupported: gruu\r\n");
    // sec-agree is ours to accept (stages/sec_agree.hpp), by default.
    EXPECT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080>", "Require: sec-agree\n"), 0).status, 200);
    EXPECT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080>", "Require: path\n"), 0).status, 200);
}

TEST_F(registrar_fixture, AliasesReachTheBindingsAndAreListedInPAssociatedUri) {
    // The seed's IMS phone: registered as its IMSI identity, reachable as 1012 and tel:1012.
    auto aliases = std::make_shared<registrar::alias_map>();
    ASSERT_EQ(aliases->add("sip:001010123456712@example.com", {"sip:1012@example.com", "tel:1012"}), "");
    config.aliases = aliases;
    std::string text = test::request_text(register_bob("<sip:001010123456712@198.18.0.30:5080>"));
    text.replace(text.find("To: Bob <sip:bob@example.com>"), 29, "To: <sip:001010123456712@example.com>");
    stage_run r(config, text, addr("198.18.0.30:5080"));
    const verdict v = do_register(r, 0);
    ASSERT_EQ(v.status, 200);
    EXPECT_NE(std::string(v.extra).find("P-Associated-URI: <sip:1012@example.com>, <tel:1012>\r\n"), std::string::npos)
        << v.extra;
    for (std::string_view ruri : {"sip:1012@example.com", "tel:1012;phone-context=example.com", "tel:10-12",
                                  "sip:1012@example.com;user=phone"}) {
        stage_run call(config, request_spec{.ruri = ruri}, addr("198.18.0.9:5070"));
        ASSERT_TRUE(invite(call, s).go_on()) << ruri;
        EXPECT_EQ(test::str(call.ctx.destination), "198.18.0.30:5080") << ruri;
        EXPECT_EQ(call.ctx.new_ruri, "sip:001010123456712@198.18.0.30:5080") << ruri;
    }
    EXPECT_NE(aliases->add("sip:other@example.com", {"tel:1012"}), "");  // one identity, one owner
}

TEST_F(registrar_fixture, ServiceRouteIsReturnedWhenConfigured) {
    EXPECT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080>"), 0).status, 200);
    EXPECT_EQ(extra.find("Service-Route"), std::string::npos);
    config.service_route = {"<sip:orig@scscf.example.net;lr>", "<sip:home.example.net;lr>"};
    EXPECT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080>", "", "reg-2@198.18.0.30"), 0).status, 200);
    EXPECT_NE(extra.find("Service-Route: <sip:orig@scscf.example.net;lr>, <sip:home.example.net;lr>\r\n"), std::string::npos)
        << extra;
}

TEST_F(registrar_fixture, PathIsEchoed) {
    const verdict v = do_register(register_bob("<sip:bob@198.18.0.30:5080>", "Path: <sip:edge.example.net;lr>\n"), 0);
    ASSERT_EQ(v.status, 200);
    EXPECT_NE(extra.find("Path: <sip:edge.example.net;lr>\r\n"), std::string::npos) << extra;
}

TEST_F(registrar_fixture, BehindANatTheRequestGoesWhereTheRegisterCameFrom) {
    // A private contact seen from a public address: the contact is unreachable, the source is not.
    ASSERT_EQ(do_register(register_bob("<sip:bob@10.0.0.5:5060>"), 0, addr("198.18.0.77:40000")).status, 200);
    stage_run call(config, request_spec{}, addr("198.18.0.9:5070"));
    ASSERT_TRUE(invite(call, s).go_on());
    EXPECT_EQ(test::str(call.ctx.destination), "198.18.0.77:40000");
    EXPECT_EQ(call.ctx.new_ruri, "sip:bob@10.0.0.5:5060");  // the Request-URI is still the contact
}

TEST_F(registrar_fixture, ABindingMadeOverTcpIsReachedOverThatConnection) {
    const proxy_config tcp = test::with_tcp(config);
    ASSERT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080;transport=tcp>"), 0, addr("198.18.0.30:41000"), 1, tcp).status,
              200);
    stage_run call(tcp, request_spec{}, addr("198.18.0.9:5070"));
    ASSERT_TRUE(invite(call, s).go_on());
    EXPECT_EQ(test::str(call.ctx.destination), "198.18.0.30:41000");
    EXPECT_EQ(call.ctx.transport, sip::transport::tcp);
}

// TS 24.229 §5.2.6.3.3: a phone that registered here is asserted toward the trust domain for the
// identities of its registration, when its request comes from where it registered.
TEST_F(registrar_fixture, ARegisteredPhoneIsAssertedTowardAPeerFromWhereItRegistered) {
    constexpr std::size_t npos = std::string::npos;
    config.policy.peers = {{{addr("198.18.0.50"), 32}, {}}};  // the S-CSCF
    auto aliases = std::make_shared<registrar::alias_map>();
    ASSERT_EQ(aliases->add("sip:bob@example.com", {"tel:+15551234", "sip:bob.smith@example.com"}), "");
    config.aliases = aliases;
    ASSERT_EQ(do_register(register_bob("<sip:bob@198.18.0.30:5080>;expires=60"), s).status, 200);
    const auto call = [&](core::net_address from, std::string_view lines, std::uint64_t now_ns = 2 * s) {
        std::string text = test::request_text(request_spec{.ruri = "sip:carol@198.18.0.50", .extra = lines});
        text.replace(text.find("From: Alice <sip:alice@example.com>"), 35, "From: Bob <sip:bob@example.com>");
        stage_run r(config, text, from);
        r.validated_and_routed();
        r.ctx.destination = addr("198.18.0.50:5060");
        EXPECT_TRUE(assert_identity(r.ctx, store.get(), now_ns).go_on());
        return r.edited();
    };
    const core::net_address bobs_phone = addr("198.18.0.30:5080");
    // From where bob registered: his From identity asserted; one he wrote himself is gone.
    const std::string plain = call(bobs_phone, "P-Asserted-Identity: <sip:ceo@example.com>\n");
    EXPECT_NE(plain.find("P-Asserted-Identity: <sip:bob@example.com>\r\nFrom: "), npos) << plain;
    EXPECT_EQ(plain.find("ceo"), npos) << plain;
    // His preferred identity, one of his registration's: asserted as preferred, and not passed on.
    const std::string preferred = call(bobs_phone, "P-Preferred-Identity: <tel:+15551234>\n");
    EXPECT_NE(preferred.find("P-Asserted-Identity: <tel:+15551234>\r\n"), npos) << preferred;
    EXPECT_EQ(preferred.find("P-Preferred-Identity"), npos) << preferred;
    // A preferred identity not his: his From's instead.
    const std::string other = call(bobs_phone, "P-Preferred-Identity: <sip:alice@example.com>\n");
    EXPECT_NE(other.find("P-Asserted-Identity: <sip:bob@example.com>\r\n"), npos) << other;
    EXPECT_EQ(other.find("alice@example.com>\r\nFrom"), npos) << other;
    // From another port (another phone behind the same address, or a spoofer), or once his
    // binding has lapsed: nothing asserted.
    EXPECT_EQ(call(addr("198.18.0.30:5081"), "").find("P-Asserted-Identity"), npos);
    EXPECT_EQ(call(bobs_phone, "", 62 * s).find("P-Asserted-Identity"), npos);
}

} // namespace
} // namespace sipfast::proxy
