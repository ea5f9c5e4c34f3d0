// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-core: the structures under every message, each against what one would reach for
// instead, in one run (bench/RESULTS.md, "Core structures"):
// - a shard's transaction table (core::shard_table: fixed slab, open addressing, one writer) against
//   TBB's concurrent_hash_map and std::unordered_map, under the churn a proxy puts on it: every
//   transaction inserted, found again by its responses, then erased, with N others alive;
// - the SPSC mailbox between shards (core::spsc_ring), one thread and across two threads;
// - the timer wheel (core::timer_wheel): a timer set and cancelled (a transaction answered in time),
//   and a timer set and fired.
#include <benchmark/benchmark.h>

#include <tbb/concurrent_hash_map.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/core/shard_table.hpp"
#include "sipfast/core/spsc_ring.hpp"
#include "sipfast/core/timer_wheel.hpp"

namespace {

using namespace sipfast;

/// What a transaction slot holds besides its key, roughly: state, timers, where it goes.
struct slot_value {
    std::array<std::uint64_t, 8> words{};
};

/// Keys shaped like a transaction key (branch and sent-by), 2N of them, so N stay alive while the
/// oldest is erased and a new one inserted.
std::vector<std::string> keys(std::size_t n) {
    std::vector<std::string> k;
    k.reserve(2 * n);
    for (std::size_t i = 0; i < 2 * n; ++i)
        k.push_back("z9hG4bK" + std::to_string(0x9e3779b97f4a7c15ull * (i + 1)) + "|198.18.0.9:5070|INVITE");
    return k;
}

// One transaction's life against N alive: insert, two finds (its response and ACK), erase the oldest.
void BM_TableShard(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::string> k = keys(n);
    // Hashed at each use, as each message's key is (the others hash inside the container).
    const auto key = [&](std::size_t i) { return core::table_key{core::call_id_hash(k[i]), k[i]}; };
    core::shard_table<slot_value> table(n + 1);
    for (std::size_t i = 0; i < n; ++i) (void)table.insert(key(i));
    std::size_t next = n;
    for (auto _ : state) {
        const std::size_t in = next % k.size(), out = (next + k.size() - n) % k.size();
        benchmark::DoNotOptimize(table.insert(key(in)));
        benchmark::DoNotOptimize(table.find(key(in)));
        benchmark::DoNotOptimize(table.find(key(in)));
        table.erase(key(out));
        ++next;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableShard)->Arg(1024)->Arg(65536);

void BM_TableTbbConcurrentHashMap(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::string> k = keys(n);
    tbb::concurrent_hash_map<std::string, slot_value> table(2 * n);
    for (std::size_t i = 0; i < n; ++i) table.insert({k[i], slot_value{}});
    std::size_t next = n;
    for (auto _ : state) {
        const std::size_t in = next % k.size(), out = (next + k.size() - n) % k.size();
        {
            tbb::concurrent_hash_map<std::string, slot_value>::accessor a;
            benchmark::DoNotOptimize(table.insert(a, k[in]));
        }
        for (int i = 0; i < 2; ++i) {
            tbb::concurrent_hash_map<std::string, slot_value>::const_accessor a;
            benchmark::DoNotOptimize(table.find(a, k[in]));
        }
        table.erase(k[out]);
        ++next;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableTbbConcurrentHashMap)->Arg(1024)->Arg(65536);

void BM_TableStdUnorderedMap(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::vector<std::string> k = keys(n);
    std::unordered_map<std::string, slot_value> table;
    table.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) table.emplace(k[i], slot_value{});
    std::size_t next = n;
    for (auto _ : state) {
        const std::size_t in = next % k.size(), out = (next + k.size() - n) % k.size();
        benchmark::DoNotOptimize(table.emplace(k[in], slot_value{}));
        benchmark::DoNotOptimize(table.find(k[in]));
        benchmark::DoNotOptimize(table.find(k[in]));
        table.erase(k[out]);
        ++next;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableStdUnorderedMap)->Arg(1024)->Arg(65536);

/// A mailbox item: a handed-over message's reference, as shards pass them.
struct mail {
    std::array<std::uint64_t, 4> words{};
};

// Push, publish and consume on one thread: the ring's own cost per item, no cache line moving.
void BM_MailboxOneThread(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    core::spsc_ring<mail> ring(1024);
    std::uint64_t sum = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < batch; ++i) (void)ring.try_push(mail{{i, 0, 0, 0}});
        ring.publish();
        ring.consume([&](const mail& m) { sum += m.words[0]; });
    }
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(BM_MailboxOneThread)->Arg(1)->Arg(32);

// A producer thread publishing batches, this thread consuming: items per second across cores,
// each batch's cache lines moving once.
void BM_MailboxTwoThreads(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    core::spsc_ring<mail> ring(4096);
    std::atomic<bool> stop{false};
    std::thread producer([&] {
        std::uint64_t i = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            for (std::size_t b = 0; b < batch; ++b)
                if (!ring.try_push(mail{{++i, 0, 0, 0}})) break;
            ring.publish();
        }
    });
    std::uint64_t taken = 0, sum = 0;
    for (auto _ : state) {
        std::size_t got = 0;
        while (got == 0) got = ring.consume([&](const mail& m) { sum += m.words[0]; }, batch);
        taken += got;
    }
    stop = true;
    producer.join();
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(static_cast<std::int64_t>(taken));
}
BENCHMARK(BM_MailboxTwoThreads)->Arg(32)->UseRealTime();

// Timer B/F set when a request is forwarded, cancelled when its final answer comes: the common case.
void BM_TimerScheduleCancel(benchmark::State& state) {
    core::timer_wheel wheel(1 << 16, 1'000'000, 0);
    std::uint64_t now = 0;
    for (auto _ : state) {
        const core::timer_handle h = wheel.schedule(now + 32'000'000'000, 7);
        benchmark::DoNotOptimize(wheel.cancel(h));
        now += 10'000;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerScheduleCancel);

// Timers that fire (Timer K, J: a completed transaction's end), the clock advanced a tick at a time
// with `state.range(0)` timers due per tick.
void BM_TimerScheduleFire(benchmark::State& state) {
    const auto per_tick = static_cast<std::size_t>(state.range(0));
    core::timer_wheel wheel(1 << 16, 1'000'000, 0);
    std::uint64_t now = 0, fired = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < per_tick; ++i) (void)wheel.schedule(now + 5'000'000, i);
        now += 1'000'000;
        fired += wheel.advance(now, [](std::uint64_t) {});
    }
    benchmark::DoNotOptimize(fired);
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(per_tick));
}
BENCHMARK(BM_TimerScheduleFire)->Arg(1)->Arg(64);

// One tick of a shard under stateful load, 48 000 calls/s (half of what one lcore sustains
// statefully): every millisecond 48 BYEs start Timer J on their server side (32 s, 64*T1) and
// Timer K on their client side (5 s, T4), and as many of each end; 1.8 M are pending. Nodes freed at
// different ages are reused in the order they were freed, so a bucket's nodes lie all over the
// slab, as a shard's do. What one advance costs, with `state.range(0)` buckets: the work is the
// turn's, and every message received in that turn waits for it.
void BM_TimerTickUnderLoad(benchmark::State& state) {
    constexpr std::uint64_t ms = 1'000'000;
    constexpr std::size_t per_tick = 48;
    constexpr std::uint64_t timer_j = 32'000 * ms, timer_k = 5'000 * ms;
    core::timer_wheel wheel(std::size_t{1} << 22, ms, 0, static_cast<std::size_t>(state.range(0)));
    std::uint64_t now = 0, fired = 0;
    const auto tick = [&] {
        for (std::size_t i = 0; i < per_tick; ++i) {
            (void)wheel.schedule(now + timer_j, i);
            (void)wheel.schedule(now + timer_k, i);
        }
        now += ms;
        fired += wheel.advance(now, [](std::uint64_t) {});
    };
    for (std::uint64_t t = 0; t < timer_j / ms + 8; ++t) tick();  // the steady state: a lifetime's worth pending
    for (auto _ : state) tick();
    benchmark::DoNotOptimize(fired);
    state.counters["pending"] = static_cast<double>(wheel.active());
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TimerTickUnderLoad)->Arg(4096)->Arg(32768)->Unit(benchmark::kMicrosecond);

} // namespace

BENCHMARK_MAIN();
