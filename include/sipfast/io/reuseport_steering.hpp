// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sipfast::io {

/// Steering in the kernel (docs/architecture.md, "Steering"): a reuseport BPF program attached to
/// the workers' UDP sockets picks, for each datagram, the socket of the worker whose shard owns it
/// (src/io/bpf/steer.bpf.c), so no message is handed over between workers. What the program cannot
/// classify the kernel spreads as before, and the mailboxes stay as the fallback.
class reuseport_steering {
public:
    /// What the program did, summed over CPUs.
    struct counts {
        std::uint64_t steered = 0;  ///< sent to their owner's socket
        std::uint64_t passed = 0;   ///< not classified: the kernel's choice
        std::uint64_t refused = 0;  ///< classified, but the owner's socket could not be selected
    };

    /// Loads the program and attaches it. `groups[g][w]` is worker w's socket bound to UDP listen
    /// address g (every group has one per worker, in worker order); `seed` is core::steer_seed().
    /// Null with `error` set when the kernel or our privileges refuse (no BPF, no CAP_BPF, an old
    /// kernel) or this build has no BPF: the caller goes on without steering.
    [[nodiscard]] static std::unique_ptr<reuseport_steering> attach(const std::vector<std::vector<int>>& groups,
                                                                    std::uint64_t seed, std::string& error);

    ~reuseport_steering();
    reuseport_steering(const reuseport_steering&) = delete;
    reuseport_steering& operator=(const reuseport_steering&) = delete;

    [[nodiscard]] counts read() const noexcept;

private:
    struct state;
    explicit reuseport_steering(std::unique_ptr<state> s) noexcept;
    std::unique_ptr<state> state_;
};

} // namespace sipfast::io
