// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <rte_ring.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lcore_worker.hpp"

namespace sipfast::dpdk {

/// `--replay FILE --replay-rate R`: the frames of a pcap file, sent in a loop at R frames a second
/// on a schedule, one at a time and never late (a frame due while the lcore was not running is
/// skipped, counted), into the same port of rte_rings as `--generate`'s; what the
/// workers send back is freed unread. Where `--generate` plays a caller and a callee (parsing and
/// answering every message on its lcore, so its answers leave in clumps once it falls behind),
/// this costs a copy a frame: arrivals as evenly spaced as a NIC's at that rate, for the delay
/// through the pipeline at a chosen share of a worker's rate (bench/RESULTS.md).
class replay_lcore {
public:
    /// Reads `file`'s frames; `error` says why none could be (no file, not pcap, no frame).
    replay_lcore(const shared_state& s, const std::string& file, std::uint32_t rate, std::vector<rte_ring*> to_port,
                 std::vector<rte_ring*> from_port, std::string& error);

    void run();
    [[nodiscard]] std::uint64_t sent() const noexcept { return sent_; }
    /// Frames not sent: the pool empty or the port's ring full.
    [[nodiscard]] std::uint64_t dropped() const noexcept { return dropped_; }
    /// Frames the schedule had due while this lcore did not run, left out rather than sent late.
    [[nodiscard]] std::uint64_t skipped() const noexcept { return skipped_; }

private:
    const shared_state& s_;
    std::uint32_t rate_;
    std::vector<rte_ring*> to_port_, from_port_;
    std::vector<std::vector<std::uint8_t>> frames_;
    std::uint64_t sent_ = 0;
    std::uint64_t dropped_ = 0;
    std::uint64_t skipped_ = 0;
};

} // namespace sipfast::dpdk
