// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/branch.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipfast::txn {
namespace {

constexpr branch_identity call{"a84b4c76e66710@198.18.0.9", 314159};

TEST(Branch, StatefulNamesShardSlotAndGeneration) {
    const our_branch b = our_branch::stateful(3, 0x12345, 7, call, 0xfeedface);
    EXPECT_TRUE(b.text().starts_with("z9hG4bKsf0003.t0001234500000007")) << b.text();
    EXPECT_TRUE(b.text().ends_with(".00000000feedface")) << b.text();
    EXPECT_EQ(b.text().size(), 64u);
    std::uint32_t shard = 0, slot = 0, generation = 0;
    ASSERT_TRUE(branch_shard(b.text(), 4, shard));
    EXPECT_EQ(shard, 3u);
    EXPECT_FALSE(branch_shard(b.text(), 3, shard));  // a shard we do not have
    ASSERT_TRUE(branch_transaction(b.text(), slot, generation));
    EXPECT_EQ(slot, 0x12345u);
    EXPECT_EQ(generation, 7u);
    EXPECT_TRUE(branch_has_loop_hash(b.text(), 0xfeedface));
    EXPECT_FALSE(branch_has_loop_hash(b.text(), 0xfeedfacf));
}

TEST(Branch, StatelessNamesNoTransaction) {
    const our_branch b = our_branch::stateless(1, 0xabc, call, 0x55);
    EXPECT_TRUE(b.text().starts_with(magic_cookie));
    std::uint32_t shard = 0, slot = 0, generation = 0;
    ASSERT_TRUE(branch_shard(b.text(), 2, shard));
    EXPECT_EQ(shard, 1u);
    EXPECT_FALSE(branch_transaction(b.text(), slot, generation));
    EXPECT_TRUE(branch_has_loop_hash(b.text(), 0x55));
}

TEST(Branch, OnlyOurOwnBranchForThatRequestVerifies) {
    for (const our_branch& b : {our_branch::stateful(0, 5, 9, call, 1), our_branch::stateless(0, 0x77, call, 1)}) {
        const std::string text(b.text());
        EXPECT_TRUE(branch_verifies(text, call)) << text;
        // Another call, another CSeq: what a forger who saw a branch of ours would try.
        EXPECT_FALSE(branch_verifies(text, {"other@198.18.0.9", call.cseq})) << text;
        EXPECT_FALSE(branch_verifies(text, {call.call_id, call.cseq + 1})) << text;
        // Any digit changed (a guessed slot, generation, shard or MAC) no longer verifies.
        for (std::size_t i = our_branch::prefix.size(); i < text.size(); ++i) {
            if (text[i] == '.' || text[i] == 't') continue;
            std::string forged = text;
            forged[i] = forged[i] == '0' ? '1' : '0';
            EXPECT_FALSE(branch_verifies(forged, call)) << forged;
        }
        EXPECT_FALSE(branch_verifies(text.substr(0, text.size() - 1), call));
    }
    EXPECT_FALSE(branch_verifies("z9hG4bK776asdhds", call));
    EXPECT_FALSE(branch_verifies("", call));
}

TEST(Branch, OthersBranchesAreNotOurs) {
    std::uint32_t shard = 0, slot = 0, generation = 0;
    for (const std::string_view b : {"z9hG4bK776asdhds", "", "z9hG4bKsf", "z9hG4bKsfzzzz.t0000000100000001.0",
                                     "z9hG4bKsf0001.tXXXXXXXX00000001.00000000000000aa"}) {
        EXPECT_FALSE(branch_transaction(b, slot, generation)) << b;
    }
    EXPECT_FALSE(branch_shard("z9hG4bK776asdhds", 4, shard));
}

TEST(Seal, OpensWhatItSealedForTheSamePurposeAndContextOnly) {
    core::text<1200> sealed;
    ASSERT_TRUE(seal("route", "call-1", "<sip:10.0.0.7;lr>, <sip:10.0.0.8:5070;lr>", sealed));
    const std::string s(sealed.view());
    EXPECT_EQ(s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos) << s;
    EXPECT_EQ(s.find("10.0.0"), std::string::npos);
    core::text<1200> opened;
    ASSERT_TRUE(unseal("route", "call-1", s, opened));
    EXPECT_EQ(opened.view(), "<sip:10.0.0.7;lr>, <sip:10.0.0.8:5070;lr>");
    core::text<1200> other;
    EXPECT_FALSE(unseal("route", "call-2", s, other));    // another dialog's
    EXPECT_FALSE(unseal("contact", "call-1", s, other));  // sealed for something else
    // Any character changed, one removed or added: refused.
    for (std::size_t i = 0; i < s.size(); ++i) {
        std::string t = s;
        t[i] = t[i] == 'A' ? 'B' : 'A';
        core::text<1200> out;
        EXPECT_FALSE(unseal("route", "call-1", t, out)) << i;
    }
    core::text<1200> out;
    EXPECT_FALSE(unseal("route", "call-1", s.substr(1), out));
    EXPECT_FALSE(unseal("route", "call-1", s + "A", out));
    EXPECT_FALSE(unseal("route", "call-1", "", out));
    EXPECT_FALSE(unseal("route", "call-1", "sip:bob@198.18.0.1", out));
    // The same text seals the same way (a stable Contact of ours for a stable contact).
    core::text<1200> again;
    ASSERT_TRUE(seal("route", "call-1", "<sip:10.0.0.7;lr>, <sip:10.0.0.8:5070;lr>", again));
    EXPECT_EQ(again.view(), sealed.view());
    // Every length round-trips (base64url's three tails); too long is refused.
    std::string plain;
    for (std::size_t n = 0; n < 40; ++n, plain += static_cast<char>('a' + n % 26)) {
        core::text<1200> x, y;
        ASSERT_TRUE(seal("contact", "", plain, x));
        ASSERT_TRUE(unseal("contact", "", x.view(), y)) << n;
        EXPECT_EQ(y.view(), plain);
    }
    core::text<2000> big;
    EXPECT_FALSE(seal("contact", "", std::string(max_sealed_plain + 1, 'x'), big));
}

} // namespace
} // namespace sipfast::txn
