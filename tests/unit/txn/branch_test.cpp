// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/branch.hpp"

#include <gtest/gtest.h>

namespace sipfast::txn {
namespace {

TEST(Branch, StatefulNamesShardSlotAndGeneration) {
    const our_branch b = our_branch::stateful(3, 0x12345, 7, 0xfeedface);
    EXPECT_EQ(b.text(), "z9hG4bKsf0003.t0001234500000007.00000000feedface");
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
    const our_branch b = our_branch::stateless(1, 0xabc, 0x55);
    EXPECT_TRUE(b.text().starts_with(magic_cookie));
    std::uint32_t shard = 0, slot = 0, generation = 0;
    ASSERT_TRUE(branch_shard(b.text(), 2, shard));
    EXPECT_EQ(shard, 1u);
    EXPECT_FALSE(branch_transaction(b.text(), slot, generation));
    EXPECT_TRUE(branch_has_loop_hash(b.text(), 0x55));
}

TEST(Branch, OthersBranchesAreNotOurs) {
    std::uint32_t shard = 0, slot = 0, generation = 0;
    for (const std::string_view b : {"z9hG4bK776asdhds", "", "z9hG4bKsf", "z9hG4bKsfzzzz.t0000000100000001.0",
                                     "z9hG4bKsf0001.tXXXXXXXX00000001.00000000000000aa"}) {
        EXPECT_FALSE(branch_transaction(b, slot, generation)) << b;
    }
    EXPECT_FALSE(branch_shard("z9hG4bK776asdhds", 4, shard));
}

} // namespace
} // namespace sipfast::txn
