// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "sipfast/core/net_address.hpp"
#include "sipfast/sip/via.hpp"

namespace sipfast::proxy {

using core::net_address;

/// One message the pipeline wants sent.
struct outgoing {
    net_address destination;
    sip::transport transport = sip::transport::udp;
    const char* data = nullptr;     ///< its bytes: in the arena, or in the backend's frame
    std::uint32_t size = 0;
    std::uint8_t latency = 0;       ///< the histogram its delay goes to (see stats.hpp), 0 for none
    std::uint64_t received_ns = 0;  ///< when what it forwards was received
    /// The backend's buffer `data` is in (set_room), which the backend now owns and must send or
    /// release; null for the arena.
    void* frame = nullptr;
};

/// What a worker's pipeline produced during one burst, for the backend to send in a batch
/// (sendmmsg, rte_eth_tx_burst) and then clear. Fixed arena and slot count, sized at set-up. When
/// it fills up, its drain (the backend's send, set with set_drain) empties it and the message
/// goes in after all; without a drain, or for a message larger than the arena, it refuses (the
/// pipeline counts the drop) rather than growing.
///
/// A backend that builds frames (sipfast-dpdk) may give rooms of its own (set_room): a message is
/// then written straight where its frame will carry it, after room for the headers, and goes out
/// with no copy. A room is taken at reserve() and handed over with the message at commit(); one
/// reserved and not committed (a message that did not fit) serves the next reserve(), so none is
/// lost. A message a room cannot hold goes to the arena as before.
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

    ~outbox() {
        if (pending_frame_ != nullptr && release_ != nullptr) release_(room_context_, pending_frame_);
    }

    /// A fresh room of `room_bytes` in a buffer of the backend's (the span; the buffer as `frame`),
    /// or an empty span when none is free; `release` gives back one never committed.
    using room_fn = std::span<char> (*)(void* context, void*& frame);
    using release_fn = void (*)(void* context, void* frame);
    void set_room(room_fn room, release_fn release, void* context, std::size_t room_bytes) noexcept {
        room_ = room;
        release_ = release;
        room_context_ = context;
        room_bytes_ = room_bytes;
    }

    /// Room for a message of up to n bytes, or an empty span when the arena or the slots are full
    /// and the drain cannot make room.
    [[nodiscard]] std::span<char> reserve(std::size_t n) noexcept {
        if (full_for(n)) {
            if (drain_ == nullptr || count_ == 0) return {};
            drain_(drain_context_, *this);
            if (full_for(n)) return {};
        }
        if (fits_room(n)) {
            if (pending_frame_ == nullptr) pending_room_ = room_(room_context_, pending_frame_);
            if (pending_frame_ != nullptr) {
                in_room_ = true;
                return pending_room_.first(n);
            }
            if (n > arena_bytes_ - used_) return {};
        }
        in_room_ = false;
        return {arena_.get() + used_, n};
    }
    /// Queues the first `size` bytes of the last reserve() for `destination`.
    void commit(const net_address& destination, sip::transport t, std::size_t size, std::uint8_t latency = 0,
                std::uint64_t received_ns = 0) noexcept {
        if (in_room_) {
            slots_[count_++] = outgoing{destination, t, pending_room_.data(), static_cast<std::uint32_t>(size), latency,
                                        received_ns, pending_frame_};
            pending_frame_ = nullptr;
            in_room_ = false;
            return;
        }
        slots_[count_++] = outgoing{destination, t, arena_.get() + used_, static_cast<std::uint32_t>(size), latency,
                                    received_ns, nullptr};
        used_ += size;
    }

    [[nodiscard]] std::size_t size() const noexcept { return count_; }
    [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
    [[nodiscard]] const outgoing& operator[](std::size_t i) const noexcept { return slots_[i]; }
    [[nodiscard]] std::span<const char> bytes(const outgoing& o) const noexcept { return {o.data, o.size}; }
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
    room_fn room_ = nullptr;
    release_fn release_ = nullptr;
    void* room_context_ = nullptr;
    std::size_t room_bytes_ = 0;
    void* pending_frame_ = nullptr;  // a room reserved and not yet committed
    std::span<char> pending_room_;
    bool in_room_ = false;           // the last reserve() gave the pending room

    [[nodiscard]] bool fits_room(std::size_t n) const noexcept { return room_ != nullptr && n <= room_bytes_; }
    /// No slot, or no place for n bytes in the arena or a room: only a drain can help.
    [[nodiscard]] bool full_for(std::size_t n) const noexcept {
        return count_ == max_messages_ || (n > arena_bytes_ - used_ && !fits_room(n));
    }
};

} // namespace sipfast::proxy
