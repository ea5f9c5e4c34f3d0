// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "sipfast/daemon/daemon_config.hpp"

namespace sipfast::dpdk {

/// What follows `--` on sipfast-dpdk's command line.
struct app_options {
    daemon::command_line cli;        // as sipfastd takes it, plus --port/--address/--gateway/--exception-port
    unsigned exit_when_idle_ms = 0;  // for replays: stop once RX has been quiet this long
    unsigned seconds = 0;            // for benchmarks: run this long, then report messages per second
    bool framing_only = false;       // for benchmarks: L2-L4 only, each datagram echoed (the ceiling)
    unsigned generate = 0;           // for benchmarks: calls kept in flight by a generator lcore (0: none)
    unsigned generate_rate = 0;      // with it: calls started per second, open loop (0: whenever one ends)
    std::string replay;              // for benchmarks: a pcap file an lcore sends in a loop ...
    unsigned replay_rate = 0;        // ... at this many frames per second
    unsigned neighbour_reachable_ms = 30'000;  // how long a confirmed neighbour is used without asking again
    bool allow_remote_numa = false;  // run even with worker lcores on another NUMA node than the port
};

/// Parses the application's arguments (after EAL's); false with `error` set (a usage line for
/// --help) when they cannot be taken.
[[nodiscard]] bool parse_options(int argc, char** argv, app_options& o, std::string& error);

} // namespace sipfast::dpdk
