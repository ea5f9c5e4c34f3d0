// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/siphash.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <string>

namespace sipfast::core {
namespace {

// The key 00 01 .. 0f of the reference implementation's test vectors, as two little-endian words.
constexpr siphash_key reference_key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

std::string bytes(std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(i));
    return s;
}

TEST(SipHash, ReferenceVectors) {
    // vectors.h of the SipHash reference code: messages 00, 00 01, ... under the key above.
    EXPECT_EQ(siphash(reference_key).finish(), 0x726fdb47dd0e0e31ULL);
    EXPECT_EQ(siphash(reference_key).update(bytes(1)).finish(), 0x74f839c593dc67fdULL);
    EXPECT_EQ(siphash(reference_key).update(bytes(8)).finish(), 0x93f5f5799a932462ULL);
    EXPECT_EQ(siphash(reference_key).update(bytes(15)).finish(), 0xa129ca6149be45e5ULL);
}

// SipHash-2-4 as its paper writes it, a byte at a time: what the word-wise update must equal.
std::uint64_t reference_siphash(const siphash_key& k, std::string_view m) {
    std::uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL, v1 = k[1] ^ 0x646f72616e646f6dULL;
    std::uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL, v3 = k[1] ^ 0x7465646279746573ULL;
    const auto round = [&] {
        v0 += v1; v1 = std::rotl(v1, 13); v1 ^= v0; v0 = std::rotl(v0, 32);
        v2 += v3; v3 = std::rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = std::rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = std::rotl(v1, 17); v1 ^= v2; v2 = std::rotl(v2, 32);
    };
    const auto compress = [&](std::uint64_t w) {
        v3 ^= w;
        round();
        round();
        v0 ^= w;
    };
    std::uint64_t word = 0;
    for (std::size_t i = 0; i < m.size(); ++i) {
        word |= std::uint64_t{static_cast<unsigned char>(m[i])} << (8 * (i % 8));
        if (i % 8 == 7) {
            compress(word);
            word = 0;
        }
    }
    compress(word | (std::uint64_t{m.size()} << 56));
    v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) round();
    return v0 ^ v1 ^ v2 ^ v3;
}

// Every length to four words, cut into three pieces at every pair of places: each way of filling a
// pending word from the next piece.
TEST(SipHash, AnyPiecesHashAsTheByteWiseReference) {
    std::string m;
    for (int i = 0; i < 33; ++i) m += static_cast<char>(0x80 + 7 * i);  // high bytes: no sign slips through
    EXPECT_EQ(reference_siphash(reference_key, bytes(15)), 0xa129ca6149be45e5ULL);  // the reference's own vector
    for (std::size_t n = 0; n <= m.size(); ++n) {
        const std::string_view whole(m.data(), n);
        const std::uint64_t want = reference_siphash(reference_key, whole);
        for (std::size_t a = 0; a <= n; ++a)
            for (std::size_t b = a; b <= n; ++b)
                ASSERT_EQ(siphash(reference_key).update(whole.substr(0, a)).update(whole.substr(a, b - a)).update(whole.substr(b)).finish(), want)
                    << n << " cut at " << a << ", " << b;
    }
    EXPECT_NE(siphash({1, 2}).update(m).finish(), siphash(reference_key).update(m).finish());  // another key, another value
}

TEST(SipHash, AWordHashesAsItsLittleEndianBytes) {
    const std::uint64_t word = 0x0f0e0d0c0b0a0908ULL;  // bytes 08..0f
    const std::string all = bytes(16);
    EXPECT_EQ(siphash(reference_key).update(all.substr(0, 8)).update(word).finish(), siphash(reference_key).update(all).finish());
    // After a partial word too.
    const std::string three = bytes(3);
    EXPECT_EQ(siphash(reference_key).update(three).update(word).finish(),
              siphash(reference_key).update(three + all.substr(8)).finish());
}

TEST(SipHash, RandomKeysDiffer) { EXPECT_NE(random_siphash_key(), random_siphash_key()); }

} // namespace
} // namespace sipfast::core
