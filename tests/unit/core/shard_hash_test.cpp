// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/shard_hash.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipfast::core {
namespace {

TEST(ShardHash, SameCallIdSameOwnerAlways) {
    const std::string id = "a84b4c76e66710@pc33.atlanta.com";
    EXPECT_EQ(call_id_hash(id), call_id_hash(std::string(id)));
    for (std::uint32_t n = 1; n <= 64; ++n) {
        EXPECT_LT(owner_shard(id, n), n);
        EXPECT_EQ(owner_shard(id, n), owner_shard(std::string(id), n));
    }
    EXPECT_EQ(owner_shard(id, 1), 0u);
    EXPECT_NE(call_id_hash(id), call_id_hash("a84b4c76e66711@pc33.atlanta.com"));
}

TEST(ShardHash, SpreadsCallsEvenlyOverShards) {
    // Sequential Call-IDs, as load generators make them, must still spread: every shard within
    // 10 % of its fair share over 80 000 calls.
    for (std::uint32_t shards : {2u, 3u, 4u, 8u}) {
        std::vector<int> count(shards, 0);
        const int calls = 80000;
        for (int i = 0; i < calls; ++i) ++count[owner_shard("call-" + std::to_string(i) + "@198.18.0.1", shards)];
        for (std::uint32_t s = 0; s < shards; ++s) {
            EXPECT_GT(count[s], calls / static_cast<int>(shards) * 9 / 10) << shards << " shards, shard " << s;
            EXPECT_LT(count[s], calls / static_cast<int>(shards) * 11 / 10) << shards << " shards, shard " << s;
        }
    }
}

} // namespace
} // namespace sipfast::core
