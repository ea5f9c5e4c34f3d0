// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-trust: what the trust pieces cost one message each, beside each other in one run
// (bench/RESULTS.md, "What trust costs"): the per-source limiter's check (one source, sources spread
// over a full table, a source being shed), our branch's MAC written and verified, the dialog mark.
// What they add to a whole message is sipfast-bench-pipeline --policy/--limits.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sipfast/core/source_limiter.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/txn/branch.hpp"

namespace {

using namespace sipfast;

core::net_address source(std::uint32_t n) {
    core::net_address a;
    a.family = 4;
    a.port = 5060;
    a.ip = {203, static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n)};
    return a;
}

// A source within its rate: the entry found at once, both buckets advanced.
void BM_LimiterOneSource(benchmark::State& state) {
    core::source_limiter l(16384, {4'000'000'000u, 4'000'000'000u, 4'000'000'000u, 4'000'000'000u, 0});
    const core::net_address a = source(1);
    std::uint64_t now = 1'000'000'000;
    for (auto _ : state) benchmark::DoNotOptimize(l.admit(a, 700, now += 1'000));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LimiterOneSource);

// Sources spread over a table larger than the caches: each check a cache miss or two.
void BM_LimiterManySources(benchmark::State& state) {
    const auto sources = static_cast<std::uint32_t>(state.range(0));
    core::source_limiter l(sources, {200, 400, 400'000, 800'000, 0});
    std::vector<core::net_address> from;
    for (std::uint32_t i = 0; i < sources; ++i) from.push_back(source(i * 2654435761u));
    std::uint64_t now = 1'000'000'000;
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(l.admit(from[i], 700, now += 100));
        if (++i == from.size()) i = 0;
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LimiterManySources)->Arg(1024)->Arg(16384)->Arg(262144);

// A source over its rate: what each datagram of a flood costs before it is dropped.
void BM_LimiterShed(benchmark::State& state) {
    core::source_limiter l(16384, {1, 1, 0, 0, 0});
    const core::net_address a = source(7);
    std::uint64_t now = 1'000'000'000;
    for (auto _ : state) benchmark::DoNotOptimize(l.admit(a, 700, now += 100));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LimiterShed);

const std::string call_id = "a84b4c76e66710@pc33.atlanta.example.com";

void BM_BranchWrite(benchmark::State& state) {
    std::uint32_t slot = 0;
    for (auto _ : state) {
        const txn::our_branch b = txn::our_branch::stateful(1, ++slot & 0xffff, 3, {call_id, 314159}, 0x1234567890abcdefu);
        benchmark::DoNotOptimize(b.text().data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BranchWrite);

void BM_BranchVerify(benchmark::State& state) {
    const txn::our_branch b = txn::our_branch::stateful(1, 77, 3, {call_id, 314159}, 0x1234567890abcdefu);
    const std::string text(b.text());
    for (auto _ : state) benchmark::DoNotOptimize(txn::branch_verifies(text, {call_id, 314159}));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BranchVerify);

void BM_DialogMarkVerify(benchmark::State& state) {
    core::text<64> mark;
    txn::write_dialog_mark(call_id, mark);
    const std::string text(mark.view());
    for (auto _ : state) benchmark::DoNotOptimize(txn::dialog_mark_verifies(text, call_id));
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DialogMarkVerify);

} // namespace

BENCHMARK_MAIN();
