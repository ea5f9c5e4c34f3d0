// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/shard_table.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

#include "sipfast/core/shard_hash.hpp"

namespace sipfast::core {
namespace {

struct txn {
    int state = 0;
    std::uint64_t data = 0;
};

table_key key(const std::string& s) { return table_key{call_id_hash(s), s}; }

TEST(ShardTable, InsertFindErase) {
    shard_table<txn> t(4);
    txn* a = t.insert(key("z9hG4bK1@198.18.0.9:5070"));
    ASSERT_NE(a, nullptr);
    a->state = 7;
    EXPECT_EQ(t.insert(key("z9hG4bK1@198.18.0.9:5070")), nullptr);  // present already
    EXPECT_EQ(t.find(key("z9hG4bK1@198.18.0.9:5070"))->state, 7);
    EXPECT_EQ(t.find(key("z9hG4bK2@198.18.0.9:5070")), nullptr);
    const std::uint32_t i = t.index_of(a);
    EXPECT_EQ(t.at(i), a);
    EXPECT_TRUE(t.erase(key("z9hG4bK1@198.18.0.9:5070")));
    EXPECT_FALSE(t.erase(key("z9hG4bK1@198.18.0.9:5070")));
    EXPECT_EQ(t.at(i), nullptr);
    EXPECT_EQ(t.size(), 0u);
}

TEST(ShardTable, FullTableAndLongKeysAreRefused) {
    shard_table<txn, 16> t(3);
    ASSERT_NE(t.insert(key("a")), nullptr);
    ASSERT_NE(t.insert(key("b")), nullptr);
    ASSERT_NE(t.insert(key("c")), nullptr);
    EXPECT_EQ(t.insert(key("d")), nullptr);
    EXPECT_TRUE(t.erase(key("b")));
    EXPECT_NE(t.insert(key("d")), nullptr);
    EXPECT_EQ(t.insert(key(std::string(17, 'x'))), nullptr);
}

TEST(ShardTable, CollidingHashesAreToldApartByTheirBytes) {
    shard_table<txn> t(8);
    // Same hash, different keys: the full compare keeps them apart, and erasing one keeps the other.
    ASSERT_NE(t.insert(table_key{42, "one"}), nullptr);
    ASSERT_NE(t.insert(table_key{42, "two"}), nullptr);
    t.find(table_key{42, "two"})->state = 2;
    EXPECT_TRUE(t.erase(table_key{42, "one"}));
    ASSERT_NE(t.find(table_key{42, "two"}), nullptr);
    EXPECT_EQ(t.find(table_key{42, "two"})->state, 2);
}

TEST(ShardTable, MatchesAModelUnderChurn) {
    // Inserts and erases at random against std::unordered_map, with keys whose hashes crowd a few
    // buckets so backward-shift deletion is exercised across wrap-around.
    std::mt19937_64 rng(5);
    shard_table<txn> t(512);
    std::unordered_map<std::string, std::uint64_t> model;
    for (int step = 0; step < 200000; ++step) {
        // Appended rather than "k" + to_string(...): GCC 12 at -O3 warns a bogus -Wrestrict on the
        // literal-plus-temporary form (GCC bug 105329).
        std::string k = "k";
        k += std::to_string(rng() % 1500);
        // A third of the keys share one hash whose home is the last bucket: long probe runs that wrap.
        const table_key stable{call_id_hash(k) % 3 == 0 ? (0xabcdull << 32) | 1023 : call_id_hash(k), k};
        const auto it = model.find(k);
        if (rng() % 2 == 0) {
            txn* v = t.insert(stable);
            if (it != model.end()) {
                ASSERT_EQ(v, nullptr);
            } else if (model.size() < t.capacity()) {
                ASSERT_NE(v, nullptr);
                v->data = rng();
                model[k] = v->data;
            } else {
                ASSERT_EQ(v, nullptr);
            }
        } else {
            ASSERT_EQ(t.erase(stable), it != model.end());
            if (it != model.end()) model.erase(it);
        }
        ASSERT_EQ(t.size(), model.size());
    }
    for (const auto& [k, v] : model) {
        const table_key stable{call_id_hash(k) % 3 == 0 ? (0xabcdull << 32) | 1023 : call_id_hash(k), k};
        const txn* found = t.find(stable);
        ASSERT_NE(found, nullptr) << k;
        EXPECT_EQ(found->data, v);
    }
}

} // namespace
} // namespace sipfast::core
