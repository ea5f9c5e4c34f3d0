// SPDX-License-Identifier: Apache-2.0
// sipfast-bench-pipeline: what one message costs through the stateless pipeline, a call's six
// messages at a time in bursts of 32 as the kernel backend runs them, including the backend's
// latency recording after each burst. Built twice: as is, and with SIPFAST_STATS_OFF (every
// counter and histogram update compiled out) as sipfast-bench-pipeline-nostats; tools/bench-stats
// runs both, interleaved, for what counting and histograms cost.
//
//   sipfast-bench-pipeline [--reps N] [--seconds S]   median ns per message over N timed runs
//   sipfast-bench-pipeline --loop N                    N passes, untimed (for callgrind)
//   --policy closed|open   the relay policy (default closed: alice calls a user of our domain)
//   --limits off|on|shed   [limits] off (default), on at rates the flow stays under (every message
//                          pays the source's buckets, as sipfastd's default), or so low that every
//                          message is shed before parsing (what a flood's datagram costs)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline_workload.hpp"

namespace {

using sipfast::bench::now_ns;
using bench = sipfast::bench::call_workload;

} // namespace

int main(int argc, char** argv) {
    int reps = 9;
    double seconds = 0.3;
    long loop = 0;
    bench::limits limits = bench::limits::off;
    bool open = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string_view value = argv[i + 1];
        if (!std::strcmp(argv[i], "--reps")) reps = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--policy") && (value == "open" || value == "closed")) open = value == "open";
        else if (!std::strcmp(argv[i], "--limits") && value == "off") limits = bench::limits::off;
        else if (!std::strcmp(argv[i], "--limits") && value == "on") limits = bench::limits::on;
        else if (!std::strcmp(argv[i], "--limits") && value == "shed") limits = bench::limits::shed;
        else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--loop")) loop = std::atol(argv[i + 1]);
        else {
            std::fprintf(stderr, "usage: %s [--reps N] [--seconds S] [--loop N] [--policy closed|open] [--limits off|on|shed]\n",
                         argv[0]);
            return 2;
        }
    }
    bench b(limits, open);
    const std::uint64_t first = b.pass();
    if (limits == bench::limits::shed && first > 2) {  // the burst of 1 passes, nothing else
        std::fprintf(stderr, "%s: the flood was not shed\n", argv[0]);
        return 1;
    }
    if (limits != bench::limits::shed && first != b.messages.size()) {  // every message of the flow must be forwarded
        std::fprintf(stderr, "%s: the call flow was not forwarded whole\n", argv[0]);
        return 1;
    }
    if (loop > 0) {
        for (long i = 0; i < loop; ++i) (void)b.pass();
        std::printf("%ld messages\n", loop * static_cast<long>(b.messages.size()));
        return 0;
    }
    std::vector<double> ns;
    for (int r = 0; r < reps; ++r) {
        std::uint64_t n = 0;
        const std::uint64_t start = now_ns();
        while (now_ns() - start < static_cast<std::uint64_t>(seconds * 1e9)) {
            (void)b.pass();
            n += b.messages.size();
        }
        ns.push_back(static_cast<double>(now_ns() - start) / static_cast<double>(n));
    }
    std::sort(ns.begin(), ns.end());
#ifdef SIPFAST_STATS_OFF
    const char* variant = "without counters";
#else
    const char* variant = "with counters";
#endif
    const char* limited = limits == bench::limits::off ? "off" : limits == bench::limits::on ? "on" : "shedding";
    std::printf("%s, policy %s, limits %s: median %.1f ns/message (min %.1f, max %.1f, %d runs)\n", variant,
                open ? "open" : "closed", limited, ns[ns.size() / 2], ns.front(), ns.back(), reps);
    return 0;
}
