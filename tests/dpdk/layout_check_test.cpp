// SPDX-License-Identifier: Apache-2.0
// sipfast-dpdk refuses a layout that cannot work: fewer queues than workers, workers on another
// NUMA node than the port (unless told to run anyway); a virtual port (no node) is fine anywhere.
#include "layout_check.hpp"

#include <gtest/gtest.h>

#include <array>

namespace sipfast::dpdk {
namespace {

TEST(LayoutCheck, OneQueuePairPerWorker) {
    const std::array<unsigned, 4> lcores{2, 3, 4, 5}, sockets{0, 0, 0, 0};
    EXPECT_EQ(layout_fault({0, 4, 4}, lcores, sockets, false), "");
    EXPECT_EQ(layout_fault({0, 2, 4}, lcores, sockets, false),
              "the port has 2 RX and 4 TX queues; 4 worker lcores need one of each: give fewer lcores (-l) or a port "
              "with more queues");
    EXPECT_NE(layout_fault({-1, 4, 1}, lcores, sockets, true), "");  // no override for a queue missing
}

TEST(LayoutCheck, WorkersOnThePortsNumaNode) {
    const std::array<unsigned, 2> lcores{2, 18}, sockets{1, 0};
    EXPECT_EQ(layout_fault({1, 8, 8}, lcores, sockets, false),
              "lcore 18 is on NUMA node 0, the port on node 1: take lcores of node 1 (lscpu -e shows each CPU's node), "
              "or --allow-remote-numa to run anyway");
    EXPECT_EQ(layout_fault({1, 8, 8}, lcores, sockets, true), "");
    // A virtual device (net_tap, net_af_packet, rings) has no node: anywhere will do.
    EXPECT_EQ(layout_fault({-1, 8, 8}, lcores, sockets, false), "");
    const std::array<unsigned, 2> same{1, 1};
    EXPECT_EQ(layout_fault({1, 8, 8}, lcores, same, false), "");
}

} // namespace
} // namespace sipfast::dpdk
