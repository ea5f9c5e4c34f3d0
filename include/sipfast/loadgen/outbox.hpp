// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "sipfast/core/net_address.hpp"
#include "sipfast/core/text_writer.hpp"

namespace sipfast::loadgen {

/// A datagram the call model wants sent.
struct datagram {
    std::string_view text;  ///< valid until the outbox is flushed
    core::net_address to;
    /// The port the message says it is from (its Via's), when the model chose one per call
    /// (uac_config::local_ports); 0 otherwise. A socket sends from its one port whatever this says;
    /// a driver that builds its own frames (sipfast-dpdk --generate) sends from this port, so the
    /// answers come back to it.
    std::uint16_t from_port = 0;
};

/// Where the call model writes what it sends: an arena of datagrams handed in batches to `flush`
/// (the UDP driver's sendmmsg, a test's recorder) whenever the next message might not fit, and at the
/// end of each loop turn by the driver. Sized once; nothing is allocated afterwards.
class outbox {
public:
    using flush_fn = void (*)(void* context, std::span<const datagram> batch) noexcept;

    /// Largest message the model writes (an IMS-sized INVITE is about 3 KB).
    static constexpr std::size_t max_message_bytes = 8192;

    outbox(std::size_t batch, flush_fn on_flush, void* context)
        : batch_(batch), arena_bytes_(batch * 2048 + max_message_bytes), arena_(new char[arena_bytes_]),
          entries_(new datagram[batch]), flush_(on_flush), context_(context) {}
    outbox(const outbox&) = delete;
    outbox& operator=(const outbox&) = delete;

    /// A writer for the next message; flushes first when it might not fit.
    [[nodiscard]] core::text_writer start() noexcept {
        if (count_ == batch_ || arena_bytes_ - used_ < max_message_bytes) flush();
        return core::text_writer({arena_.get() + used_, max_message_bytes});
    }
    /// Queues what `w` (from start()) wrote for `to`, as sent from `from_port` (datagram::from_port);
    /// false, and nothing queued, when it overflowed.
    bool finish(const core::text_writer& w, const core::net_address& to, std::uint16_t from_port = 0) noexcept {
        if (!w.ok()) return false;
        entries_[count_++] = {{arena_.get() + used_, w.size()}, to, from_port};
        used_ += w.size();
        ++sent_;
        return true;
    }
    /// Hands what is queued to the flush function.
    void flush() noexcept {
        if (count_ != 0) flush_(context_, {entries_.get(), count_});
        count_ = 0;
        used_ = 0;
    }
    [[nodiscard]] std::size_t pending() const noexcept { return count_; }
    /// Messages queued since construction.
    [[nodiscard]] std::uint64_t queued_total() const noexcept { return sent_; }

private:
    std::size_t batch_;
    std::size_t arena_bytes_;
    std::unique_ptr<char[]> arena_;
    std::unique_ptr<datagram[]> entries_;
    std::size_t count_ = 0;
    std::size_t used_ = 0;
    std::uint64_t sent_ = 0;
    flush_fn flush_;
    void* context_;
};

} // namespace sipfast::loadgen
