// SPDX-License-Identifier: Apache-2.0
// What sipfast-loadgen's call model costs without a socket: a caller and a callee wired through
// their outboxes in memory, each call INVITE, 180, 200, ACK, BYE, 200 written, parsed and matched
// by both sides. Calls/s per core here is the generator's own ceiling; the kernel's UDP path is what
// bounds the program (bench/RESULTS.md, "sipfast-loadgen").
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "sipfast/core/clock.hpp"
#include "sipfast/loadgen/uac.hpp"
#include "sipfast/loadgen/uas.hpp"

namespace {

using namespace sipfast;
using namespace sipfast::loadgen;

// Datagrams copied out of an outbox, as a socket's receive buffer would hold them.
struct wire {
    std::vector<std::string> q;
    static void take(void* self, std::span<const datagram> batch) noexcept {
        for (const datagram& d : batch) static_cast<wire*>(self)->q.emplace_back(d.text);
    }
};

void call_model(benchmark::State& state, bool ims) {
    core::net_address at;
    (void)core::parse_ip("127.0.0.1", at);
    at.port = 5070;
    uac_stats us;
    uas_stats ss;
    uac_config uc;
    uc.local_port = 40000;
    uc.target = at;
    uc.capacity = 4096;
    uc.ims = ims;
    uas_config sc;
    sc.ims = ims;
    std::uint64_t now = core::monotonic_ns();
    uac caller(uc, us, now);
    uas callee(sc, ss, now);
    wire to_callee, to_caller;
    outbox caller_out(64, &wire::take, &to_callee), callee_out(64, &wire::take, &to_caller);
    const auto burst = static_cast<std::size_t>(state.range(0));
    std::vector<std::string> in;
    for (auto _ : state) {
        now += 1000;
        for (std::size_t i = 0; i < burst; ++i) (void)caller.start_call(now, caller_out);
        // Until every call of the burst is over: each side reads what the other sent.
        while (caller.in_progress() != 0) {
            caller_out.flush();
            in.swap(to_callee.q);
            for (const auto& d : in) callee.on_datagram(d, at, now, callee_out);
            in.clear();
            callee_out.flush();
            in.swap(to_caller.q);
            for (const auto& d : in) caller.on_datagram(d, now, caller_out);
            in.clear();
        }
        caller.advance(now, caller_out);
        callee.advance(now, callee_out);
    }
    if (us.completed.get() != us.started.get() || us.failures() != 0) state.SkipWithError("calls failed");
    state.SetItemsProcessed(static_cast<std::int64_t>(us.completed.get()));
    state.counters["calls_per_s"] = benchmark::Counter(static_cast<double>(us.completed.get()), benchmark::Counter::kIsRate);
}

void BM_minimal(benchmark::State& s) { call_model(s, false); }
void BM_ims(benchmark::State& s) { call_model(s, true); }

BENCHMARK(BM_minimal)->Name("loadgen/call_model/minimal")->Arg(64);
BENCHMARK(BM_ims)->Name("loadgen/call_model/ims")->Arg(64);

} // namespace

BENCHMARK_MAIN();
