// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <string_view>

namespace sipfast::ops {

/// The operator's side door (docs/architecture.md, "Operations"), on a thread of its own so that
/// nothing it does can slow a worker: Prometheus scrapes over HTTP on loopback (`GET /metrics`) and
/// one-line commands on a Unix socket (what sipfastctl sends). Both answer from callbacks that read
/// the lock-free counters.
class ops_server {
public:
    struct handlers {
        std::function<std::string()> metrics;                      ///< the /metrics body
        std::function<std::string(std::string_view)> command;      ///< a control command's answer
    };

    explicit ops_server(handlers h) : handlers_(std::move(h)) {}
    ~ops_server();
    ops_server(const ops_server&) = delete;
    ops_server& operator=(const ops_server&) = delete;

    /// Binds the metrics address ("127.0.0.1:9160", "[::1]:9160"; empty: no metrics) and the control
    /// socket path (empty: none; created mode 0600, a stale one replaced). "" or what failed.
    [[nodiscard]] std::string open(std::string_view metrics_listen, const std::string& control_path);
    /// Serves until `stop` becomes true (checked every 100 ms).
    void run(const std::atomic<bool>& stop);

    /// The port metrics listen on (after open; useful when 0 was asked for).
    [[nodiscard]] unsigned metrics_port() const noexcept { return metrics_port_; }

private:
    void serve_http(int fd);
    void serve_control(int fd);

    handlers handlers_;
    int metrics_fd_ = -1;
    int control_fd_ = -1;
    unsigned metrics_port_ = 0;
    std::string control_path_;
};

/// Sends one command to a daemon's control socket and returns its answer; throws std::runtime_error
/// with a message an operator can act on (no daemon, no permission).
[[nodiscard]] std::string send_command(const std::string& control_path, std::string_view command);

} // namespace sipfast::ops
