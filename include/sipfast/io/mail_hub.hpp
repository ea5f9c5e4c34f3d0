// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sipfast/core/spsc_ring.hpp"
#include "sipfast/core/net_address.hpp"

namespace sipfast::io {

/// A message handed between threads: from the worker or TCP thread that received it to the shard
/// that owns it, or from a shard to the TCP thread that sends it.
struct mail {
    static constexpr std::size_t max_bytes = 4000;
    std::uint32_t len;
    std::uint32_t listen_index;  ///< the listen point it arrived on (to a shard)
    core::net_address peer;     ///< where it came from, or where it goes (to the TCP thread)
    std::uint64_t received_ns;   ///< when it was received (latency histograms)
    char data[max_bytes];
};

/// The mailboxes between the threads of a backend (docs/architecture.md, "Shards"): n shard workers
/// and, when TCP is served, the TCP thread as participant n. One bounded SPSC ring per ordered
/// pair, and an eventfd per participant that a producer writes after publishing, so a sleeping
/// consumer wakes at once.
class mail_hub {
public:
    mail_hub(unsigned workers, std::size_t ring_capacity, bool with_stream_thread = false);
    ~mail_hub();
    mail_hub(const mail_hub&) = delete;
    mail_hub& operator=(const mail_hub&) = delete;

    [[nodiscard]] core::spsc_ring<mail>& ring(unsigned from, unsigned to) noexcept { return *rings_[from * all_ + to]; }
    [[nodiscard]] int wake_fd(unsigned participant) const noexcept { return wake_[participant]; }
    /// Shard workers.
    [[nodiscard]] unsigned workers() const noexcept { return workers_; }
    /// Workers plus the TCP thread, if there is one.
    [[nodiscard]] unsigned participants() const noexcept { return all_; }
    [[nodiscard]] bool has_stream_thread() const noexcept { return all_ > workers_; }
    /// The TCP thread's participant number (meaningful when has_stream_thread()).
    [[nodiscard]] unsigned stream_thread() const noexcept { return workers_; }

    /// Stages a copy of `data` in the ring from `from` to `to` (published by the producer's next
    /// publish()); false when it is larger than a slot or the ring is full.
    [[nodiscard]] bool post(unsigned from, unsigned to, std::string_view data, std::uint32_t listen_index,
                            const core::net_address& peer, std::uint64_t received_ns) noexcept;

    /// Wakes participant `to` after a publish.
    void wake(unsigned to) const noexcept;

private:
    unsigned workers_;
    unsigned all_;
    std::vector<std::unique_ptr<core::spsc_ring<mail>>> rings_;
    std::vector<int> wake_;
};

} // namespace sipfast::io
