// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sipfast/proxy/mail_hub.hpp"
#include "sipfast/proxy/outbox.hpp"
#include "sipfast/proxy/pipeline.hpp"

namespace sipfast::proxy {

/// What the process tells its shards while they run: the configuration snapshot in force (a reload
/// swaps it; each shard takes it at its next loop turn, no lock) and whether we are stopping.
struct shard_control {
    std::atomic<const proxy_config*> config{nullptr};
    std::atomic<bool> draining{false};
    /// What the shards share (set before they are made, alive as long as they are).
    shared_services services;
};

/// The one object a backend drives (docs/architecture.md, "Shards"): a worker's pipeline, its
/// outbox and its side of the mailboxes. The backend moves bytes: it hands in what it received
/// (on_packet), lets the shard read its mail (on_mail) and run its timers (on_tick), and sends
/// what the outbox holds whenever it fills or a turn ends. A message another shard owns is handed
/// over once; a backend asks ready_for_input() before reading more, so a hand-over below
/// saturation never loses a message: it stops reading instead (the kernel's socket buffer or the
/// NIC's ring holds the rest).
class shard {
public:
    /// Mail handled per mailbox and call of on_mail(): bounded, so one busy sender cannot starve
    /// the socket, the timers or the other mailboxes.
    static constexpr std::size_t mail_batch = 64;
    /// Messages the outbox holds before its drain sends them: as many of a backend's rooms (an
    /// mbuf each in sipfast-dpdk) may be held by it, and one more reserved.
    static constexpr std::size_t outbox_messages = 256;

    /// Shard `index` of hub->workers() (the only one without a hub). `send` empties the outbox
    /// (the backend's transmit); `control` may be null.
    shard(const proxy_config& config, std::uint32_t index, mail_hub* hub, const shard_control* control,
          std::uint64_t now_ns, outbox::drain_fn send, void* send_context);
    shard(const shard&) = delete;
    shard& operator=(const shard&) = delete;

    /// A message this shard's backend received: handled, or handed to the shard that owns it
    /// (counted as mailbox_full when that mailbox has no room, which ready_for_input() prevents).
    void on_packet(const inbound& in, std::uint64_t now_ns) noexcept;
    /// Handles up to mail_batch messages from each mailbox; true when more are waiting.
    bool on_mail(std::uint64_t now_ns) noexcept;
    /// Runs the timers due by now.
    void on_tick(std::uint64_t now_ns) noexcept { pipeline_.on_tick(now_ns, outbox_); }
    /// Takes a reloaded configuration and the draining flag from the control, if any.
    void follow_control() noexcept;
    /// Whether every mailbox this shard writes to has `bytes` free: a backend reads its next burst
    /// only then.
    [[nodiscard]] bool ready_for_input(std::size_t bytes) noexcept;
    /// Hands a message for a stream transport to the TCP thread; false when there is none or its
    /// mailbox is full.
    [[nodiscard]] bool to_stream_thread(const outgoing& o) noexcept;
    /// End of a loop turn: publishes every mailbox written to and wakes its consumer.
    void end_turn() noexcept;

    [[nodiscard]] outbox& out() noexcept { return outbox_; }
    [[nodiscard]] pipeline& core() noexcept { return pipeline_; }
    [[nodiscard]] shard_stats& stats() noexcept { return pipeline_.stats(); }
    [[nodiscard]] const shard_stats& stats() const noexcept { return pipeline_.stats(); }
    [[nodiscard]] std::uint32_t index() const noexcept { return index_; }

private:
    const proxy_config* listen_config_;  // the listen points mail names by index (fixed across reloads)
    std::uint32_t index_;
    mail_hub* hub_;
    const shard_control* control_;
    pipeline pipeline_;
    outbox outbox_;
    std::vector<bool> dirty_;  // mailboxes written this turn, by participant
};

} // namespace sipfast::proxy
