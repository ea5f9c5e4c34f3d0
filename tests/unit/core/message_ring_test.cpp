// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/message_ring.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace sipfast::core {
namespace {

bool push(message_ring& r, const std::string& s) {
    unsigned char* p = r.claim(s.size());
    if (p == nullptr) return false;
    std::memcpy(p, s.data(), s.size());
    r.push_claimed();
    return true;
}

std::vector<std::string> take(message_ring& r, std::size_t max = ~std::size_t{0}) {
    std::vector<std::string> got;
    r.consume([&](std::span<const unsigned char> b) { got.emplace_back(reinterpret_cast<const char*>(b.data()), b.size()); },
              max);
    return got;
}

TEST(MessageRing, RecordsOfAnySizeInOrderOncePublished) {
    message_ring r(4096);
    ASSERT_TRUE(push(r, "INVITE"));
    ASSERT_TRUE(push(r, std::string(1000, 'x')));
    ASSERT_TRUE(push(r, ""));
    EXPECT_TRUE(take(r).empty());  // staged, not yet visible
    r.publish();
    const std::vector<std::string> got = take(r);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0], "INVITE");
    EXPECT_EQ(got[1], std::string(1000, 'x'));
    EXPECT_EQ(got[2], "");
}

TEST(MessageRing, AFullRingRefusesAndFreedRoomIsReused) {
    message_ring r(4096);
    int n = 0;
    while (push(r, std::string(500, 'a'))) ++n;
    EXPECT_EQ(n, 8);  // 8 × (500 + header, 8-aligned) fill 4 kB
    r.publish();
    EXPECT_EQ(take(r, 3).size(), 3u);
    EXPECT_TRUE(push(r, std::string(500, 'b')));  // wraps: the record never straddles the end
    r.publish();
    const std::vector<std::string> rest = take(r);
    ASSERT_EQ(rest.size(), 6u);
    EXPECT_EQ(rest.back(), std::string(500, 'b'));
    EXPECT_EQ(r.claim(r.max_record() + 1), nullptr);
}

TEST(MessageRing, OneProducerOneConsumerLoseNothing) {
    message_ring r(1 << 16);
    constexpr int count = 200000;
    std::thread producer([&] {
        for (int i = 0; i < count;) {
            const std::string s = std::to_string(i) + std::string(static_cast<std::size_t>(i % 300), '.');
            if (push(r, s)) {
                ++i;
                if (i % 16 == 0) r.publish();
            } else {
                r.publish();
            }
        }
        r.publish();
    });
    int expect = 0;
    while (expect < count) {
        r.consume([&](std::span<const unsigned char> b) {
            const std::string s(reinterpret_cast<const char*>(b.data()), b.size());
            ASSERT_EQ(s, std::to_string(expect) + std::string(static_cast<std::size_t>(expect % 300), '.'));
            ++expect;
        });
    }
    producer.join();
}

} // namespace
} // namespace sipfast::core
