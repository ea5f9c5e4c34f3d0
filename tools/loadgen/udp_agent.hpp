// SPDX-License-Identifier: Apache-2.0
// One sipfast-loadgen thread: its sockets, its caller and callee, the loop that drives them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "sipfast/core/net_address.hpp"
#include "sipfast/loadgen/outbox.hpp"
#include "sipfast/loadgen/pacer.hpp"
#include "sipfast/loadgen/registrant.hpp"
#include "sipfast/loadgen/stats.hpp"
#include "sipfast/loadgen/uac.hpp"
#include "sipfast/loadgen/uas.hpp"

namespace sipfast::loadgen {

/// What a thread plays and how; the same for every thread but for the rate share and index.
struct agent_options {
    bool caller = true;
    bool callee = true;
    std::string local_host = "127.0.0.1";
    core::net_address local;          ///< caller's bind address (port 0: any)
    core::net_address uas_listen;     ///< callee's (SO_REUSEPORT across threads)
    core::net_address target;
    std::string request_host;
    std::string user = "service";
    std::uint32_t users = 0;          ///< calls go to user+first_user ... in turn (0: to `user`)
    std::uint32_t first_user = 1;
    std::string password;             ///< with users: calls between them, INVITEs answering a challenge
    std::uint64_t rate = 0;           ///< this thread's calls/s
    std::uint64_t calls = 0;          ///< this thread's calls (0: until the end set_start gives)
    std::uint64_t drain_ns = 0;       ///< how long calls in progress may finish after the last start
    std::uint64_t hold_ns = 0;
    std::uint64_t t1_ns = 500'000'000, t2_ns = 4'000'000'000, timeout_ns = 0;
    std::uint32_t capacity = 4096;
    std::uint32_t uas_capacity = 4096;
    std::uint32_t run_id = 0;
    std::uint16_t thread = 0;
    bool send_100 = false;
    bool ims = false;
    bool tcp = false;                 ///< TCP: one connection per caller thread, the callee accepts
};

/// Counts every thread publishes; the reporter reads them live.
struct agent_stats {
    uac_stats uac;
    uas_stats uas;
    core::counter datagrams_sent, datagrams_received, send_errors;
};

/// The caller's configuration from the agent's options, for its socket's local port; `reliable`
/// over TCP (no request retransmissions, RFC 3261 §17.1.1.2).
[[nodiscard]] inline uac_config caller_config(const agent_options& o, std::uint16_t local_port, bool reliable) {
    uac_config c;
    c.local_host = o.local_host;
    c.local_port = local_port;
    c.target = o.target;
    c.request_host = o.request_host;
    c.user = o.user;
    c.users = o.users;
    c.first_user = o.first_user;
    c.password = o.password;
    c.hold_ns = o.hold_ns;
    c.t1_ns = o.t1_ns;
    c.t2_ns = o.t2_ns;
    c.timeout_ns = o.timeout_ns;
    c.capacity = o.capacity;
    c.run_id = o.run_id;
    c.thread = o.thread;
    c.ims = o.ims;
    c.reliable = reliable;
    return c;
}

/// The callee's configuration from the agent's options.
[[nodiscard]] inline uas_config callee_config(const agent_options& o) {
    uas_config c;
    c.local_host = o.local_host;
    c.local_port = o.uas_listen.port;
    c.user = o.user;
    c.t1_ns = o.t1_ns;
    c.t2_ns = o.t2_ns;
    c.capacity = o.uas_capacity;
    c.send_100 = o.send_100;
    c.ims = o.ims;
    return c;
}

/// A thread's loop over its transport.
class agent {
public:
    agent() = default;
    agent(const agent&) = delete;
    agent& operator=(const agent&) = delete;
    virtual ~agent() = default;

    /// Runs until the caller's calls are done and drained (caller), or `stop` (callee only, or
    /// any role when stopped early: calls in progress then count as unfinished).
    virtual void run(const std::atomic<bool>& stop) = 0;
    /// Whether the caller has finished its calls (always true for a callee only).
    [[nodiscard]] bool caller_done() const noexcept { return caller_done_.load(std::memory_order_acquire); }
    /// When its last call started (0: none yet): past the schedule's end when the thread fell behind.
    [[nodiscard]] std::uint64_t last_start_ns() const noexcept { return last_start_ns_.load(std::memory_order_acquire); }
    /// The clock reading calls are paced from; set before run().
    void set_start(std::uint64_t start_ns, std::uint64_t end_ns) noexcept {
        o_start_ns_ = start_ns;
        o_end_ns_ = end_ns;
    }

protected:
    /// One turn of the caller's schedule, the same over either transport: starts the calls due by
    /// `now` (at most 256, so answers are read between bursts) and, once the last one has started,
    /// ends the caller when its calls are over or `drain_ns` after the schedule's end. Returns the
    /// calls started.
    std::uint64_t caller_turn(uac& caller, outbox& out, pacer& pace, std::uint64_t now, std::uint64_t drain_ns,
                              std::uint64_t& drain_until) noexcept {
        const std::uint64_t due = pace.due(now, 256);
        for (std::uint64_t i = 0; i < due; ++i) (void)caller.start_call(now, out);
        pace.take(due);
        if (due != 0) last_start_ns_.store(now, std::memory_order_release);
        if (pace.done()) {
            if (drain_until == 0) drain_until = now + drain_ns;
            if (caller.in_progress() == 0 || now >= drain_until) {
                caller.abandon_all();
                caller_done_.store(true, std::memory_order_release);
            }
        }
        return due;
    }

    std::atomic<bool> caller_done_{false};
    std::atomic<std::uint64_t> last_start_ns_{0};
    std::uint64_t o_start_ns_ = 0, o_end_ns_ = 0;
};

/// Registers `c`'s users from the callee's address (`o.uas_listen`, before any agent binds it), so
/// the registrar's bindings lead calls to the callee; returns when every user is registered or
/// failed, or at `stop`. Over UDP; throws std::runtime_error naming a socket fault.
void register_users(const agent_options& o, const registrant_config& c, registrant_stats& stats,
                    const std::atomic<bool>& stop);

/// Over TCP (tcp_agent.cpp).
[[nodiscard]] std::unique_ptr<agent> make_tcp_agent(const agent_options& o, agent_stats& stats);

class udp_agent final : public agent {
public:
    /// Opens the sockets (throws std::runtime_error naming what failed).
    udp_agent(const agent_options& o, agent_stats& stats);
    ~udp_agent() override;

    void run(const std::atomic<bool>& stop) override;

private:
    static void send_caller(void* self, std::span<const datagram> batch) noexcept;
    static void send_callee(void* self, std::span<const datagram> batch) noexcept;
    void send(int fd, bool connected, std::span<const datagram> batch) noexcept;
    std::size_t receive(int fd, bool callee, std::uint64_t now_ns);

    agent_options o_;
    agent_stats& stats_;
    int caller_fd_ = -1, callee_fd_ = -1;
    std::uint16_t caller_port_ = 0;
    std::unique_ptr<uac> uac_;
    std::unique_ptr<uas> uas_;
    outbox caller_out_, callee_out_;
    struct buffers;
    std::unique_ptr<buffers> rx_;
};

} // namespace sipfast::loadgen
