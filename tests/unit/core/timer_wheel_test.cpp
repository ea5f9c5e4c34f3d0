// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <random>
#include <vector>

namespace sipfast::core {
namespace {

constexpr std::uint64_t ms = 1'000'000;

TEST(TimerWheel, FiresAtTheDeadlineNeverBefore) {
    timer_wheel w(16, 1 * ms, 0);
    std::vector<std::uint64_t> fired;
    auto record = [&](std::uint64_t c) { fired.push_back(c); };
    ASSERT_TRUE(w.schedule(500 * ms, 1).valid());  // Timer A, T1
    ASSERT_TRUE(w.schedule(32000 * ms, 2).valid());  // Timer B, 64*T1
    w.advance(499 * ms, record);
    EXPECT_TRUE(fired.empty());
    w.advance(500 * ms, record);
    EXPECT_EQ(fired, (std::vector<std::uint64_t>{1}));
    w.advance(31999 * ms, record);
    EXPECT_EQ(fired.size(), 1u);
    w.advance(32000 * ms, record);
    EXPECT_EQ(fired, (std::vector<std::uint64_t>{1, 2}));
    EXPECT_EQ(w.active(), 0u);
}

TEST(TimerWheel, CancelledAndStaleHandlesDoNothing) {
    timer_wheel w(4, 1 * ms, 0);
    const timer_handle a = w.schedule(10 * ms, 7);
    EXPECT_TRUE(w.cancel(a));
    EXPECT_FALSE(w.cancel(a));
    const timer_handle b = w.schedule(10 * ms, 8);  // reuses a's slot with a new generation
    EXPECT_EQ(b.index, a.index);
    EXPECT_FALSE(w.cancel(a));
    std::vector<std::uint64_t> fired;
    w.advance(20 * ms, [&](std::uint64_t c) { fired.push_back(c); });
    EXPECT_EQ(fired, (std::vector<std::uint64_t>{8}));
    EXPECT_FALSE(w.cancel(b));
    EXPECT_FALSE(w.cancel(timer_handle{}));
}

TEST(TimerWheel, StopCancelsAndForgetsAndPendingTellsWhatIsLeft) {
    timer_wheel w(4, 1 * ms, 0);
    timer_handle a = w.schedule(10 * ms, 7);
    const timer_handle b = w.schedule(10 * ms, 8);
    EXPECT_TRUE(w.pending(a));
    w.stop(a);
    EXPECT_FALSE(a.valid());
    EXPECT_FALSE(w.pending(a));
    EXPECT_EQ(w.active(), 1u);
    w.stop(a);  // a forgotten handle stops nothing
    EXPECT_EQ(w.active(), 1u);
    // A stale copy of a handle whose slot another timer took is not that timer.
    timer_handle old = b;
    std::vector<std::uint64_t> fired;
    w.advance(10 * ms, [&](std::uint64_t c) { fired.push_back(c); });
    EXPECT_EQ(fired, (std::vector<std::uint64_t>{8}));
    EXPECT_FALSE(w.pending(b));
    const timer_handle c = w.schedule(20 * ms, 9);
    EXPECT_TRUE(w.pending(c));
    EXPECT_FALSE(w.pending(old));
    w.stop(old);
    EXPECT_TRUE(w.pending(c));
    EXPECT_EQ(w.active(), 1u);
    EXPECT_FALSE(w.pending(timer_handle{}));
}

TEST(TimerWheel, FullSlabRefuses) {
    timer_wheel w(2, 1 * ms, 0);
    EXPECT_TRUE(w.schedule(5 * ms, 1).valid());
    EXPECT_TRUE(w.schedule(5 * ms, 2).valid());
    EXPECT_FALSE(w.schedule(5 * ms, 3).valid());
    w.advance(5 * ms, [](std::uint64_t) {});
    EXPECT_TRUE(w.schedule(6 * ms, 3).valid());
}

TEST(TimerWheel, CallbacksMayRescheduleAndCancel) {
    // Timer E doubling from T1 up to T2 until Timer F, as a non-INVITE client transaction does
    // (RFC 3261 §17.1.2.2).
    timer_wheel w(8, 1 * ms, 0);
    std::uint64_t interval = 500 * ms;
    int retransmits = 0;
    timer_handle a = w.schedule(interval, 'A');
    const timer_handle b = w.schedule(32000 * ms, 'B');
    bool timed_out = false;
    for (std::uint64_t now = 0; now <= 40000 * ms; now += 10 * ms) {
        w.advance(now, [&](std::uint64_t c) {
            if (c == 'A') {
                ++retransmits;
                interval = std::min(interval * 2, 4000 * ms);
                a = w.schedule(w.now_ns() + interval, 'A');
            } else {
                timed_out = true;
                w.cancel(a);
            }
        });
    }
    EXPECT_TRUE(timed_out);
    // E fires at 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5 and 31.5 s: 10 times before F at 32 s.
    EXPECT_EQ(retransmits, 10);
    EXPECT_EQ(w.active(), 0u);
    EXPECT_FALSE(w.cancel(b));
}

TEST(TimerWheel, HoursOfRandomTimersEachFireOnceInOrder) {
    std::mt19937_64 rng(42);
    timer_wheel w(20000, 1 * ms, 0, 1024);
    std::map<std::uint64_t, std::uint64_t> deadline_of;  // cookie -> deadline
    std::multiset<std::uint64_t> pending;                // deadlines not fired or cancelled
    std::vector<std::pair<std::uint64_t, timer_handle>> live;
    std::uint64_t now = 0, cookie = 0, last_deadline = 0;
    std::size_t fired = 0, cancelled = 0;
    bool ok = true;
    const auto on_expire = [&](std::uint64_t c) {
        const auto it = deadline_of.find(c);
        ok = ok && it != deadline_of.end() && it->second <= now && it->second + 1 * ms > last_deadline;
        last_deadline = std::max(last_deadline, it == deadline_of.end() ? 0 : it->second);
        if (it != deadline_of.end()) {
            pending.erase(pending.find(it->second));
            deadline_of.erase(it);
        }
        ++fired;
    };
    for (int step = 0; step < 200000; ++step) {
        const auto r = rng() % 10;
        if (r < 6 && w.active() < w.capacity()) {
            const std::uint64_t d = now + (rng() % (200000 * ms));  // up to 200 s out (Timer C range)
            const timer_handle h = w.schedule(d, ++cookie);
            ASSERT_TRUE(h.valid());
            deadline_of[cookie] = d;
            pending.insert(d);
            live.emplace_back(cookie, h);
        } else if (r < 7 && !live.empty()) {
            const std::size_t k = rng() % live.size();
            if (w.cancel(live[k].second)) {
                pending.erase(pending.find(deadline_of[live[k].first]));
                deadline_of.erase(live[k].first);
                ++cancelled;
            }
            live[k] = live.back();
            live.pop_back();
        } else {
            now += rng() % (200 * ms);
            last_deadline = 0;
            w.advance(now, on_expire);
            // Never late: whatever is still pending is due after the last whole tick.
            ok = ok && (pending.empty() || *pending.begin() > now / ms * ms);
        }
    }
    now += 300000 * ms;
    last_deadline = 0;
    w.advance(now, on_expire);
    EXPECT_TRUE(ok);
    EXPECT_TRUE(deadline_of.empty());
    EXPECT_EQ(w.active(), 0u);
    EXPECT_GT(fired, 50000u);
    EXPECT_GT(cancelled, 1000u);
    EXPECT_GT(now, 3600 * 1000 * ms);  // more than an hour of protocol time
}

} // namespace
} // namespace sipfast::core
