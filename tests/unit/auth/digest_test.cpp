// SPDX-License-Identifier: Apache-2.0
// Digest credentials and hashes against the RFCs' own examples, stateless nonces, nonce counts and
// the htdigest user file.
#include "sipfast/auth/digest.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "sipfast/auth/nonce.hpp"
#include "sipfast/auth/nonce_counts.hpp"
#include "sipfast/auth/users.hpp"

namespace sipfast::auth {
namespace {

TEST(Digest, Rfc7616Examples) {
    // RFC 7616 §3.9.1: the same request answered with SHA-256 and with MD5.
    credentials c;
    ASSERT_EQ(parse_credentials(R"(Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html",
        algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001,
        cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth,
        response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")",
                                c),
              credentials_fault::none);
    EXPECT_EQ(c.alg, algorithm::sha256);
    EXPECT_EQ(c.nonce_count, 1u);
    const hex_digest h = ha1(c.alg, c.username, c.realm, "Circle of Life");
    EXPECT_EQ(response_for(c, h.view(), "GET").view(), c.response);
    c.alg = algorithm::md5;
    EXPECT_EQ(response_for(c, ha1(algorithm::md5, c.username, c.realm, "Circle of Life").view(), "GET").view(),
              "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(Digest, Rfc2617ExampleWithoutAlgorithmIsMd5) {
    credentials c;
    ASSERT_EQ(parse_credentials(R"(Digest username="Mufasa",realm="testrealm@host.com",
        nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",uri="/dir/index.html",qop=auth,nc=00000001,cnonce="0a4f113b",
        response="6629fae49393a05397450978507c4ef1",opaque="5ccc069c403ebaf9f0171e9517f40e41")",
                                c),
              credentials_fault::none);
    EXPECT_EQ(c.alg, algorithm::md5);
    EXPECT_EQ(response_for(c, ha1(c.alg, c.username, c.realm, "Circle Of Life").view(), "GET").view(), c.response);
    EXPECT_TRUE(same_digest(c.response, "6629fae49393a05397450978507c4ef1"));
    EXPECT_FALSE(same_digest(c.response, "6629fae49393a05397450978507c4ef2"));
}

TEST(Digest, CredentialFaultsAreNamed) {
    credentials c;
    EXPECT_EQ(parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", c), credentials_fault::not_digest);
    EXPECT_EQ(parse_credentials(R"(Digest username="a", realm)", c), credentials_fault::malformed);
    EXPECT_EQ(parse_credentials(R"(Digest username="a", realm="r", nonce="n", uri="sip:r")", c), credentials_fault::missing);
    EXPECT_EQ(parse_credentials(R"(Digest username="a", realm="r", nonce="n", uri="sip:r", response="x", algorithm=MD5-sess)", c),
              credentials_fault::bad_algorithm);
    EXPECT_EQ(parse_credentials(R"(Digest username="a", realm="r", nonce="n", uri="sip:r", response="x", qop=auth)", c),
              credentials_fault::bad_qop);  // no cnonce, no nc
    EXPECT_EQ(parse_credentials(R"(Digest username="a", realm="r", nonce="n", uri="sip:r", response="x", qop=auth, cnonce="c", nc=zz000001)", c),
              credentials_fault::bad_qop);
}

TEST(Digest, ChallengesAsAClientReadsThem) {
    challenge c;
    // RFC 7616 §3.9.1's, in SIP's spelling: a quoted list of qop options, an opaque to return.
    ASSERT_EQ(parse_challenge("Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=SHA-256, "
                              "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
                              "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"",
                              c),
              challenge_fault::none);
    EXPECT_EQ(c.realm, "http-auth@example.org");
    EXPECT_EQ(c.nonce, "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
    EXPECT_EQ(c.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS");
    EXPECT_EQ(c.alg, algorithm::sha256);
    EXPECT_TRUE(c.qop_auth);
    EXPECT_FALSE(c.stale);
    ASSERT_EQ(parse_challenge("Digest realm=\"a\", nonce=\"n\", stale=TRUE, qop=\"auth-int\"", c), challenge_fault::none);
    EXPECT_EQ(c.alg, algorithm::md5);  // none named: MD5
    EXPECT_TRUE(c.stale);
    EXPECT_FALSE(c.qop_auth);
    EXPECT_EQ(parse_challenge("Basic realm=\"a\"", c), challenge_fault::not_digest);
    EXPECT_EQ(parse_challenge("Digest realm=\"a\", nonce=\"n\", algorithm=SHA-512-256", c), challenge_fault::bad_algorithm);
    EXPECT_EQ(parse_challenge("Digest realm=\"a\"", c), challenge_fault::missing);
    EXPECT_EQ(parse_challenge("Digest realm=\"a, nonce=n", c), challenge_fault::malformed);
}

TEST(Nonce, FreshStaleForgedAndBoundToItsRealm) {
    std::array<std::uint8_t, nonce_source::secret_bytes> secret{};
    secret[0] = 7;
    const nonce_source ours(secret);
    std::array<char, 64> buf{};
    core::text_writer w(buf);
    ours.make(1'000, "example.com", w);
    const std::string nonce(w.view());
    EXPECT_EQ(nonce.size(), 48u);
    EXPECT_EQ(nonce_source::made_at(nonce), 1'000u);
    EXPECT_EQ(ours.check(nonce, "example.com", 5'000, 10'000), nonce_source::verdict::fresh);
    EXPECT_EQ(ours.check(nonce, "example.com", 11'000, 10'000), nonce_source::verdict::stale);
    EXPECT_EQ(ours.check(nonce, "example.org", 5'000, 10'000), nonce_source::verdict::forged);
    std::string tampered = nonce;
    tampered[0] = tampered[0] == '0' ? '1' : '0';  // claims another time: the MAC no longer matches
    EXPECT_EQ(ours.check(tampered, "example.com", 5'000, 1'000'000'000'000), nonce_source::verdict::forged);
    secret[0] = 8;
    EXPECT_EQ(nonce_source(secret).check(nonce, "example.com", 5'000, 10'000), nonce_source::verdict::forged);
    EXPECT_NE(nonce_source().check(nonce, "example.com", 5'000, 10'000), nonce_source::verdict::fresh);
    // Made in the same nanosecond, still unlike.
    std::array<char, 64> again{};
    core::text_writer w2(again);
    ours.make(1'000, "example.com", w2);
    EXPECT_NE(w2.view(), nonce);
    EXPECT_EQ(ours.check(w2.view(), "example.com", 1'000, 10'000), nonce_source::verdict::fresh);
}

TEST(NonceCounts, EachCountServesOnceAndOnlyUpward) {
    nonce_counts counts(1'000);
    EXPECT_TRUE(counts.advance("n1", 1, 0, 10));
    EXPECT_FALSE(counts.advance("n1", 1, 0, 20));  // the same request replayed
    EXPECT_TRUE(counts.advance("n1", 3, 0, 30));
    EXPECT_FALSE(counts.advance("n1", 2, 0, 40));
    EXPECT_TRUE(counts.advance("n2", 1, 0, 50));
    // Past its lifetime a nonce is forgotten (and refused as stale before it gets here).
    EXPECT_TRUE(counts.advance("n3", 1, 2'000, 2'000));
    EXPECT_TRUE(counts.advance("n1", 1, 0, 2'000));
}

TEST(Users, HtdigestFileAndPasswords) {
    const std::string path = ::testing::TempDir() + "sipfast_users.htdigest";
    {
        std::ofstream f(path);
        f << "# operators' users\n\nbob:example.com:" << ha1(algorithm::md5, "bob", "example.com", "secret").view() << "\n";
    }
    user_directory users;
    ASSERT_EQ(users.load_htdigest(path), "");
    users.add_password("alice", "Example.COM", "wonder");
    const user_secret* bob = users.find("bob", "EXAMPLE.com");
    ASSERT_NE(bob, nullptr);
    EXPECT_EQ(bob->md5.view(), ha1(algorithm::md5, "bob", "example.com", "secret").view());
    EXPECT_EQ(bob->sha256.size, 0);  // an htdigest line has no SHA-256 secret
    EXPECT_EQ(users.find("Bob", "example.com"), nullptr);  // user names are case-sensitive
    ASSERT_NE(users.find("alice", "example.com"), nullptr);
    EXPECT_EQ(users.find("alice", "example.com")->sha256.view(),
              ha1(algorithm::sha256, "alice", "Example.COM", "wonder").view());
    EXPECT_FALSE(users.sha256_everywhere("example.com"));  // bob could not answer it

    {
        std::ofstream f(path);
        f << "carol:example.com:" << ha1(algorithm::md5, "carol", "example.com", "x").view() << "\nbroken line\n";
    }
    user_directory bad;
    EXPECT_EQ(bad.load_htdigest(path), path + ":2: expected user:realm:HA1");
    {
        std::ofstream f(path);
        f << "carol:example.com:plaintext\n";
    }
    EXPECT_EQ(bad.load_htdigest(path), path + ":1: HA1 is not 32 hex digits (MD5)");
    EXPECT_EQ(bad.load_htdigest(path + ".missing"), path + ".missing:0: cannot be read");
    std::remove(path.c_str());
}

} // namespace
} // namespace sipfast::auth
