// SPDX-License-Identifier: Apache-2.0
// IMS AKA (RFC 3310, TS 33.102 §6.3): vectors and AUTN, the nonce, AUTS and resynchronisation, the
// sequence numbers, the AKAv1-MD5 response with RES as the password, the Authorization a client
// sends (seed 004's captures), and the base64 under them. Milenage's own values are
// milenage_test's (TS 35.208 §4.3); here test set 1 is the subscriber.
#include "sipfast/auth/aka.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sipfast/auth/base64.hpp"

#include "hex_util.hpp"

namespace sipfast::auth {
namespace {

using test::from_hex;
using test::to_hex;

// TS 35.208 §4.3.1, test set 1.
const block k1 = from_hex<16>("465b5ce8b199b49faa5f0a2ee238a6bc");
const block opc1 = from_hex<16>("cd63cb71954a9f4e48a5994e37a02baf");
const block rand1 = from_hex<16>("23553cbe9637a89d218ae64dae47bf35");
const sqn_bytes sqn1 = from_hex<6>("ff9bb4d0b607");
const amf_bytes amf1 = from_hex<2>("b9b9");

TEST(Aka, VectorFromTestSet1) {
    const milenage m(k1, opc1);
    aka_vector v;
    ASSERT_EQ(make_aka_vector(m, sqn1, amf1, rand1, v), aka_error::none);
    EXPECT_EQ(v.rand, rand1);
    // SQN ⊕ AK = ff9bb4d0b607 ⊕ aa689c648370, then AMF, then MAC-A (f1).
    EXPECT_EQ(to_hex(v.autn), "55f328b43577" "b9b9" "4a9ffac354dfafb3");
    EXPECT_EQ(to_hex(v.xres), "a54211d5e3ba50bf");
    EXPECT_EQ(to_hex(v.ck), "b40ba9a3c58b2a05bbf0d987b21bf8cb");
    EXPECT_EQ(to_hex(v.ik), "f769bcd751044604127672711c6d3441");
}

TEST(Aka, AutnOpensOnlyForItsSubscriberAndRand) {
    const milenage m(k1, opc1);
    aka_vector v;
    ASSERT_EQ(make_aka_vector(m, sqn1, amf1, rand1, v), aka_error::none);
    sqn_bytes sqn{};
    amf_bytes amf{};
    ASSERT_EQ(open_autn(m, v.rand, v.autn, sqn, amf), aka_error::none);
    EXPECT_EQ(sqn, sqn1);
    EXPECT_EQ(amf, amf1);
    for (std::size_t i = 0; i < v.autn.size(); ++i) {
        autn_bytes bad = v.autn;
        bad[i] ^= 0x01;
        EXPECT_EQ(open_autn(m, v.rand, bad, sqn, amf), aka_error::mac_a_mismatch) << "byte " << i;
    }
    block other_rand = v.rand;
    other_rand[0] ^= 0x80;
    EXPECT_EQ(open_autn(m, other_rand, v.autn, sqn, amf), aka_error::mac_a_mismatch);
    const milenage other(from_hex<16>("0396eb317b6d1c36f19c1c84cd6ffd16"), from_hex<16>("53c15671c60a4b731c55b4a441c0bde2"));
    EXPECT_EQ(open_autn(other, v.rand, v.autn, sqn, amf), aka_error::mac_a_mismatch);
}

TEST(Aka, NonceRoundTrip) {
    const milenage m(k1, opc1);
    aka_vector v;
    ASSERT_EQ(make_aka_vector(m, sqn1, amf1, rand1, v), aka_error::none);
    const aka_nonce_text nonce = make_aka_nonce(v.rand, v.autn);
    // base64 of RAND ‖ AUTN (RFC 3310 §3.2), no server data: 32 bytes, 44 characters.
    EXPECT_EQ(nonce.view(), "I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=");
    block rand{};
    autn_bytes autn{};
    ASSERT_EQ(parse_aka_nonce(nonce.view(), rand, autn), aka_error::none);
    EXPECT_EQ(rand, v.rand);
    EXPECT_EQ(autn, v.autn);
}

TEST(Aka, NonceFaultsAreNamed) {
    block rand{};
    autn_bytes autn{};
    struct row {
        std::string_view nonce;
        aka_error want;
        const char* note;
    };
    const row rows[] = {
        {"", aka_error::wrong_length, "empty"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M", aka_error::none, "padding left off"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M==", aka_error::bad_base64, "too much padding"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr", aka_error::bad_base64, "4k+1 characters: no encoding"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7", aka_error::wrong_length, "31 bytes"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7M=I1U8", aka_error::bad_base64, "'=' inside"},
        {"I1U8vpY3qJ0hiuZNrke-NVXzKLQ1d7m5Sp_6w1Tfr7M=", aka_error::bad_base64, "URL-safe alphabet"},
        {"I1U8vpY3qJ0hiuZN rke/NVXzKLQ1d7m5Sp/6w1Tfr7M=", aka_error::bad_base64, "space"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tf", aka_error::wrong_length, "30 bytes"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7MA", aka_error::wrong_length, "33 bytes: server data"},
        {"I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tfr7MAAAAAAAAAAAAAAAAAAAAA", aka_error::wrong_length, "much longer"},
    };
    for (const row& r : rows) EXPECT_EQ(parse_aka_nonce(r.nonce, rand, autn), r.want) << r.note;
}

// RFC 3310 §3.2: server-specific data after RAND and AUTN, ours a dated MAC: it comes back whole,
// and a nonce holding more than ours carry, or less than RAND and AUTN, is not ours.
TEST(Aka, NonceWithServerDataRoundTrips) {
    block rand{};
    autn_bytes autn{};
    for (std::size_t i = 0; i < 16; ++i) {
        rand[i] = static_cast<std::uint8_t>(i);
        autn[i] = static_cast<std::uint8_t>(0xf0 + i);
    }
    const std::string data(48, 'd');
    const aka_nonce_with_data nonce = make_aka_nonce(rand, autn, data);
    EXPECT_EQ(nonce.view().size(), base64_encoded_size(80));
    aka_nonce_parts parts;
    ASSERT_EQ(parse_aka_nonce(nonce.view(), parts), aka_error::none);
    EXPECT_EQ(parts.rand, rand);
    EXPECT_EQ(parts.autn, autn);
    EXPECT_EQ(parts.server_data(), data);
    // Without data it is the plain nonce, which parses with no data.
    EXPECT_EQ(make_aka_nonce(rand, autn, "").view(), make_aka_nonce(rand, autn).view());
    ASSERT_EQ(parse_aka_nonce(make_aka_nonce(rand, autn).view(), parts), aka_error::none);
    EXPECT_TRUE(parts.server_data().empty());
    // One byte more than ours carry, fewer than RAND and AUTN, not base64.
    const std::array<std::uint8_t, 81> longer{};
    std::array<char, base64_encoded_size(81)> text{};
    ASSERT_EQ(base64_encode(longer, text), text.size());
    EXPECT_EQ(parse_aka_nonce({text.data(), text.size()}, parts), aka_error::wrong_length);
    EXPECT_EQ(parse_aka_nonce("I1U8vpY3qJ0hiuZNrke/NVXzKLQ1d7m5Sp/6w1Tf", parts), aka_error::wrong_length);
    EXPECT_EQ(parse_aka_nonce("I1U8vpY3qJ0hiuZN rke/", parts), aka_error::bad_base64);
}

// RANDs from OpenSSL: never the same twice in a row.
TEST(Aka, RandsDiffer) {
    block a{}, b{};
    ASSERT_EQ(make_rand(a), aka_error::none);
    ASSERT_EQ(make_rand(b), aka_error::none);
    EXPECT_NE(a, b);
}

// Seed 004 (/work/shared/seeds, an IMS registration captured from a test network): its 401's nonce
// is base64 of 32 bytes and comes back as it was. Its RES cannot be checked: the SIM's K is not
// in the capture.
TEST(Aka, Seed004NonceParsesAndRoundTrips) {
    constexpr std::string_view nonce = "qlWqVapVqlWqVapVqlWqVUUQA5HEt9VVZ3t1TM221cg=";
    block rand{};
    autn_bytes autn{};
    ASSERT_EQ(parse_aka_nonce(nonce, rand, autn), aka_error::none);
    EXPECT_EQ(to_hex(rand), "aa55aa55aa55aa55aa55aa55aa55aa55");
    EXPECT_EQ(to_hex(autn), "45100391c4b7" "d555" "677b754ccdb6d5c8");
    EXPECT_EQ(make_aka_nonce(rand, autn).view(), nonce);
}

TEST(Aka, Seed004AuthorizationsParse) {
    // The initial REGISTER (TS 24.229 §5.1.1.2): the private identity, empty nonce and response.
    aka_credentials first;
    ASSERT_EQ(parse_aka_credentials(R"(Digest uri="sip:test.3gpp.com",
username="001010123456789@test.3gpp.com",
response="",
realm="test.3gpp.com",
nonce="")",
                                    first),
              credentials_fault::none);
    EXPECT_TRUE(first.initial());
    EXPECT_EQ(first.digest.username, "001010123456789@test.3gpp.com");
    EXPECT_EQ(first.digest.realm, "test.3gpp.com");

    // The answer to the 401.
    aka_credentials c;
    ASSERT_EQ(parse_aka_credentials(R"(Digest username="001010123456789@test.3gpp.com",
realm="test.3gpp.com",
uri="sip:test.3gpp.com",
qop=auth,
nonce="qlWqVapVqlWqVapVqlWqVUUQA5HEt9VVZ3t1TM221cg=",
nc=00000001,
cnonce="11259375",
algorithm=AKAv1-MD5,
response="a3f549b13f477562f4445b7277cd83c1",
opaque="MTcyMjU3ODA2NDo=SU1TLVNJUCBTZXJ2ZXI=")",
                                    c),
              credentials_fault::none);
    EXPECT_FALSE(c.initial());
    EXPECT_EQ(c.digest.alg, algorithm::md5);
    EXPECT_EQ(c.digest.nonce, "qlWqVapVqlWqVapVqlWqVUUQA5HEt9VVZ3t1TM221cg=");
    EXPECT_EQ(c.digest.response, "a3f549b13f477562f4445b7277cd83c1");
    EXPECT_EQ(c.digest.nonce_count, 1u);
    EXPECT_EQ(c.digest.cnonce, "11259375");
    EXPECT_TRUE(c.auts.empty());
    block rand{};
    autn_bytes autn{};
    EXPECT_EQ(parse_aka_nonce(c.digest.nonce, rand, autn), aka_error::none);
    // The plain digest parser refuses the algorithm, so the proxy's MD5 check never takes it.
    credentials plain;
    EXPECT_EQ(parse_credentials(R"(Digest username="u", realm="r", uri="sip:r", nonce="n", response="x", algorithm=AKAv1-MD5)", plain),
              credentials_fault::bad_algorithm);
}

TEST(Aka, CredentialFaultsAreNamed) {
    aka_credentials c;
    EXPECT_EQ(parse_aka_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", c), credentials_fault::not_digest);
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm)", c), credentials_fault::malformed);
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", nonce="n", response="x", algorithm=AKAv1-MD5)", c),
              credentials_fault::missing);  // no uri
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", uri="sip:r", nonce="n", algorithm=AKAv1-MD5)", c),
              credentials_fault::missing);  // a nonce, and neither response nor auts
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", uri="sip:r", nonce="n", response="x")", c),
              credentials_fault::bad_algorithm);  // an answer must say AKAv1-MD5
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", uri="sip:r", nonce="n", response="x", algorithm=MD5)", c),
              credentials_fault::bad_algorithm);
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", uri="sip:r", nonce="", response="", algorithm=AKAv2-SHA-256)", c),
              credentials_fault::bad_algorithm);
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", uri="sip:r", nonce="n", response="x", algorithm=akav1-md5, qop=auth)", c),
              credentials_fault::bad_qop);  // no cnonce, no nc
    EXPECT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", uri="sip:r", nonce="n", response="x", algorithm=AKAv1-MD5, qop=auth, cnonce="c", nc=0000000g)", c),
              credentials_fault::bad_qop);
    // A resynchronisation: auts, and the response computed with an empty password (RFC 3310 §3.4).
    ASSERT_EQ(parse_aka_credentials(R"(Digest username="a", realm="r", uri="sip:r", nonce="n", response="", auts="CjkyMzRfOiwg5CfkJ2U=", algorithm=AKAv1-MD5)", c),
              credentials_fault::none);
    EXPECT_EQ(c.auts, "CjkyMzRfOiwg5CfkJ2U=");
    auts_bytes a{};
    EXPECT_EQ(decode_auts(c.auts, a), aka_error::none);
}

// A USIM that refuses AUTN's SQN answers AUTS (TS 33.102 §6.3.3): built here as it builds it.
auts_bytes auts_as_a_usim_makes_it(const milenage& usim, const block& rand, const sqn_bytes& sqn_ms) {
    const ak_bytes ak_star = usim.f5_star(rand).value();
    const mac_bytes mac_s = usim.f1_star(rand, sqn_ms, amf_bytes{0x00, 0x00}).value();
    auts_bytes a{};
    for (std::size_t i = 0; i < 6; ++i) a[i] = static_cast<std::uint8_t>(sqn_ms[i] ^ ak_star[i]);
    for (std::size_t i = 0; i < 8; ++i) a[6 + i] = mac_s[i];
    return a;
}

TEST(Aka, AutsGivesBackSqnMs) {
    const milenage m(k1, opc1);
    const sqn_bytes sqn_ms = sqn_from_value(0x000000012340);
    const auts_bytes auts = auts_as_a_usim_makes_it(m, rand1, sqn_ms);
    auts_bytes made{};
    ASSERT_EQ(make_auts(m, rand1, sqn_ms, made), aka_error::none);
    EXPECT_EQ(made, auts);

    // Through the auts parameter's text, as a client sends it.
    const auts_text text = encode_auts(auts);
    EXPECT_EQ(text.view().size(), 20u);
    EXPECT_EQ(text.view().back(), '=');
    auts_bytes decoded{};
    ASSERT_EQ(decode_auts(text.view(), decoded), aka_error::none);
    EXPECT_EQ(decoded, auts);

    sqn_bytes got{};
    ASSERT_EQ(verify_auts(m, rand1, decoded, got), aka_error::none);
    EXPECT_EQ(got, sqn_ms);

    // TS 35.208 test set 1's own SQN as SQN_MS, with the set's f5* and f1* (AMF 0 here, so MAC-S
    // is not the set's f1*, which has AMF b9b9).
    ASSERT_EQ(verify_auts(m, rand1, auts_as_a_usim_makes_it(m, rand1, sqn1), got), aka_error::none);
    EXPECT_EQ(got, sqn1);
}

TEST(Aka, TamperedAutsIsRefused) {
    const milenage m(k1, opc1);
    const sqn_bytes sqn_ms = sqn_from_value(0x000000012340);
    const auts_bytes auts = auts_as_a_usim_makes_it(m, rand1, sqn_ms);
    sqn_bytes got = sqn_from_value(7);
    for (std::size_t i = 0; i < auts.size(); ++i) {
        for (std::uint8_t bit = 1; bit != 0; bit = static_cast<std::uint8_t>(bit << 1)) {
            auts_bytes bad = auts;
            bad[i] ^= bit;
            ASSERT_EQ(verify_auts(m, rand1, bad, got), aka_error::mac_s_mismatch) << "byte " << i;
        }
    }
    EXPECT_EQ(got, sqn_from_value(7));  // untouched
    block other_rand = rand1;
    other_rand[15] ^= 1;
    EXPECT_EQ(verify_auts(m, other_rand, auts, got), aka_error::mac_s_mismatch);
    const milenage other(from_hex<16>("0396eb317b6d1c36f19c1c84cd6ffd16"), from_hex<16>("53c15671c60a4b731c55b4a441c0bde2"));
    EXPECT_EQ(verify_auts(other, rand1, auts, got), aka_error::mac_s_mismatch);
    // MAC-S is f1* with AMF 0: one made with the vector's AMF is not an AUTS.
    auts_bytes wrong_amf = auts;
    const mac_bytes mac = m.f1_star(rand1, sqn_ms, amf1).value();
    std::copy(mac.begin(), mac.end(), wrong_amf.begin() + 6);
    EXPECT_EQ(verify_auts(m, rand1, wrong_amf, got), aka_error::mac_s_mismatch);
}

TEST(Aka, AutsTextFaults) {
    auts_bytes a{};
    EXPECT_EQ(decode_auts("", a), aka_error::wrong_length);
    EXPECT_EQ(decode_auts("CjkyMzRfOiwg5CfkJ2Uz", a), aka_error::wrong_length);    // 15 bytes
    EXPECT_EQ(decode_auts("CjkyMzRfOiwg5CfkJ2U=", a), aka_error::none);            // 14
    EXPECT_EQ(decode_auts("CjkyMzRfOiwg5CfkJw==", a), aka_error::wrong_length);    // 13
    EXPECT_EQ(decode_auts("CjkyMzRfOiwg5CfkJ2U*", a), aka_error::bad_base64);
    EXPECT_EQ(decode_auts("CjkyMzRfOiwg5CfkJ2UzQgAAAAAAAAAA", a), aka_error::wrong_length);
}

TEST(Aka, SqnGeneratorStepsSeqKeepsInd) {
    sqn_generator g(0, 3);
    sqn_bytes s{};
    ASSERT_EQ(g.next(s), aka_error::none);
    EXPECT_EQ(sqn_value(s), (1u << 5) | 3u);
    ASSERT_EQ(g.next(s), aka_error::none);
    EXPECT_EQ(sqn_value(s), (2u << 5) | 3u);
    EXPECT_EQ(g.seq(), 2u);

    sqn_generator plain;
    ASSERT_EQ(plain.next(s), aka_error::none);
    EXPECT_EQ(to_hex(s), "000000000020");  // SEQ 1, IND 0: SQNs step by 32

    // After a verified AUTS, the next SEQ is SEQ_MS + 1, below SEQ_HE as well as above.
    plain.resync(sqn_from_value((1000u << 5) | 7u));
    ASSERT_EQ(plain.next(s), aka_error::none);
    EXPECT_EQ(sqn_value(s), 1001u << 5);
    plain.resync(sqn_from_value(10u << 5));
    ASSERT_EQ(plain.next(s), aka_error::none);
    EXPECT_EQ(sqn_value(s), 11u << 5);

    // The last SEQ, then no more rather than a wrap to SEQ 0.
    sqn_generator end(sqn_generator::seq_max - 1);
    ASSERT_EQ(end.next(s), aka_error::none);
    EXPECT_EQ(to_hex(s), "ffffffffffe0");
    s = {};
    EXPECT_EQ(end.next(s), aka_error::sqn_exhausted);
    EXPECT_EQ(s, sqn_bytes{});
}

TEST(Aka, SqnGeneratorSharedByThreadsNeverRepeats) {
    sqn_generator g;
    constexpr int per_thread = 5000;
    std::vector<std::uint64_t> a, b;
    auto run = [&g](std::vector<std::uint64_t>& out) {
        sqn_bytes s{};
        for (int i = 0; i < per_thread; ++i)
            if (g.next(s) == aka_error::none) out.push_back(sqn_value(s));
    };
    std::thread t1(run, std::ref(a));
    std::thread t2(run, std::ref(b));
    t1.join();
    t2.join();
    std::set<std::uint64_t> all(a.begin(), a.end());
    all.insert(b.begin(), b.end());
    EXPECT_EQ(all.size(), 2u * per_thread);
    EXPECT_EQ(g.seq(), 2u * per_thread);
}

std::string md5_hex(std::string_view s) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EXPECT_EQ(EVP_Digest(s.data(), s.size(), md, &n, EVP_md5(), nullptr), 1);
    return to_hex(std::span<const std::uint8_t>(md, n));
}

// RFC 3310 §3.3: the response is RFC 2617's, with RES (its bytes) as the password. The expected
// value is computed here on its own: MD5 over the RFC 2617 strings, with OpenSSL.
TEST(Aka, ResponseWithResAsPassword) {
    const milenage m(k1, opc1);
    aka_vector v;
    ASSERT_EQ(make_aka_vector(m, sqn1, amf1, rand1, v), aka_error::none);
    const std::string nonce(make_aka_nonce(v.rand, v.autn).view());
    const std::string user = "001010123456789@ims.example.net";
    const std::string realm = "ims.example.net";
    const std::string uri = "sip:ims.example.net";
    const std::string res_bytes_text(aka_password(v.xres));
    ASSERT_EQ(res_bytes_text.size(), 8u);
    const std::string ha1_want = md5_hex(user + ":" + realm + ":" + res_bytes_text);
    const std::string ha2_want = md5_hex("REGISTER:" + uri);
    const std::string want = md5_hex(ha1_want + ":" + nonce + ":00000001:0a4f113b:auth:" + ha2_want);

    EXPECT_EQ(aka_ha1(user, realm, v.xres).view(), ha1_want);
    // The password is RES's bytes, not its hex.
    EXPECT_NE(aka_ha1(user, realm, v.xres).view(), md5_hex(user + ":" + realm + ":a54211d5e3ba50bf"));

    // The client: a USIM opens AUTN, answers RES, and the UA hashes it into the response.
    sqn_bytes sqn{};
    amf_bytes amf{};
    ASSERT_EQ(open_autn(m, v.rand, v.autn, sqn, amf), aka_error::none);
    const res_bytes res = m.f2(v.rand).value();
    const std::string header = "Digest username=\"" + user + "\", realm=\"" + realm + "\", uri=\"" + uri +
                               "\", nonce=\"" + nonce + "\", qop=auth, nc=00000001, cnonce=\"0a4f113b\", " +
                               "algorithm=AKAv1-MD5, response=\"" + want + "\"";
    aka_credentials c;
    ASSERT_EQ(parse_aka_credentials(header, c), credentials_fault::none);
    EXPECT_EQ(response_for(c.digest, aka_ha1(c.digest.username, c.digest.realm, res).view(), "REGISTER").view(), want);

    // The server: RAND from the nonce names the vector; XRES checks the response.
    block rand{};
    autn_bytes autn{};
    ASSERT_EQ(parse_aka_nonce(c.digest.nonce, rand, autn), aka_error::none);
    EXPECT_EQ(rand, v.rand);
    const hex_digest expected = response_for(c.digest, aka_ha1(c.digest.username, c.digest.realm, v.xres).view(), "REGISTER");
    EXPECT_TRUE(same_digest(expected.view(), c.digest.response));
    res_bytes wrong = v.xres;
    wrong[7] ^= 1;
    EXPECT_FALSE(same_digest(response_for(c.digest, aka_ha1(user, realm, wrong).view(), "REGISTER").view(), c.digest.response));
}

// RES may hold a NUL byte; the password is still all eight bytes.
TEST(Aka, PasswordKeepsNulBytes) {
    const res_bytes res = from_hex<8>("00a1000000b20000");
    EXPECT_EQ(aka_password(res).size(), 8u);
    EXPECT_EQ(aka_ha1("u", "r", res).view(), md5_hex(std::string("u:r:") + std::string(aka_password(res))));
    EXPECT_NE(aka_ha1("u", "r", res).view(), md5_hex("u:r:"));
}

TEST(Aka, ErrorsHaveText) {
    EXPECT_EQ(aka_error_text(aka_error::mac_s_mismatch), "MAC-S mismatch");
    EXPECT_EQ(aka_error_text(aka_error::bad_base64), "bad base64");
    EXPECT_EQ(aka_error_text(aka_error::sqn_exhausted), "SQN exhausted");
}

// RFC 4648 §10.
TEST(Base64, Rfc4648Vectors) {
    const std::pair<std::string_view, std::string_view> rows[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
    };
    for (const auto& [plain, coded] : rows) {
        std::array<char, 16> out{};
        const std::span<const std::uint8_t> in(reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size());
        const std::size_t n = base64_encode(in, out);
        EXPECT_EQ(std::string_view(out.data(), n), coded);
        std::array<std::uint8_t, 16> back{};
        std::size_t m = 99;
        ASSERT_EQ(base64_decode(coded, back, m), base64_fault::none) << coded;
        EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(back.data()), m), plain);
    }
}

TEST(Base64, Faults) {
    std::array<std::uint8_t, 4> out{};
    std::size_t n = 0;
    EXPECT_EQ(base64_decode("Zm9vYg", out, n), base64_fault::none);  // unpadded
    EXPECT_EQ(n, 4u);
    EXPECT_EQ(base64_decode("Zm9vY", out, n), base64_fault::bad_padding);  // 4k+1
    EXPECT_EQ(base64_decode("Zm9vYg=", out, n), base64_fault::bad_padding);
    EXPECT_EQ(base64_decode("Zg===", out, n), base64_fault::bad_padding);
    EXPECT_EQ(base64_decode("Z=g=", out, n), base64_fault::bad_padding);
    EXPECT_EQ(base64_decode("Zm9v\nYg==", out, n), base64_fault::bad_character);
    EXPECT_EQ(base64_decode("Zm9vYmFy", out, n), base64_fault::too_long);
    EXPECT_EQ(base64_decode(std::string_view("Zm\0v", 4), out, n), base64_fault::bad_character);
    std::array<char, 7> small{};
    const std::array<std::uint8_t, 6> six{};
    EXPECT_EQ(base64_encode(six, small), 0u);  // needs 8
}

} // namespace
} // namespace sipfast::auth
