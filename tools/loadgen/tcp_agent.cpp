// SPDX-License-Identifier: Apache-2.0
// One sipfast-loadgen thread over TCP: the caller's one connection to the target, the callee's
// listener and the connections it accepted; messages framed by Content-Length (sip::parse in stream
// mode), many to a write.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "sipfast/core/clock.hpp"
#include "sipfast/core/os.hpp"
#include "sipfast/sip/parser.hpp"
#include "udp_agent.hpp"

namespace sipfast::loadgen {

namespace {

constexpr std::size_t in_bytes = 1 << 20;
constexpr std::size_t out_bytes = 4 << 20;
constexpr std::size_t max_connections = 256;

struct connection {
    int fd = -1;
    core::net_address peer;
    std::unique_ptr<char[]> in{new char[in_bytes + sip::padding_bytes]};
    std::size_t in_len = 0;
    std::unique_ptr<char[]> out{new char[out_bytes]};
    std::size_t out_len = 0;

    connection() = default;
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() {
        if (fd >= 0) ::close(fd);
    }
};

void tune(int fd) {
    const int one = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

class tcp_agent final : public agent {
public:
    tcp_agent(const agent_options& o, agent_stats& stats)
        : o_(o), stats_(stats), caller_out_(64, &tcp_agent::send_caller, this),
          callee_out_(64, &tcp_agent::send_callee, this) {
        const std::uint64_t now = core::monotonic_ns();
        sockaddr_storage ss{};
        if (o_.callee) {
            listen_fd_ = ::socket(o_.uas_listen.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            const int one = 1;
            (void)::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
            (void)::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            const socklen_t len = core::to_sockaddr(o_.uas_listen, ss);
            if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&ss), len) != 0 ||
                ::listen(listen_fd_, 128) != 0)
                throw std::runtime_error(std::string("callee: tcp listen: ") + std::strerror(errno));
            uas_ = std::make_unique<uas>(callee_config(o_), stats_.uas, now);
            callees_.reserve(max_connections);
        }
        if (o_.caller) {
            caller_.fd = ::socket(o_.target.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            const socklen_t llen = core::to_sockaddr(o_.local, ss);
            if (caller_.fd < 0 || ::bind(caller_.fd, reinterpret_cast<const sockaddr*>(&ss), llen) != 0)
                throw std::runtime_error(std::string("caller: tcp bind: ") + std::strerror(errno));
            const socklen_t tlen = core::to_sockaddr(o_.target, ss);
            if (::connect(caller_.fd, reinterpret_cast<const sockaddr*>(&ss), tlen) != 0)
                throw std::runtime_error(std::string("caller: tcp connect: ") + std::strerror(errno));
            tune(caller_.fd);
            (void)::fcntl(caller_.fd, F_SETFL, ::fcntl(caller_.fd, F_GETFL) | O_NONBLOCK);
            socklen_t len = sizeof ss;
            (void)::getsockname(caller_.fd, reinterpret_cast<sockaddr*>(&ss), &len);
            caller_.peer = o_.target;
            const uac_config c = caller_config(o_, core::from_sockaddr(ss).port, true);
            uac_ = std::make_unique<uac>(c, stats_.uac, now);
        } else {
            caller_done_ = true;
        }
    }
    ~tcp_agent() override {
        if (listen_fd_ >= 0) ::close(listen_fd_);
    }

    void run(const std::atomic<bool>& stop) override;

private:
    static void send_caller(void* self, std::span<const datagram> b) noexcept {
        auto* a = static_cast<tcp_agent*>(self);
        for (const datagram& d : b) a->queue(a->caller_, d.text);
    }
    static void send_callee(void* self, std::span<const datagram> b) noexcept {
        auto* a = static_cast<tcp_agent*>(self);
        for (const datagram& d : b) {
            connection* to = nullptr;
            for (auto& c : a->callees_)
                if (c->fd >= 0 && c->peer == d.to) to = c.get();
            if (to == nullptr) {
                a->stats_.send_errors.add(1);  // its connection closed
                continue;
            }
            a->queue(*to, d.text);
        }
    }
    void queue(connection& c, std::string_view text) noexcept {
        if (c.fd < 0) return;
        if (text.size() > out_bytes - c.out_len) write_out(c);
        if (text.size() > out_bytes - c.out_len) {
            stats_.send_errors.add(1);
            return;
        }
        std::memcpy(c.out.get() + c.out_len, text.data(), text.size());
        c.out_len += text.size();
        stats_.datagrams_sent.add(1);
    }
    void write_out(connection& c) noexcept {
        std::size_t done = 0;
        while (done < c.out_len) {
            const ssize_t n = ::send(c.fd, c.out.get() + done, c.out_len - done, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                done += static_cast<std::size_t>(n);
                continue;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                pollfd p{c.fd, POLLOUT, 0};
                (void)::poll(&p, 1, 1);
                continue;
            }
            stats_.send_errors.add(1);
            close(c);
            return;
        }
        c.out_len = 0;
    }
    void close(connection& c) noexcept {
        if (c.fd >= 0) ::close(c.fd);
        c.fd = -1;
        c.in_len = c.out_len = 0;
    }
    // Reads what is there and hands each whole message to the caller or callee.
    std::size_t receive(connection& c, bool callee, std::uint64_t now_ns) {
        if (c.fd < 0) return 0;
        const ssize_t n = ::recv(c.fd, c.in.get() + c.in_len, in_bytes - c.in_len, MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            close(c);
            return 0;
        }
        if (n < 0) return 0;
        c.in_len += static_cast<std::size_t>(n);
        std::size_t at = 0, messages = 0;
        sip::parse_options stream;
        stream.stream = true;
        while (at < c.in_len) {
            const std::string_view rest(c.in.get() + at, c.in_len - at);
            const sip::parse_result r = sip::parse(rest, m_, slots_, stream);
            if (r.status == sip::parse_status::incomplete) break;
            if (!r.ok()) {  // no framing to resume from: the connection is lost
                (callee ? stats_.uas.unparsable : stats_.uac.unparsable).add(1);
                close(c);
                return messages;
            }
            const std::string_view msg = rest.substr(0, r.consumed);
            if (m_.is_request() || m_.is_response()) {
                ++messages;
                if (callee) uas_->on_datagram(msg, c.peer, now_ns, callee_out_);
                else uac_->on_datagram(msg, now_ns, caller_out_);
            }
            at += r.consumed;
        }
        stats_.datagrams_received.add(messages);
        std::memmove(c.in.get(), c.in.get() + at, c.in_len - at);
        c.in_len -= at;
        if (c.in_len == in_bytes) close(c);  // a message larger than the buffer
        return messages + 1;
    }
    void accept_all() {
        while (true) {
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) return;
            tune(fd);
            connection* slot = nullptr;
            for (auto& c : callees_)
                if (c->fd < 0) slot = c.get();
            if (slot == nullptr) {
                if (callees_.size() == max_connections) {
                    ::close(fd);
                    continue;
                }
                callees_.push_back(std::make_unique<connection>());
                slot = callees_.back().get();
            }
            slot->fd = fd;
            slot->peer = core::from_sockaddr(ss);
        }
    }

    agent_options o_;
    agent_stats& stats_;
    int listen_fd_ = -1;
    connection caller_;
    std::vector<std::unique_ptr<connection>> callees_;
    std::unique_ptr<uac> uac_;
    std::unique_ptr<uas> uas_;
    outbox caller_out_, callee_out_;
    sip::message m_;
    std::array<sip::header, 96> slots_{};
};

void tcp_agent::run(const std::atomic<bool>& stop) {
    pacer pace(uac_ ? o_.rate : 0, o_start_ns_, o_.calls, o_end_ns_);
    std::uint64_t drain_until = 0;
    std::vector<pollfd> fds;
    fds.reserve(max_connections + 2);
    while (!stop.load(std::memory_order_relaxed)) {
        std::uint64_t now = core::monotonic_ns();
        std::size_t work = 0;
        if (uac_) work += receive(caller_, false, now);
        if (uas_) {
            accept_all();
            for (auto& c : callees_) work += receive(*c, true, now);
        }
        if (uac_ && !caller_done_.load(std::memory_order_relaxed))
            work += caller_turn(*uac_, caller_out_, pace, now, o_.drain_ns, drain_until);
        if (uac_) uac_->advance(now, caller_out_);
        if (uas_) uas_->advance(now, callee_out_);
        caller_out_.flush();
        callee_out_.flush();
        if (caller_.out_len != 0) write_out(caller_);
        for (auto& c : callees_)
            if (c->out_len != 0) write_out(*c);
        if (caller_done_.load(std::memory_order_relaxed) && !uas_) break;
        if (work != 0) continue;
        now = core::monotonic_ns();
        const std::uint64_t next = caller_done_.load(std::memory_order_relaxed) ? ~std::uint64_t{0} : pace.next_due_ns();
        if (next <= now) continue;
        const std::uint64_t wait_ns = std::min<std::uint64_t>(next - now, 1'000'000);
        fds.clear();
        if (uac_ && caller_.fd >= 0) fds.push_back({caller_.fd, POLLIN, 0});
        if (uas_) {
            fds.push_back({listen_fd_, POLLIN, 0});
            for (auto& c : callees_)
                if (c->fd >= 0) fds.push_back({c->fd, POLLIN, 0});
        }
        const timespec ts{0, static_cast<long>(wait_ns)};
        (void)::ppoll(fds.data(), fds.size(), &ts, nullptr);
    }
    if (uac_ && !caller_done_.load()) {
        uac_->abandon_all();
        caller_done_.store(true, std::memory_order_release);
    }
}

} // namespace

std::unique_ptr<agent> make_tcp_agent(const agent_options& o, agent_stats& stats) {
    return std::make_unique<tcp_agent>(o, stats);
}

} // namespace sipfast::loadgen
