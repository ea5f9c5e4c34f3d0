// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "sipfast/core/spsc_ring.hpp"
#include "sipfast/proxy/config.hpp"
#include "sipfast/proxy/outbox.hpp"
#include "sipfast/proxy/pipeline.hpp"

namespace sipfast::io {

/// A datagram handed from the worker that received it to the shard that owns it.
struct mail {
    static constexpr std::size_t max_bytes = 4000;
    std::uint32_t len;
    std::uint32_t listen_index;
    proxy::net_address source;
    char data[max_bytes];
};

/// The mailboxes between n workers (DESIGN §1): one bounded SPSC ring per ordered pair, and an
/// eventfd per worker that a producer writes after publishing, so a sleeping owner wakes at once.
class mail_hub {
public:
    mail_hub(unsigned workers, std::size_t ring_capacity);
    ~mail_hub();
    mail_hub(const mail_hub&) = delete;
    mail_hub& operator=(const mail_hub&) = delete;

    [[nodiscard]] core::spsc_ring<mail>& ring(unsigned from, unsigned to) noexcept { return *rings_[from * n_ + to]; }
    [[nodiscard]] int wake_fd(unsigned worker) const noexcept { return wake_[worker]; }
    [[nodiscard]] unsigned workers() const noexcept { return n_; }

private:
    unsigned n_;
    std::vector<std::unique_ptr<core::spsc_ring<mail>>> rings_;
    std::vector<int> wake_;
};

/// One worker of the kernel backend (DESIGN §1): its own SO_REUSEPORT UDP socket per listen
/// address, datagrams moved in bursts of 32 with recvmmsg/sendmmsg, its own pipeline (its shard).
/// Sockets are opened by open() before the thread starts, so a bind failure is reported at start.
class udp_worker {
public:
    static constexpr unsigned burst = 32;

    /// Worker `index` of hub->workers() (or the only one when hub is null).
    udp_worker(const proxy::proxy_config& config, std::uint32_t index, mail_hub* hub = nullptr);
    ~udp_worker();
    udp_worker(const udp_worker&) = delete;
    udp_worker& operator=(const udp_worker&) = delete;

    /// Opens and binds the sockets; "" on success, else what failed (address and errno text).
    [[nodiscard]] std::string open();

    /// The loop: receive a burst, run it through the pipeline, send what it produced; returns when
    /// `stop` becomes true (checked at least every 50 ms). Pins itself to core `cpu` when >= 0.
    void run(const std::atomic<bool>& stop, int cpu);

    [[nodiscard]] const proxy::pipeline_counters& counters() const noexcept { return pipeline_.counters(); }

private:
    struct socket_point {
        int fd = -1;
        const proxy::listen_point* point = nullptr;
    };

    void flush(int fallback_fd) noexcept;
    void handle(const proxy::inbound& in, std::uint64_t now_ns, bool& handed) noexcept;
    void drain_mail(std::uint64_t now_ns) noexcept;
    [[nodiscard]] int socket_for(const proxy::net_address& to) const noexcept;

    const proxy::proxy_config& config_;
    std::uint32_t index_;
    mail_hub* hub_;
    std::vector<bool> dirty_;  // rings to publish at the end of this turn
    std::vector<socket_point> sockets_;
    proxy::pipeline pipeline_;
    proxy::outbox outbox_;
};

} // namespace sipfast::io
