// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/shard.hpp"

#include <gtest/gtest.h>

#include <string>

#include "proxy_test_util.hpp"
#include "sipfast/core/shard_hash.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::crlf;

std::string invite(const std::string& call_id, const std::string& padding = "") {
    return crlf("INVITE sip:bob@example.com SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bK-" + call_id + ";rport\n"
                "Max-Forwards: 70\nFrom: <sip:alice@example.com>;tag=a\nTo: <sip:bob@example.com>\n"
                "Call-ID: " + call_id + "\nCSeq: 1 INVITE\n" + padding + "Content-Length: 0\n\n");
}

// A call-ID that hashes to shard `owner` of 2.
std::string call_owned_by(std::uint32_t owner, int& seed) {
    for (;; ++seed) {
        std::string id = "call-" + std::to_string(seed);
        if (core::owner_shard(id, 2) == owner) {
            ++seed;
            return id;
        }
    }
}

struct two_shards {
    proxy_config config = small(test::test_config(proxy_mode::stateful));
    mail_hub hub{2, std::size_t{1} << 20};
    static proxy_config small(proxy_config c) {
        c.memory_per_shard = std::size_t{16} << 20;
        return c;
    }
    std::size_t sent[2] = {0, 0};
    struct sink {
        two_shards* self;
        int index;
    } sinks[2] = {{this, 0}, {this, 1}};
    static void send(void* ctx, outbox& box) {
        auto* s = static_cast<sink*>(ctx);
        s->self->sent[s->index] += box.size();
        box.clear();
    }
    shard a{config, 0, &hub, nullptr, 0, &send, &sinks[0]};
    shard b{config, 1, &hub, nullptr, 0, &send, &sinks[1]};
};

TEST(Shard, AMessageOfAnotherShardIsHandedOverOnceAndHandledThere) {
    two_shards t;
    int seed = 0;
    const std::string msg = invite(call_owned_by(1, seed));
    t.a.on_packet(inbound{msg, test::addr("198.18.0.9:5070"), &t.config.listen[0]}, 0);
    EXPECT_TRUE(t.a.out().empty());
    EXPECT_EQ(t.a.stats().mailbox_hops, 1u);
    EXPECT_FALSE(t.b.on_mail(0));  // not published yet
    t.a.end_turn();
    EXPECT_FALSE(t.b.on_mail(0));
    EXPECT_EQ(t.b.out().size(), 2u);  // 100 Trying and the forward
    EXPECT_EQ(t.b.stats().transactions_created, 1u);
}

TEST(Shard, MailIsTakenInBoundedBatchesAndTheOutboxNeverOverflows) {
    // A mailbox that filled while its owner was away: more than an outbox holds. Each batch's
    // output goes out through the backend's send whenever the outbox fills; nothing is dropped.
    two_shards t;
    int seed = 0;
    const int calls = 400;
    for (int i = 0; i < calls; ++i) {
        const std::string msg = invite(call_owned_by(1, seed));
        ASSERT_TRUE(t.a.ready_for_input(msg.size() + 256)) << i;
        t.a.on_packet(inbound{msg, test::addr("198.18.0.9:5070"), &t.config.listen[0]}, 0);
    }
    t.a.end_turn();
    int turns = 0;
    while (t.b.on_mail(0)) ++turns;
    EXPECT_GE(turns, calls / static_cast<int>(shard::mail_batch) - 1);
    EXPECT_EQ(t.sent[1] + t.b.out().size(), 2u * calls);
    EXPECT_EQ(t.b.stats().dropped(drop_cause::outbox_full), 0u);
    EXPECT_EQ(t.a.stats().dropped(drop_cause::mailbox_full), 0u);
}

TEST(Shard, AFullMailboxStopsInputBeforeItDrops) {
    two_shards t;
    int seed = 0;
    const std::string pad = "X-Pad: " + std::string(3000, 'p') + "\r\n";
    int accepted = 0;
    while (t.a.ready_for_input(128 << 10)) {
        const std::string msg = invite(call_owned_by(1, seed), pad);
        t.a.on_packet(inbound{msg, test::addr("198.18.0.9:5070"), &t.config.listen[0]}, 0);
        ++accepted;
        ASSERT_LT(accepted, 1000);
    }
    EXPECT_EQ(t.a.stats().dropped(drop_cause::mailbox_full), 0u);
    t.a.end_turn();
    while (t.b.on_mail(0)) {
    }
    EXPECT_TRUE(t.a.ready_for_input(128 << 10));  // drained: input resumes
    EXPECT_EQ(t.b.stats().transactions_created, static_cast<std::uint64_t>(accepted));
}

TEST(Shard, MessagesUpTo64kBCrossTheMailbox) {
    two_shards t;
    int seed = 0;
    const std::string msg = invite(call_owned_by(1, seed), "X-Pad: " + std::string(60000, 'p') + "\r\n");
    t.a.on_packet(inbound{msg, test::addr("198.18.0.9:5070"), &t.config.listen[0]}, 0);
    t.a.end_turn();
    (void)t.b.on_mail(0);
    EXPECT_EQ(t.b.stats().transactions_created, 1u);
}

} // namespace
} // namespace sipfast::proxy
