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

// One shard, no hub, with [limits]: what leaves it toward each address is summed.
struct limited_shard {
    proxy_config config = two_shards::small(test::test_config(proxy_mode::stateful));
    std::size_t bytes_to_stranger = 0;
    std::size_t messages_out = 0;
    static void send(void* ctx, outbox& box) {
        auto* self = static_cast<limited_shard*>(ctx);
        for (std::size_t i = 0; i < box.size(); ++i) {
            ++self->messages_out;
            if (box[i].destination.ip == test::addr("203.0.113.7:5060").ip) self->bytes_to_stranger += box[i].size;
        }
        box.clear();
    }
    explicit limited_shard(const core::source_limits& l) { config.limits = l; }
    shard make() { return shard{config, 0, nullptr, nullptr, 0, &send, this}; }
};

TEST(Shard, ASourceOverItsRateIsShedUnparsedAndCostsNoOneElse) {
    limited_shard t({10, 10, 0, 0, 0});
    shard s = t.make();
    const auto from = [&](const char* a, int n, const std::string& tag) {
        for (int i = 0; i < n; ++i)
            s.on_packet(inbound{invite(tag + std::to_string(i)), test::addr(a), &t.config.listen[0]}, 1'000'000);
    };
    from("203.0.113.7:5060", 1000, "flood-");
    EXPECT_EQ(s.stats().requests(), 10u);  // the burst; the rest was never parsed
    EXPECT_EQ(s.stats().dropped(drop_cause::rate_limited), 990u);
    from("203.0.113.7:5999", 10, "other-port-");  // another port of the same address: the same budget
    EXPECT_EQ(s.stats().requests(), 10u);
    from("203.0.113.8:5060", 10, "neighbour-");
    EXPECT_EQ(s.stats().requests(), 20u);
    from("198.18.0.9:5070", 1000, "peer-");  // a [[peer]] is not counted
    EXPECT_EQ(s.stats().requests(), 1020u);
}

TEST(Shard, OurAnswersTowardAnAddressSpendItsByteBudget) {
    // Requests from a forged source, each answered 404 by us: what we send toward that address is
    // bounded by its byte budget, however many requests name it.
    limited_shard t({0, 0, 4'000, 8'000, 0});
    shard s = t.make();
    const std::string options = crlf("OPTIONS sip:nobody@example.com SIP/2.0\n"
                                     "Via: SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK-o\n"
                                     "Max-Forwards: 70\nFrom: <sip:x@example.com>;tag=a\nTo: <sip:nobody@example.com>\n"
                                     "Call-ID: amplify\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
    std::uint64_t now = 1'000'000'000;
    for (int second = 0; second < 10; ++second, now += 1'000'000'000) {
        for (int i = 0; i < 100; ++i) s.on_packet(inbound{options, test::addr("203.0.113.7:5060"), &t.config.listen[0]}, now);
        limited_shard::send(&t, s.out());
    }
    EXPECT_GT(t.messages_out, 0u);  // it is answered, within its budget
    // Its requests and our answers share 4 000 bytes a second, plus the 8 000 of the first burst.
    EXPECT_LE(t.bytes_to_stranger + s.stats().requests() * options.size(), std::size_t{8'000 + 10 * 4'000});
    EXPECT_GT(s.stats().dropped(drop_cause::answer_limited) + s.stats().dropped(drop_cause::rate_limited), 900u);
}

} // namespace
} // namespace sipfast::proxy
