// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "sipfast/proxy/config.hpp"
#include "sipfast/proxy/mail_hub.hpp"
#include "sipfast/proxy/shard.hpp"

namespace sipfast::io {

/// One worker of the kernel backend (docs/architecture.md, "Backends"): its own SO_REUSEPORT UDP socket per listen
/// address (to which the kernel steers the datagrams this worker's shard owns, "Steering"), datagrams moved in bursts of 32 with recvmmsg/sendmmsg, its own proxy::shard.
/// Sockets are opened by open() before the thread starts, so a bind failure is reported at start.
class udp_worker {
public:
    static constexpr unsigned burst = 32;

    /// Worker `index` of hub->workers() (or the only one when hub is null).
    udp_worker(const proxy::proxy_config& config, std::uint32_t index, proxy::mail_hub* hub = nullptr,
               const proxy::shard_control* control = nullptr, int wake_fd = -1);
    ~udp_worker();
    udp_worker(const udp_worker&) = delete;
    udp_worker& operator=(const udp_worker&) = delete;

    /// Opens and binds the sockets; "" on success, else what failed (address and errno text).
    [[nodiscard]] std::string open();

    /// Its UDP sockets once open(), one per UDP listen address in the configuration's order: what
    /// kernel steering (io/reuseport_steering.hpp) puts in its socket array.
    [[nodiscard]] std::vector<int> udp_sockets() const {
        std::vector<int> fds;
        for (const socket_point& s : sockets_) fds.push_back(s.fd);
        return fds;
    }

    /// The loop: receive a burst, run it through the pipeline, send what it produced; returns when
    /// `stop` becomes true (checked at least every 50 ms). Pins itself to core `cpu` when >= 0.
    void run(const std::atomic<bool>& stop, int cpu);

    /// This shard's statistics; safe to read from any thread while the worker runs.
    [[nodiscard]] const proxy::shard_stats& stats() const noexcept { return shard_.stats(); }

private:
    struct socket_point {
        int fd = -1;
        const proxy::listen_point* point = nullptr;
    };

    void flush() noexcept;
    void report_faults(std::uint64_t now_ns) noexcept;
    [[nodiscard]] int socket_for(const core::net_address& to) const noexcept;

    const proxy::proxy_config& config_;
    std::uint32_t index_;
    int wake_fd_;
    std::uint64_t next_report_ns_ = 0;
    std::uint64_t reported_malformed_ = 0;
    std::vector<socket_point> sockets_;
    proxy::shard shard_;
};

} // namespace sipfast::io
