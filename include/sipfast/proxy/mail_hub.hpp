// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "sipfast/core/message_ring.hpp"
#include "sipfast/proxy/config.hpp"

namespace sipfast::proxy {

/// The bytes of each mailbox for a backend of `participants` threads: 2 MiB each for a few, less as
/// they grow (each pair carries a smaller share of the traffic), never under 256 KiB.
[[nodiscard]] constexpr std::size_t mailbox_bytes(unsigned participants) noexcept {
    const std::size_t share = (std::size_t{16} << 20) / (participants == 0 ? 1 : participants);
    return share > (std::size_t{2} << 20) ? (std::size_t{2} << 20) : share < (std::size_t{256} << 10) ? (std::size_t{256} << 10) : share;
}

/// A message handed between threads (docs/architecture.md, "Shards"): from the worker or TCP
/// thread that received it to the shard that owns it, or from a shard to the TCP thread that
/// sends it. A view into the mailbox, valid while the consumer's callback runs; `data` has the
/// parser's padding after it.
struct mail {
    std::uint32_t listen_index = 0;  ///< the listen point it arrived on (to a shard)
    net_address peer;                ///< where it came from, or where it goes (to the TCP thread)
    std::uint64_t received_ns = 0;   ///< when it was received (latency histograms)
    std::string_view data;
};

/// The mailboxes between the threads of a backend: n shard workers and, when TCP is served, the
/// TCP thread as participant n. One bounded SPSC ring of variable-size records per ordered pair,
/// sized in bytes. A producer stages records during its turn and publishes each ring it wrote once,
/// at the end of the turn, then wakes its consumer through the backend's waker (an eventfd for a
/// thread that sleeps, nothing for a polling lcore). No I/O here.
class mail_hub {
public:
    using waker = void (*)(void* context, unsigned participant);

    mail_hub(unsigned workers, std::size_t ring_bytes, bool with_stream_thread = false);
    mail_hub(const mail_hub&) = delete;
    mail_hub& operator=(const mail_hub&) = delete;

    [[nodiscard]] core::message_ring& ring(unsigned from, unsigned to) noexcept { return *rings_[from * all_ + to]; }
    /// Shard workers.
    [[nodiscard]] unsigned workers() const noexcept { return workers_; }
    /// Workers plus the TCP thread, if there is one.
    [[nodiscard]] unsigned participants() const noexcept { return all_; }
    [[nodiscard]] bool has_stream_thread() const noexcept { return all_ > workers_; }
    /// The TCP thread's participant number (meaningful when has_stream_thread()).
    [[nodiscard]] unsigned stream_thread() const noexcept { return workers_; }

    /// Stages a copy of `data` in the ring from `from` to `to` (visible at its next publish); false
    /// when the ring has no room for it.
    [[nodiscard]] bool post(unsigned from, unsigned to, std::string_view data, std::uint32_t listen_index,
                            const net_address& peer, std::uint64_t received_ns) noexcept;
    /// Calls f(const mail&) for up to `max` messages waiting from `from` to `to`; returns how many.
    template <class F>
    std::size_t consume(unsigned from, unsigned to, F&& f, std::size_t max = ~std::size_t{0});

    /// How participant `to` is woken after a publish (set once, before the threads start).
    void set_waker(waker w, void* context) noexcept {
        waker_ = w;
        waker_context_ = context;
    }
    void wake(unsigned to) const noexcept {
        if (waker_ != nullptr) waker_(waker_context_, to);
    }

private:
    struct record_header {
        std::uint32_t listen_index;
        std::uint32_t len;
        std::uint64_t received_ns;
        net_address peer;
    };

    unsigned workers_;
    unsigned all_;
    std::vector<std::unique_ptr<core::message_ring>> rings_;
    waker waker_ = nullptr;
    void* waker_context_ = nullptr;
};

template <class F>
std::size_t mail_hub::consume(unsigned from, unsigned to, F&& f, std::size_t max) {
    return ring(from, to).consume(
        [&](std::span<const unsigned char> r) {
            record_header h;
            std::memcpy(&h, r.data(), sizeof h);
            f(mail{h.listen_index, h.peer, h.received_ns,
                   std::string_view(reinterpret_cast<const char*>(r.data()) + sizeof h, h.len)});
        },
        max);
}

} // namespace sipfast::proxy
