// SPDX-License-Identifier: Apache-2.0
// cpu-stalls: what the machine itself takes from a core that never sleeps. A loop reads the clock
// for SECONDS (default 5) and counts the gaps between two reads longer than 5, 10, 20, 50 and 100 µs
// (timer ticks, interrupts, a hypervisor's exits): a poll-mode lcore loses the same time, and
// every message that arrives in a gap, or queues behind one, waits at least that long.
// It also gives the share of the time that lies more than 10 µs into a gap, and what that means for
// a p99 of 10 µs. A message arriving at a random moment waits over 10 µs on the platform's account
// at least that often; with arrivals at a share ρ of the lcore's rate, what queued during a gap of
// length G drains at 1 - ρ, so the arrivals that wait over L span (G - L) / (1 - ρ): at half rate,
// twice the share. While that is over 1 %, no pipeline on this core has a p99 of 10 µs.
//   taskset -c 1 build-release/bench/cpu-stalls [SECONDS]
#include <time.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {
std::uint64_t now_ns() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_nsec);
}
} // namespace

int main(int argc, char** argv) {
    const std::uint64_t seconds = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 5;
    constexpr std::array<std::uint64_t, 5> bounds_us{5, 10, 20, 50, 100};
    std::array<std::uint64_t, bounds_us.size()> over{};
    constexpr std::uint64_t p99_target_ns = 10'000;
    std::uint64_t lost = 0, longest = 0, beyond_target = 0;
    const std::uint64_t start = now_ns();
    std::uint64_t prev = start;
    for (std::uint64_t now = prev; now - start < seconds * 1'000'000'000u; prev = now) {
        now = now_ns();
        const std::uint64_t gap = now - prev;
        if (gap > longest) longest = gap;
        if (gap <= bounds_us[0] * 1000) continue;
        lost += gap;
        if (gap > p99_target_ns) beyond_target += gap - p99_target_ns;
        for (std::size_t i = 0; i < bounds_us.size(); ++i)
            if (gap > bounds_us[i] * 1000) ++over[i];
    }
    std::printf("%llu s of a core that never sleeps: gaps", static_cast<unsigned long long>(seconds));
    for (std::size_t i = 0; i < bounds_us.size(); ++i)
        std::printf("%s > %llu µs %llu (%.0f/s)", i == 0 ? "" : ",", static_cast<unsigned long long>(bounds_us[i]),
                    static_cast<unsigned long long>(over[i]), static_cast<double>(over[i]) / static_cast<double>(seconds));
    const double total_ns = static_cast<double>(seconds) * 1e9;
    const double beyond = 100.0 * static_cast<double>(beyond_target) / total_ns;
    std::printf("; longest %.1f µs; %.2f %% of the time in gaps over 5 µs, %.2f %% more than 10 µs into one"
                " (at half an lcore's rate, %.2f %% of messages wait over 10 µs)\n",
                static_cast<double>(longest) / 1e3, 100.0 * static_cast<double>(lost) / total_ns, beyond, 2 * beyond);
}
