// SPDX-License-Identifier: Apache-2.0
#include "sipfast/ops/ops_server.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "sipfast/core/net_address.hpp"
#include "sipfast/core/os.hpp"

namespace sipfast::ops {

namespace {

constexpr int client_budget_ms = 2000;  // a whole request and answer, however the client trickles

using clock = std::chrono::steady_clock;

int ms_left(clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

// Reads until `end` is seen, the peer closes, `limit` bytes, or the deadline (the socket is
// non-blocking: nothing here waits past the deadline).
std::string read_until(int fd, std::string_view end, std::size_t limit, clock::time_point deadline) {
    std::string in;
    char buf[2048];
    while (in.size() < limit && in.find(end) == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, ms_left(deadline)) <= 0) break;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
    }
    return in;
}

void write_all(int fd, std::string_view data, clock::time_point deadline) {
    while (!data.empty()) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, ms_left(deadline)) <= 0) return;
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0) return;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) throw std::runtime_error(path + ": socket path too long");
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return a;
}

} // namespace

ops_server::~ops_server() {
    if (metrics_fd_ >= 0) ::close(metrics_fd_);
    if (control_fd_ >= 0) {
        ::close(control_fd_);
        (void)::unlink(control_path_.c_str());
    }
}

std::string ops_server::open(std::string_view metrics_listen, const std::string& control_path) {
    if (!metrics_listen.empty()) {
        core::net_address a;
        if (!core::parse_ip_port(metrics_listen, 9160, a, true)) return "metrics: '" + std::string(metrics_listen) + "' is not ip:port";
        metrics_fd_ = ::socket(a.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const int on = 1;
        (void)::setsockopt(metrics_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_storage ss;
        socklen_t len = core::to_sockaddr(a, ss);
        if (metrics_fd_ < 0 || ::bind(metrics_fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
            ::listen(metrics_fd_, 16) != 0)
            return "metrics: bind " + std::string(metrics_listen) + ": " + std::strerror(errno);
        len = sizeof ss;
        (void)::getsockname(metrics_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
        metrics_port_ = core::from_sockaddr(ss).port;
    }
    if (!control_path.empty()) {
        sockaddr_un a{};
        try {
            a = unix_address(control_path);
        } catch (const std::exception& e) {
            return std::string("control: ") + e.what();
        }
        control_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        // A socket left by a daemon that died is replaced; a live one means another daemon runs;
        // anything else at that path is not ours to remove.
        if (::connect(control_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0)
            return "control: " + control_path + ": another sipfastd answers there";
        ::close(control_fd_);
        struct stat st{};
        if (::lstat(control_path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode)) return "control: " + control_path + ": exists and is not a socket";
            (void)::unlink(control_path.c_str());
        }
        control_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const mode_t old = ::umask(0177);  // created 0600: the commands stop and reload the daemon
        const int r = ::bind(control_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::umask(old);
        if (r != 0 || ::listen(control_fd_, 16) != 0)
            return "control: bind " + control_path + ": " + std::strerror(errno);
        control_path_ = control_path;
    }
    return {};
}

void ops_server::serve_http(int fd) {
    const auto deadline = clock::now() + std::chrono::milliseconds(client_budget_ms);
    const std::string req = read_until(fd, "\r\n\r\n", 8192, deadline);
    const std::size_t sp = req.find(' ');
    const std::string_view method = std::string_view(req).substr(0, sp);
    std::string_view path = sp == std::string::npos ? std::string_view{} : std::string_view(req).substr(sp + 1);
    path = path.substr(0, path.find(' '));
    path = path.substr(0, path.find('?'));
    std::string status = "200 OK", type = "text/plain; version=0.0.4; charset=utf-8", body;
    if (method != "GET" && method != "HEAD") {
        status = "405 Method Not Allowed";
        body = "only GET\n";
    } else if (path == "/metrics") {
        body = handlers_.metrics();
    } else if (path == "/") {
        type = "text/html; charset=utf-8";
        body = "<html><body><a href=\"/metrics\">/metrics</a></body></html>\n";
    } else {
        status = "404 Not Found";
        body = "not found; try /metrics\n";
    }
    std::string head = "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    write_all(fd, head, deadline);
    if (method != "HEAD") write_all(fd, body, deadline);
}

void ops_server::serve_control(int fd) {
    const auto deadline = clock::now() + std::chrono::milliseconds(client_budget_ms);
    std::string line = read_until(fd, "\n", 4096, deadline);
    line = line.substr(0, line.find('\n'));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // The answer may take a moment to make (a reload); the client gets its own budget to read it.
    write_all(fd, handlers_.command(line), clock::now() + std::chrono::milliseconds(client_budget_ms));
}

void ops_server::run(const std::atomic<bool>& stop) {
    while (!stop.load(std::memory_order_relaxed)) {
        pollfd fds[2] = {{metrics_fd_, POLLIN, 0}, {control_fd_, POLLIN, 0}};
        if (::poll(fds, 2, 100) <= 0) continue;
        for (int k = 0; k < 2; ++k) {
            if (!(fds[k].revents & POLLIN)) continue;
            const int c = ::accept4(fds[k].fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (c < 0) continue;
            try {
                if (k == 0) serve_http(c);
                else serve_control(c);
            } catch (const std::exception&) {  // out of memory for one answer: that client gets nothing
            }
            ::close(c);
        }
    }
}

std::string send_command(const std::string& control_path, std::string_view command) {
    const sockaddr_un a = unix_address(control_path);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) {
        const int e = errno;
        ::close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            throw std::runtime_error(control_path + ": sipfastd is not running (no one answers on its control socket)");
        if (e == EACCES || e == EPERM)
            throw std::runtime_error(control_path + ": permission denied (the socket is mode 0600: run as the daemon's user)");
        throw std::runtime_error(control_path + ": " + std::strerror(e));
    }
    write_all(fd, std::string(command) + "\n", clock::now() + std::chrono::seconds(10));
    (void)::shutdown(fd, SHUT_WR);
    std::string answer;
    char buf[4096];
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10000) <= 0) {
            ::close(fd);
            throw std::runtime_error(control_path + ": sipfastd did not answer within 10 s");
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        answer.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return answer;
}

} // namespace sipfast::ops
