// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "sipfast/core/counter.hpp"
#include "sipfast/core/metric.hpp"
#include "sipfast/proxy/mail_hub.hpp"
#include "sipfast/proxy/config.hpp"
#include "sipfast/sip/message.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::io {

/// Bounds on the TCP slow path (config [tcp]).
struct tcp_limits {
    std::uint32_t max_connections = 4096;       ///< accepted (inbound); beyond it accepts are closed
    /// Accepted from one remote address: an IPv4 address, or an IPv6 /64 (one subscriber's prefix,
    /// RFC 6177, whose 2^64 addresses would otherwise each get the whole allowance).
    std::uint32_t max_connections_per_ip = 64;
    /// Opened by us to send, a budget apart from the inbound one: callers cannot crowd out the
    /// connections their calls need, nor can calls to many destinations lock callers out.
    std::uint32_t max_outbound_connections = 1024;
    std::uint64_t idle_timeout_ns = 120'000'000'000;  ///< a connection with no traffic this long is closed
    /// From the first byte of a message to its last (headers and body): a sender slower than that
    /// is closed, however steadily it dribbles (each byte would restart the idle timer).
    std::uint64_t message_timeout_ns = 10'000'000'000;
    std::uint64_t connect_timeout_ns = 5'000'000'000;
    std::size_t max_pending_bytes = 1 << 20;    ///< unsent bytes a connection may hold before it is closed
};

/// What the TCP thread has done; written by it alone, readable from any thread while it runs.
struct tcp_counters {
    core::counter open;                 ///< connections open now
    core::counter accepted;
    core::counter refused_total_limit;
    core::counter refused_ip_limit;     ///< per address (IPv4) or per /64 (IPv6)
    core::counter refused_outbound_limit;  ///< connections not opened: max_outbound_connections open
    core::counter connected;            ///< connections we opened
    core::counter connect_failed;
    core::counter closed_by_peer;
    core::counter closed_idle;
    core::counter closed_slow;          ///< a message not whole within message_timeout_ns
    core::counter closed_error;         ///< framing fault, write error, too much unsent
    core::counter messages_in;          ///< framed and handed to their shard
    core::counter messages_out;
    core::counter bytes_in;
    core::counter bytes_out;
    core::counter framing_errors;
    core::counter keepalives;           ///< RFC 5626 CRLFCRLF pings answered
    core::counter dropped_unsendable;   ///< no connection could be had for an outgoing message

    /// What every view shows of these fields (docs/architecture.md, "Operations").
    [[nodiscard]] static std::span<const core::metric> metrics() noexcept;
};

/// The kernel TCP slow path (docs/architecture.md, "Backends"): one thread with epoll accepts and
/// reads connections, frames SIP messages by Content-Length (RFC 3261 §18.3) and hands each to the
/// shard that owns it through the mail hub; what the shards send over TCP comes back through the
/// hub and leaves on the connection to that remote address, opened when there is none. Connections
/// are found by remote address, so a response goes back on the connection its request came by
/// (§18.2.2) and requests to a peer reuse the one open to it.
class tcp_server {
public:
    /// Serves the configuration's tcp listen points; `hub` must have a stream thread. `limits` must
    /// outlive the server (or be replaced with set_limits).
    tcp_server(const proxy::proxy_config& config, const tcp_limits& limits, proxy::mail_hub& hub, int wake_fd);
    ~tcp_server();
    tcp_server(const tcp_server&) = delete;
    tcp_server& operator=(const tcp_server&) = delete;

    /// Opens and binds the listening sockets; "" on success, else what failed.
    [[nodiscard]] std::string open();
    /// The loop; returns when `stop` becomes true (checked at least every 100 ms).
    void run(const std::atomic<bool>& stop, int cpu);

    [[nodiscard]] const tcp_counters& counters() const noexcept { return counters_; }
    /// A reload's limits, taken at once from any thread; `limits` must outlive the server.
    void set_limits(const tcp_limits& limits) noexcept { limits_.store(&limits, std::memory_order_release); }
    /// Stopping: the listening sockets are closed at the next turn; connections go on.
    void stop_accepting() noexcept { stop_accepting_.store(true, std::memory_order_relaxed); }

private:
    struct connection;
    struct address_hash {
        std::size_t operator()(const core::net_address& a) const noexcept;
    };

    void accept_all(std::uint32_t listen_index, int listen_fd, std::uint64_t now) noexcept;
    void on_readable(connection& c, std::uint64_t now) noexcept;
    void on_writable(connection& c, std::uint64_t now) noexcept;
    /// Frames what `c` has buffered and starts or ends its message deadline; false when a shard's
    /// mailbox is full and some is left.
    bool frame(connection& c, std::uint64_t now) noexcept;
    void send(connection& c, const char* data, std::size_t len) noexcept;
    /// Sends what the kernel takes now, from `sent` on; false when that closed the connection.
    [[nodiscard]] bool write_some(connection& c, const char* data, std::size_t len, std::size_t& sent) noexcept;
    void answer_fault(connection& c, const sip::parse_result& r) noexcept;
    void finish_closing(connection& c) noexcept;
    void send_from_shards(std::uint64_t now) noexcept;
    [[nodiscard]] connection* connect_to(const core::net_address& peer, std::uint64_t now) noexcept;
    connection* add(int fd, const core::net_address& peer, std::uint32_t listen_index, bool inbound, std::uint64_t now);
    void close(connection& c, core::counter& reason) noexcept;
    void update_events(connection& c) noexcept;
    void stall(connection& c) noexcept;
    [[nodiscard]] connection* find(const core::net_address& peer) noexcept;
    /// Whether `data` is a response; if so `sent_by` is its top Via's received address and port.
    [[nodiscard]] bool is_response(std::string_view data, core::net_address& sent_by) noexcept;
    void sweep(std::uint64_t now) noexcept;
    void close_listeners() noexcept;
    [[nodiscard]] const tcp_limits& limits() const noexcept { return *limits_.load(std::memory_order_acquire); }

    const proxy::proxy_config& config_;
    std::atomic<const tcp_limits*> limits_;
    std::atomic<bool> stop_accepting_{false};
    proxy::mail_hub& hub_;
    int wake_fd_;
    unsigned self_;
    int epoll_ = -1;
    int spare_fd_ = -1;  // given up to refuse a connection when descriptors run out
    std::vector<int> listeners_;                  // by listen index; -1 for UDP points
    std::vector<std::unique_ptr<connection>> connections_;  // by slot
    std::vector<std::uint32_t> free_slots_;
    std::size_t inbound_count_ = 0;   // against max_connections
    std::size_t outbound_count_ = 0;  // against max_outbound_connections
    std::unordered_map<core::net_address, std::uint32_t, address_hash> by_peer_;
    std::unordered_map<core::net_address, std::uint32_t, address_hash> per_ip_;  // inbound, by limit_key
    std::vector<std::uint32_t> stalled_;          // connections with framed bytes a mailbox refused
    std::vector<std::uint32_t> retry_;
    std::vector<bool> dirty_;                     // rings to the shards to publish this turn
    std::vector<sip::header> slots_;
    sip::message msg_;
    tcp_counters counters_;
};

} // namespace sipfast::io
