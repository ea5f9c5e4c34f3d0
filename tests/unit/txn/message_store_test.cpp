// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/message_store.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sipfast::txn {
namespace {

TEST(MessageStore, KeepsACopySizedToItsClass) {
    message_store s(1 << 20);
    stored h;
    ASSERT_TRUE(s.put("INVITE sip:bob@example.com SIP/2.0\r\n\r\n", h));
    EXPECT_EQ(s.view(h), "INVITE sip:bob@example.com SIP/2.0\r\n\r\n");
    EXPECT_EQ(s.bytes_in_use(), 256u);
    s.release(h);
    EXPECT_TRUE(h.empty());
    EXPECT_EQ(s.bytes_in_use(), 0u);
    s.release(h);  // twice is harmless
    EXPECT_EQ(s.bytes_in_use(), 0u);
}

TEST(MessageStore, ClassesLeaveRoomForTheParsersPadding) {
    // Each row: message length, the block that holds it with 64 bytes of padding after it.
    const struct {
        std::size_t len, block;
    } rows[] = {{0, 256}, {192, 256}, {193, 512}, {448, 512}, {449, 1024}, {4000, 4096}, {4033, 8192},
                {65535, 131072}, {message_store::max_message, 131072}, {message_store::max_message + 1, 0}};
    for (const auto& r : rows) EXPECT_EQ(message_store::block_for(r.len), r.block) << r.len;
}

TEST(MessageStore, FreedBlocksAreReusedAndCarvingStopsAtTheBudget) {
    message_store s(4 * message_store::chunk_bytes);
    std::vector<stored> held;
    // 4 chunks of 128 kB hold 16 blocks of 32 kB, and no more.
    for (int i = 0; i < 16; ++i) {
        stored h;
        ASSERT_NE(s.allocate(20000, h), nullptr) << i;
        held.push_back(h);
    }
    stored extra;
    EXPECT_EQ(s.allocate(20000, extra), nullptr);
    EXPECT_EQ(s.allocate(10, extra), nullptr);  // no chunk left for another class either
    EXPECT_EQ(s.refused(), 2u);
    s.release(held[3]);
    ASSERT_NE(s.allocate(30000, extra), nullptr);  // the freed block, same class
    EXPECT_EQ(s.bytes_carved(), s.capacity());
}

TEST(MessageStore, CopiesDoNotOverlap) {
    message_store s(64 * message_store::chunk_bytes);
    std::vector<stored> held;
    for (int i = 0; i < 200; ++i) {
        stored h;
        const std::string text(static_cast<std::size_t>(100 + i * 37), static_cast<char>('a' + i % 26));
        ASSERT_TRUE(s.put(text, h)) << i;
        held.push_back(h);
        if (i % 3 == 0) s.release(held[static_cast<std::size_t>(i / 2)]);
    }
    for (int i = 0; i < 200; ++i) {
        const stored& h = held[static_cast<std::size_t>(i)];
        if (h.empty()) continue;
        EXPECT_EQ(s.view(h), std::string(static_cast<std::size_t>(100 + i * 37), static_cast<char>('a' + i % 26))) << i;
    }
}

TEST(MessageStore, LargeMessagesUpToTheStreamLimitFit) {
    message_store s(2 * message_store::chunk_bytes);
    stored h;
    const std::string big(65535, 'x');
    ASSERT_TRUE(s.put(big, h));
    EXPECT_EQ(s.view(h).size(), 65535u);
    stored too_big;
    EXPECT_EQ(s.allocate(message_store::max_message + 1, too_big), nullptr);
}

} // namespace
} // namespace sipfast::txn
