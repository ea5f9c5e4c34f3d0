// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-burst: the stateless pipeline over bursts of 32 (parse, the stages, the edits,
// serialization into the outbox), a call's six messages at a time, as Google Benchmark measures it:
// messages/s on one core and allocations per message, which must be 0 (the counter below would show
// any malloc, operator new included). The same workload as sipfast-bench-pipeline
// (pipeline_workload.hpp), whose hand-rolled loop stays for its --loop and counters-off variants.
#include <benchmark/benchmark.h>

#include "malloc_count.hpp"  // tests/unit/sip: counts malloc, calloc and realloc while `counting`
#include "pipeline_workload.hpp"

namespace {

using sipfast::bench::call_workload;

void run(benchmark::State& state, call_workload::limits l, bool open) {
    call_workload w(l, open);
    if (w.pass() != w.messages.size()) {
        state.SkipWithError("the call flow was not forwarded whole");
        return;
    }
    allocations = 0;
    counting = true;
    std::uint64_t messages = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(w.pass());
        messages += w.messages.size();
    }
    counting = false;
    state.SetItemsProcessed(static_cast<std::int64_t>(messages));
    state.counters["allocs_per_msg"] = static_cast<double>(allocations.load()) / static_cast<double>(messages);
}

void BM_StatelessClosedPolicy(benchmark::State& s) { run(s, call_workload::limits::off, false); }
void BM_StatelessOpenPolicy(benchmark::State& s) { run(s, call_workload::limits::off, true); }
void BM_StatelessWithSourceLimits(benchmark::State& s) { run(s, call_workload::limits::on, false); }
BENCHMARK(BM_StatelessClosedPolicy);
BENCHMARK(BM_StatelessOpenPolicy);
BENCHMARK(BM_StatelessWithSourceLimits);

} // namespace

BENCHMARK_MAIN();
