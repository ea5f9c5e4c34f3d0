// SPDX-License-Identifier: Apache-2.0
// Proves a call allocates nothing once the caller and callee are built: a thousand calls from
// INVITE to the 200 of the BYE, with their timers, counted by malloc_count. (Not built under
// sanitizers, which own malloc.)
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "malloc_count.hpp"
#include "sipfast/loadgen/uac.hpp"
#include "sipfast/loadgen/uas.hpp"

namespace sipfast::loadgen {
namespace {

// Datagrams in flight between the two, in fixed memory.
struct wire {
    std::array<std::array<char, 4096>, 256> data{};
    std::array<std::size_t, 256> len{};
    std::size_t count = 0;
    bool overflow = false;
    static void take(void* self, std::span<const datagram> batch) noexcept {
        auto* w = static_cast<wire*>(self);
        for (const datagram& d : batch) {
            if (w->count == w->data.size() || d.text.size() > w->data[0].size()) {
                w->overflow = true;
                continue;
            }
            std::memcpy(w->data[w->count].data(), d.text.data(), d.text.size());
            w->len[w->count++] = d.text.size();
        }
    }
};

TEST(CallAllocations, ACallAllocatesNothing) {
    core::net_address at;
    ASSERT_TRUE(core::parse_ip("127.0.0.1", at));
    at.port = 5070;
    uac_stats us;
    uas_stats ss;
    uac_config uc;
    uc.local_port = 40000;
    uc.target = at;
    uc.capacity = 64;
    std::uint64_t now = 1'000'000'000;
    uac caller(uc, us, now);
    uas callee(uas_config{}, ss, now);
    auto to_callee = std::make_unique<wire>();
    auto to_caller = std::make_unique<wire>();
    outbox caller_out(64, &wire::take, to_callee.get()), callee_out(64, &wire::take, to_caller.get());

    counting = true;
    void* probe = std::malloc(16);  // the counter sees allocations at all
    std::free(probe);
    const long before = allocations.load();
    for (int round = 0; round < 100; ++round) {
        now += 1'000'000;
        for (int i = 0; i < 10; ++i) (void)caller.start_call(now, caller_out);
        for (int turn = 0; turn < 10 && caller.in_progress() != 0; ++turn) {
            caller_out.flush();  // each side writes only to the other's wire while reading its own
            for (std::size_t k = 0; k < to_callee->count; ++k)
                callee.on_datagram({to_callee->data[k].data(), to_callee->len[k]}, at, now, callee_out);
            to_callee->count = 0;
            callee_out.flush();
            for (std::size_t k = 0; k < to_caller->count; ++k)
                caller.on_datagram({to_caller->data[k].data(), to_caller->len[k]}, now, caller_out);
            to_caller->count = 0;
        }
        caller.advance(now, caller_out);
        callee.advance(now, callee_out);
    }
    const long during = allocations.load() - before;
    counting = false;
    EXPECT_GT(before, 0);
    EXPECT_EQ(during, 0);
    EXPECT_FALSE(to_callee->overflow || to_caller->overflow);
    EXPECT_EQ(us.completed.get(), 1000u);
    EXPECT_EQ(ss.completed.get(), 1000u);
    EXPECT_EQ(us.failures(), 0u);
    EXPECT_EQ(us.ended_by_peer.get(), 0u);
}

} // namespace
} // namespace sipfast::loadgen
