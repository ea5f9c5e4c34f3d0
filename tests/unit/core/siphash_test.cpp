// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/siphash.hpp"

#include <gtest/gtest.h>

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

TEST(SipHash, PiecesHashAsTheWhole) {
    const std::string whole = bytes(37);
    const std::uint64_t once = siphash(reference_key).update(whole).finish();
    for (std::size_t cut = 0; cut <= whole.size(); ++cut)
        EXPECT_EQ(siphash(reference_key).update(whole.substr(0, cut)).update(whole.substr(cut)).finish(), once) << cut;
    EXPECT_NE(siphash({1, 2}).update(whole).finish(), once);  // another key, another value
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
