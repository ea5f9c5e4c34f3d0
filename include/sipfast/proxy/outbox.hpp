// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "sipfast/core/net_address.hpp"
#include "sipfast/sip/via.hpp"

namespace sipfast::proxy {

/// One message the pipeline wants sent.
struct outgoing {
    net_address destination;
    sip::transport transport = sip::transport::udp;
    std::uint32_t offset = 0;
    std::uint32_t size = 0;
    std::uint8_t latency = 0;       ///< the histogram its delay goes to (see stats.hpp), 0 for none
    std::uint64_t received_ns = 0;  ///< when what it forwards was received
};

/// What a worker's pipeline produced during one burst, for the backend to send in a batch
/// (sendmmsg, rte_eth_tx_burst) and then clear. Fixed arena and slot count, sized at set-up. When
/// it fills up, its drain (the backend's send, set with set_drain) empties it and the message
/// goes in after all; without a drain, or for a message larger than the arena, it refuses (the
/// pipeline counts the drop) rather than growing.
class outbox {
public:
    outbox(std::size_t arena_bytes, std::size_t max_messages)
        : arena_(new char[arena_bytes]), arena_bytes_(arena_bytes), slots_(new outgoing[max_messages]),
          max_messages_(max_messages) {}
    outbox(const outbox&) = delete;
    outbox& operator=(const outbox&) = delete;

    using drain_fn = void (*)(void* context, outbox& full);

    /// What empties a full outbox: it must send what it holds and clear() it.
    void set_drain(drain_fn f, void* context) noexcept {
        drain_ = f;
        drain_context_ = context;
    }

    /// Room for a message of up to n bytes, or an empty span when the arena or the slots are full
    /// and the drain cannot make room.
    [[nodiscard]] std::span<char> reserve(std::size_t n) noexcept {
        if (count_ == max_messages_ || n > arena_bytes_ - used_) {
            if (drain_ == nullptr || count_ == 0) return {};
            drain_(drain_context_, *this);
            if (count_ == max_messages_ || n > arena_bytes_ - used_) return {};
        }
        return {arena_.get() + used_, n};
    }
    /// Queues the first `size` bytes of the last reserve() for `destination`.
    void commit(const net_address& destination, sip::transport t, std::size_t size, std::uint8_t latency = 0,
                std::uint64_t received_ns = 0) noexcept {
        slots_[count_++] = outgoing{destination, t, static_cast<std::uint32_t>(used_), static_cast<std::uint32_t>(size),
                                    latency, received_ns};
        used_ += size;
    }

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] const outgoing& operator[](std::size_t i) const noexcept { return slots_[i]; }
    [[nodiscard]] std::span<const char> bytes(const outgoing& o) const noexcept { return {arena_.get() + o.offset, o.size}; }
    void clear() noexcept {
        count_ = 0;
        used_ = 0;
    }

private:
    std::unique_ptr<char[]> arena_;
    std::size_t arena_bytes_;
    std::size_t used_ = 0;
    std::unique_ptr<outgoing[]> slots_;
    std::size_t max_messages_;
    std::size_t count_ = 0;
    drain_fn drain_ = nullptr;
    void* drain_context_ = nullptr;
};

} // namespace sipfast::proxy
