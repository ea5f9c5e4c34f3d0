// SPDX-License-Identifier: Apache-2.0
// Digest authentication as a stage (RFC 3261 §22, RFC 7616): challenges, a correct answer, and
// every way an answer is refused, on an explicit clock.
#include "sipfast/proxy/stages/authenticate.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>

#include "sipfast/auth/aka.hpp"
#include "sipfast/auth/digest.hpp"
#include "stage_test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::request_spec;
using test::stage_run;

constexpr std::uint64_t s = 1'000'000'000;

struct auth_fixture : ::testing::Test {
    proxy_config config = test::stage_config();
    auth::nonce_source nonces{std::array<std::uint8_t, auth::nonce_source::secret_bytes>{1, 2, 3}};
    auth::nonce_counts counts{300 * s};
    std::array<char, 1024> room{};

    auth_fixture() {
        config.serve_registrations = true;
        config.auth.mode = auth_mode::registrations;
        auto users = std::make_shared<auth::user_directory>();
        users->add_password("bob", "example.com", "secret");
        users->add_password("alice", "example.com", "wonder");
        config.auth.users = users;
    }

    verdict run(stage_run& r, std::uint64_t now_ns) {
        r.validated_and_routed();
        return authenticate(r.ctx, {&nonces, &counts, now_ns, room});
    }
    /// The nonce of a challenge.
    static std::string nonce_of(std::string_view extra) {
        std::smatch m;
        const std::string e(extra);
        EXPECT_TRUE(std::regex_search(e, m, std::regex("nonce=\"([0-9a-f]+)\""))) << e;
        return m.size() > 1 ? m[1].str() : std::string();
    }
    /// An Authorization (or Proxy-Authorization) line answering `nonce` as `user` with `password`.
    static std::string answer(std::string_view header, std::string_view user, std::string_view password,
                              std::string_view nonce, std::string_view uri, std::string_view method,
                              auth::algorithm alg = auth::algorithm::md5, std::string_view nc = "00000001") {
        auth::credentials c;
        c.username = user;
        c.realm = "example.com";
        c.nonce = nonce;
        c.uri = uri;
        c.cnonce = "c0ffee";
        c.qop = "auth";
        c.nc = nc;
        c.alg = alg;
        const auth::hex_digest h = auth::ha1(alg, user, "example.com", password);
        const auth::hex_digest r = auth::response_for(c, h.view(), method);
        return std::string(header) + ": Digest username=\"" + std::string(user) + "\", realm=\"example.com\", nonce=\"" +
               std::string(nonce) + "\", uri=\"" + std::string(uri) + "\", response=\"" + std::string(r.view()) +
               "\", algorithm=" + std::string(auth::algorithm_name(alg)) + ", cnonce=\"c0ffee\", qop=auth, nc=" +
               std::string(nc) + "\n";
    }
    request_spec reg(std::string_view extra = "") const {
        return {.method = "REGISTER", .ruri = "sip:example.com", .extra = extra, .contact = "<sip:bob@198.18.0.30:5080>"};
    }
    std::string challenge_nonce(std::uint64_t now_ns) {
        stage_run first(config, reg());
        const verdict v = run(first, now_ns);
        EXPECT_EQ(v.status, 401);
        return nonce_of(v.extra);
    }
};

TEST_F(auth_fixture, ARegisterWithoutCredentialsIsChallengedWithBothAlgorithms) {
    stage_run r(config, reg());
    const verdict v = run(r, 0);
    ASSERT_EQ(v.status, 401);
    EXPECT_EQ(v.reason, "Unauthorized");
    const std::string e(v.extra);
    // SHA-256 first (every user here has a password, so both can be answered).
    const std::size_t sha = e.find("WWW-Authenticate: Digest realm=\"example.com\", nonce=\"");
    ASSERT_NE(sha, std::string::npos) << e;
    EXPECT_NE(e.find("algorithm=SHA-256, qop=\"auth\"\r\n"), std::string::npos) << e;
    EXPECT_LT(e.find("algorithm=SHA-256"), e.find("algorithm=MD5")) << e;
    EXPECT_EQ(e.find("stale"), std::string::npos);
}

TEST_F(auth_fixture, AlgorithmsOfferedAreTheConfiguredOnesInTheirOrder) {
    // Phones that stop at the first challenge they cannot answer (Debian 12's baresip does so at
    // SHA-256) get MD5 alone when the operator says so; an answer in another algorithm is challenged.
    config.auth.algorithms = {auth::algorithm::md5};
    stage_run r(config, reg());
    const verdict v = run(r, s);
    ASSERT_EQ(v.status, 401);
    const std::string e(v.extra);
    EXPECT_NE(e.find("algorithm=MD5"), std::string::npos) << e;
    EXPECT_EQ(e.find("SHA-256"), std::string::npos) << e;
    const std::string nonce = nonce_of(v.extra);
    stage_run sha(config, reg(answer("Authorization", "bob", "secret", nonce, "sip:example.com", "REGISTER",
                                     auth::algorithm::sha256)));
    EXPECT_EQ(run(sha, 2 * s).status, 401);
    stage_run md5(config, reg(answer("Authorization", "bob", "secret", nonce, "sip:example.com", "REGISTER")));
    EXPECT_TRUE(run(md5, 3 * s).go_on());
    // MD5 preferred over SHA-256: listed first.
    config.auth.algorithms = {auth::algorithm::md5, auth::algorithm::sha256};
    stage_run both(config, reg());
    const std::string b(run(both, 4 * s).extra);
    EXPECT_LT(b.find("algorithm=MD5"), b.find("algorithm=SHA-256")) << b;
}

TEST_F(auth_fixture, TheRightAnswerPassesOnceAndIsTakenOff) {
    std::uint64_t t = 0;  // the clock only goes forward
    for (const auth::algorithm alg : {auth::algorithm::md5, auth::algorithm::sha256}) {
        const std::string nonce = challenge_nonce(t += s);
        const std::string line = answer("Authorization", "bob", "secret", nonce, "sip:example.com", "REGISTER", alg);
        stage_run ok(config, reg(line));
        const verdict v = run(ok, t += s);
        ASSERT_TRUE(v.go_on()) << v.status << " " << v.reason << " " << v.extra;
        EXPECT_EQ(ok.ctx.authenticated_user, "bob");
        EXPECT_NE(ok.ctx.auth_info.find("Authentication-Info: qop=auth, rspauth=\""), std::string_view::npos);
        EXPECT_EQ(ok.edited().find("Authorization:"), std::string::npos);  // our realm's credentials go no further
        // The same request again (the same nonce-count): a replay, answered with a new nonce.
        stage_run replay(config, reg(line));
        const verdict again = run(replay, t += s);
        EXPECT_EQ(again.status, 401);
        EXPECT_NE(std::string(again.extra).find("stale=true"), std::string::npos);
        // The next count of the same nonce is fine.
        stage_run next(config, reg(answer("Authorization", "bob", "secret", nonce, "sip:example.com", "REGISTER", alg,
                                          "00000002")));
        EXPECT_TRUE(run(next, t += s).go_on());
    }
}

TEST_F(auth_fixture, AWrongPasswordAndAnUnknownUserGetTheSameChallenge) {
    const std::string nonce = challenge_nonce(0);
    stage_run wrong(config, reg(answer("Authorization", "bob", "guess", nonce, "sip:example.com", "REGISTER")));
    const verdict w = run(wrong, s);
    stage_run unknown(config, reg(answer("Authorization", "mallory", "guess", nonce, "sip:example.com", "REGISTER")));
    const verdict u = run(unknown, s);
    EXPECT_EQ(w.status, 401);
    EXPECT_EQ(u.status, 401);
    EXPECT_EQ(std::string(w.extra), std::string(u.extra));  // nothing tells them apart
    EXPECT_EQ(std::string(w.extra).find("stale"), std::string::npos);
}

TEST_F(auth_fixture, AnOldNonceIsStaleAndAForeignOneIsNotOurs) {
    const std::string nonce = challenge_nonce(0);
    stage_run old(config, reg(answer("Authorization", "bob", "secret", nonce, "sip:example.com", "REGISTER")));
    const verdict v = run(old, 301 * s);
    EXPECT_EQ(v.status, 401);
    EXPECT_NE(std::string(v.extra).find("stale=true"), std::string::npos);
    auth::nonce_source other;
    std::array<char, 64> buf{};
    core::text_writer w(buf);
    other.make(0, "example.com", w);
    stage_run foreign(config, reg(answer("Authorization", "bob", "secret", w.view(), "sip:example.com", "REGISTER")));
    const verdict f = run(foreign, s);
    EXPECT_EQ(f.status, 401);
    EXPECT_EQ(std::string(f.extra).find("stale"), std::string::npos);
}

TEST_F(auth_fixture, ProvingToBeAliceDoesNotRegisterBob) {
    const std::string nonce = challenge_nonce(0);
    stage_run r(config, reg(answer("Authorization", "alice", "wonder", nonce, "sip:example.com", "REGISTER")));
    EXPECT_EQ(run(r, s).status, 403);
}

TEST_F(auth_fixture, TrustedPeersAndOtherRequestsAreNotChallenged) {
    config.auth.trusted.push_back({addr("198.18.0.0:1"), 24});
    stage_run trusted(config, reg(), addr("198.18.0.9:5070"));
    EXPECT_TRUE(run(trusted, 0).go_on());
    config.auth.trusted.clear();
    stage_run invite(config, request_spec{}, addr("198.18.0.9:5070"));  // mode registrations: calls pass
    EXPECT_TRUE(run(invite, 0).go_on());
    config.auth.mode = auth_mode::none;
    stage_run off(config, reg());
    EXPECT_TRUE(run(off, 0).go_on());
}

// Whom an INVITE must prove to be is its From: one that does not decode is refused, not let by.
TEST_F(auth_fixture, ModeAllRefusesAFromItCannotRead) {
    config.auth.mode = auth_mode::all;
    std::string text = test::request_text(request_spec{});
    const std::size_t at = text.find("From: ");
    const std::size_t end = text.find('\n', at);
    text.replace(at, end - at, "From: Alice <sip:alice@exa mple.com>;tag=a1\r");
    stage_run invite(config, text, test::addr("198.18.0.9:5070"));
    const verdict v = run(invite, 0);
    EXPECT_EQ(v.status, 400);
    EXPECT_EQ(v.reason.substr(0, 21), "Invalid From header: ");
}

TEST_F(auth_fixture, ModeAllChallengesOurUsersInitialRequestsWith407) {
    config.auth.mode = auth_mode::all;
    stage_run invite(config, request_spec{});
    const verdict v = run(invite, 0);
    ASSERT_EQ(v.status, 407);
    EXPECT_NE(std::string(v.extra).find("Proxy-Authenticate: Digest realm=\"example.com\""), std::string::npos);
    const std::string nonce = nonce_of(v.extra);
    stage_run answered(config, request_spec{.extra = answer("Proxy-Authorization", "alice", "wonder", nonce,
                                                            "sip:bob@example.com", "INVITE")});
    EXPECT_TRUE(run(answered, s).go_on());
    EXPECT_EQ(answered.ctx.authenticated_user, "alice");
    // Within a dialog, ACK and CANCEL, and from users of other domains: not challenged.
    stage_run in_dialog(config, request_spec{.method = "BYE", .to_tag = "b1"});
    EXPECT_TRUE(run(in_dialog, 0).go_on());
    stage_run ack(config, request_spec{.method = "ACK"});
    EXPECT_TRUE(run(ack, 0).go_on());
    std::string foreign = test::request_text(request_spec{});
    foreign.replace(foreign.find("<sip:alice@example.com>"), 23, "<sip:alice@example.org>");
    stage_run from_elsewhere(config, foreign, addr("198.18.0.9:5070"));
    EXPECT_TRUE(run(from_elsewhere, 0).go_on());
}

// IMS AKA (RFC 3310, TS 33.203 §6.1): a subscriber's REGISTER is challenged with a vector of its
// own, answered as its USIM would (RES = f2(RAND) as the password), resynchronised with AUTS.
// TS 35.208 test set 1's K and OPc.
constexpr auth::block test_k{0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc};
constexpr auth::block test_opc{0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
constexpr std::string_view impi = "bob-private@example.com";

struct aka_fixture : auth_fixture {
    std::shared_ptr<auth::subscriber_directory> subscribers = std::make_shared<auth::subscriber_directory>();
    auth::milenage usim{test_k, test_opc};
    std::string last_nonce;

    aka_fixture() {
        EXPECT_EQ(subscribers->add(impi, {"bob@example.com"}, test_k, test_opc, {0x80, 0x00}, 100), "");
        config.auth.subscribers = subscribers;
    }
    const auth::subscriber& bob() const { return *subscribers->by_impi(impi); }

    static std::string aka_nonce_of(std::string_view extra) {
        std::smatch m;
        const std::string e(extra);
        EXPECT_TRUE(std::regex_search(e, m, std::regex("nonce=\"([^\"]+)\", algorithm=AKAv1-MD5"))) << e;
        return m.size() > 1 ? m[1].str() : std::string();
    }
    /// The phone's first REGISTER: its private identity, no answer yet (TS 24.229 §5.1.1.2.1).
    request_spec initial() const {
        static const std::string line = "Authorization: Digest username=\"" + std::string(impi) +
                                        "\", realm=\"example.com\", uri=\"sip:example.com\", nonce=\"\", response=\"\"\n";
        return reg(line);
    }
    /// Challenges and returns the SQN the USIM reads from the AUTN (after checking its MAC-A).
    std::uint64_t challenged(std::uint64_t now_ns, const request_spec& r) {
        stage_run first(config, r);
        const verdict v = run(first, now_ns);
        EXPECT_EQ(v.status, 401) << v.reason;
        last_nonce = aka_nonce_of(v.extra);
        auth::aka_nonce_parts parts;
        EXPECT_EQ(auth::parse_aka_nonce(last_nonce, parts), auth::aka_error::none);
        auth::sqn_bytes sqn{};
        auth::amf_bytes amf{};
        EXPECT_EQ(auth::open_autn(usim, parts.rand, parts.autn, sqn, amf), auth::aka_error::none);
        return auth::sqn_value(sqn);
    }
    /// The USIM's answer to `nonce`: the digest with RES, or (with `auts`) a resynchronisation.
    std::string aka_answer(std::string_view nonce, std::string_view nc = "00000001", std::string_view auts = {},
                           std::string_view user = impi) const {
        auth::aka_nonce_parts parts;
        EXPECT_EQ(auth::parse_aka_nonce(nonce, parts), auth::aka_error::none);
        auth::credentials c;
        c.username = user;
        c.realm = "example.com";
        c.nonce = nonce;
        c.uri = "sip:example.com";
        c.cnonce = "c0ffee";
        c.qop = "auth";
        c.nc = nc;
        c.alg = auth::algorithm::md5;
        const auth::hex_digest h = auth::aka_ha1(user, "example.com", *usim.f2(parts.rand));
        const auth::hex_digest r = auth::response_for(c, h.view(), "REGISTER");
        return "Authorization: Digest username=\"" + std::string(user) + "\", realm=\"example.com\", nonce=\"" +
               std::string(nonce) + "\", uri=\"sip:example.com\", response=\"" + std::string(r.view()) +
               "\", algorithm=AKAv1-MD5, cnonce=\"c0ffee\", qop=auth, nc=" + std::string(nc) +
               (auts.empty() ? "" : ", auts=\"" + std::string(auts) + "\"") + "\n";
    }
};

TEST_F(aka_fixture, ASubscriberIsChallengedWithAVectorOfItsOwn) {
    // SEQ 100 issued before: the next SQN has SEQ 101 (and IND 0), 101 * 32 as an integer.
    EXPECT_EQ(challenged(0, initial()), 101u * 32);
    // Found by its public identity too, without credentials; each challenge takes the next SEQ.
    EXPECT_EQ(challenged(s, reg()), 102u * 32);
    stage_run r(config, initial());
    const std::string e(run(r, 2 * s).extra);
    EXPECT_NE(e.find("WWW-Authenticate: Digest realm=\"example.com\", nonce=\""), std::string::npos) << e;
    EXPECT_NE(e.find("algorithm=AKAv1-MD5, qop=\"auth\"\r\n"), std::string::npos) << e;
    // CK and IK are the edge's (TS 33.203 §7.4): never sent toward the phone.
    EXPECT_EQ(e.find("ck="), std::string::npos) << e;
    EXPECT_EQ(e.find("ik="), std::string::npos) << e;
    EXPECT_EQ(e.find("SHA-256"), std::string::npos) << e;  // no password digest offered beside it
}

TEST_F(aka_fixture, TheUsimsAnswerPassesOnceAndIsTakenOff) {
    (void)challenged(0, initial());
    stage_run ok(config, reg(aka_answer(last_nonce)));
    ASSERT_TRUE(run(ok, s).go_on());
    EXPECT_EQ(ok.ctx.authenticated_user, impi);
    EXPECT_EQ(ok.edited().find("Authorization"), std::string::npos);
    EXPECT_NE(std::string(ok.ctx.auth_info).find("Authentication-Info: qop=auth, rspauth=\""), std::string::npos);
    // The same answer again is a replay: a fresh challenge, stale so the phone asks no one.
    stage_run replay(config, reg(aka_answer(last_nonce)));
    const verdict v = run(replay, 2 * s);
    EXPECT_EQ(v.status, 401);
    EXPECT_NE(std::string(v.extra).find("stale=true"), std::string::npos);
    // The next count of the same nonce is fine (RFC 7616 §3.4.5).
    stage_run next(config, reg(aka_answer(last_nonce, "00000002")));
    EXPECT_TRUE(run(next, 3 * s).go_on());
}

TEST_F(aka_fixture, WrongForgedOrOldAnswersAreChallengedAgain) {
    (void)challenged(0, initial());
    // Another K's RES: a new challenge, not stale.
    auth::milenage other{test_opc, test_k};
    std::swap(usim, other);
    stage_run wrong(config, reg(aka_answer(last_nonce)));
    const verdict w = run(wrong, s);
    EXPECT_EQ(w.status, 401);
    EXPECT_EQ(std::string(w.extra).find("stale"), std::string::npos);
    std::swap(usim, other);
    // Our RAND and AUTN with server data not made by us: a character of it changed (in the middle,
    // where every bit of a base64 character is data; the last ones may carry unused bits).
    std::string forged = last_nonce;
    ASSERT_GT(forged.size(), 80u);
    forged[80] = forged[80] == 'g' ? 'A' : 'g';
    stage_run f(config, reg(aka_answer(forged)));
    const verdict fv = run(f, s);
    EXPECT_EQ(fv.status, 401);
    EXPECT_EQ(std::string(fv.extra).find("stale"), std::string::npos);
    // Seed 004's nonce: RAND and AUTN without server data of ours.
    stage_run foreign(config, reg(aka_answer("qlWqVapVqlWqVapVqlWqVUUQA5HEt9VVZ3t1TM221cg=")));
    EXPECT_EQ(run(foreign, s).status, 401);
    // Past the nonce's lifetime: stale.
    stage_run old(config, reg(aka_answer(last_nonce)));
    const verdict o = run(old, 301 * s);
    EXPECT_EQ(o.status, 401);
    EXPECT_NE(std::string(o.extra).find("stale=true"), std::string::npos);
}

TEST_F(aka_fixture, AutsResynchronisesTheSequenceNumbers) {
    (void)challenged(0, initial());
    // The USIM has seen SEQ 5000 (a restored backup of the network's counters was behind): it
    // refuses SEQ 101 and sends AUTS; the next challenge carries SEQ 5001.
    auth::aka_nonce_parts parts;
    ASSERT_EQ(auth::parse_aka_nonce(last_nonce, parts), auth::aka_error::none);
    auth::auts_bytes auts{};
    ASSERT_EQ(auth::make_auts(usim, parts.rand, auth::sqn_from_value(5000u * 32), auts), auth::aka_error::none);
    const std::string text(auth::encode_auts(auts).view());
    const std::string first = last_nonce;
    EXPECT_EQ(challenged(s, reg(aka_answer(first, "00000001", text))), 5001u * 32);
    EXPECT_EQ(bob().sqn.seq(), 5001u);
    // The same AUTS again would set the counters back: a replay, answered stale, nothing reset.
    stage_run again(config, reg(aka_answer(first, "00000001", text)));
    const verdict a = run(again, 2 * s);
    EXPECT_EQ(a.status, 401);
    EXPECT_NE(std::string(a.extra).find("stale=true"), std::string::npos);
    EXPECT_EQ(bob().sqn.seq(), 5002u);
    // An AUTS not made with the subscriber's K: 403, counters unchanged.
    (void)challenged(2 * s, initial());
    auth::aka_nonce_parts fresh;
    ASSERT_EQ(auth::parse_aka_nonce(last_nonce, fresh), auth::aka_error::none);
    auth::auts_bytes forged{};
    const auth::milenage stranger{test_opc, test_k};
    ASSERT_EQ(auth::make_auts(stranger, fresh.rand, auth::sqn_from_value(1u * 32), forged), auth::aka_error::none);
    stage_run bad(config, reg(aka_answer(last_nonce, "00000001", auth::encode_auts(forged).view())));
    const verdict b = run(bad, 3 * s);
    EXPECT_EQ(b.status, 403);
    EXPECT_EQ(b.reason, "Forbidden (AUTS Does Not Verify)");
    EXPECT_EQ(bob().sqn.seq(), 5003u);  // the two challenges since the resync, nothing set back
}

TEST_F(aka_fixture, OnlyTheSubscribersOwnIdentitiesRegister) {
    // Proving to be bob's USIM does not register alice.
    (void)challenged(0, initial());
    const std::string answer_line = aka_answer(last_nonce);
    std::string text = test::request_text(reg(answer_line));
    text.replace(text.find("To: Bob <sip:bob@example.com>"), 29, "To: <sip:alice@example.com>");
    stage_run as_alice(config, text, addr("198.18.0.9:5070"));
    const verdict v = run(as_alice, s);
    EXPECT_EQ(v.status, 403);
    EXPECT_EQ(v.reason, "Forbidden (Identity Not Of This Subscriber)");
    // A user with a password alone still gets a password digest.
    std::string plain = test::request_text(reg());
    plain.replace(plain.find("To: Bob <sip:bob@example.com>"), 29, "To: <sip:alice@example.com>");
    stage_run alice(config, plain, addr("198.18.0.9:5070"));
    const std::string e(run(alice, 2 * s).extra);
    EXPECT_NE(e.find("algorithm=MD5"), std::string::npos) << e;
    EXPECT_EQ(e.find("AKAv1-MD5"), std::string::npos) << e;
}

} // namespace
} // namespace sipfast::proxy
