// SPDX-License-Identifier: Apache-2.0
#include "udp_agent.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "sipfast/core/clock.hpp"
#include "sipfast/core/os.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::loadgen {

namespace {

constexpr std::size_t batch = 64;
constexpr std::size_t rx_bytes = 8192;  // our own messages fit; a larger datagram is cut and refused

int open_socket(const core::net_address& at, bool reuse_port, const char* role) {
    const int fd = ::socket(at.family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string(role) + ": socket: " + std::strerror(errno));
    const int one = 1;
    if (reuse_port) (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    // Deep socket buffers, so a thread descheduled for a few milliseconds at tens of thousands of
    // calls a second loses nothing: 32 MiB past net.core.rmem_max where we may (CAP_NET_ADMIN),
    // else as much as rmem_max allows.
    const int bytes = 32 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
        (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
    sockaddr_storage ss{};
    const socklen_t len = core::to_sockaddr(at, ss);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
        const int e = errno;
        ::close(fd);
        throw std::runtime_error(std::string(role) + ": bind: " + std::strerror(e));
    }
    return fd;
}

} // namespace

struct udp_agent::buffers {
    std::array<std::array<char, rx_bytes + sip::padding_bytes>, batch> data{};
    std::array<sockaddr_storage, batch> from{};
    std::array<iovec, batch> iov{};
    std::array<mmsghdr, batch> msgs{};
    // Sending: the outbox's batch at most.
    std::array<sockaddr_storage, batch> to{};
    std::array<iovec, batch> tx_iov{};
    std::array<mmsghdr, batch> tx{};
};

udp_agent::udp_agent(const agent_options& o, agent_stats& stats)
    : o_(o), stats_(stats), caller_out_(batch, &udp_agent::send_caller, this),
      callee_out_(batch, &udp_agent::send_callee, this), rx_(new buffers) {
    const std::uint64_t now = core::monotonic_ns();
    try {
        if (o_.callee) {
            callee_fd_ = open_socket(o_.uas_listen, true, "callee");
            uas_ = std::make_unique<uas>(callee_config(o_), stats_.uas, now);
        }
        if (o_.caller) {
            caller_fd_ = open_socket(o_.local, false, "caller");
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            (void)::getsockname(caller_fd_, reinterpret_cast<sockaddr*>(&ss), &len);
            caller_port_ = core::from_sockaddr(ss).port;
            // Connected: every request goes to the target and every answer comes from it, and the
            // kernel skips the route lookup per datagram.
            const socklen_t tlen = core::to_sockaddr(o_.target, ss);
            if (::connect(caller_fd_, reinterpret_cast<const sockaddr*>(&ss), tlen) != 0)
                throw std::runtime_error(std::string("caller: connect: ") + std::strerror(errno));
            const uac_config c = caller_config(o_, caller_port_, false);
            uac_ = std::make_unique<uac>(c, stats_.uac, now);
        } else {
            caller_done_ = true;
        }
    } catch (...) {
        if (caller_fd_ >= 0) ::close(caller_fd_);
        if (callee_fd_ >= 0) ::close(callee_fd_);
        throw;
    }
    for (std::size_t i = 0; i < batch; ++i) {
        rx_->iov[i] = {rx_->data[i].data(), rx_bytes};
        rx_->msgs[i].msg_hdr.msg_iov = &rx_->iov[i];
        rx_->msgs[i].msg_hdr.msg_iovlen = 1;
        rx_->tx[i].msg_hdr.msg_iov = &rx_->tx_iov[i];
        rx_->tx[i].msg_hdr.msg_iovlen = 1;
    }
}

udp_agent::~udp_agent() {
    if (caller_fd_ >= 0) ::close(caller_fd_);
    if (callee_fd_ >= 0) ::close(callee_fd_);
}

void udp_agent::send_caller(void* self, std::span<const datagram> b) noexcept {
    auto* a = static_cast<udp_agent*>(self);
    a->send(a->caller_fd_, true, b);
}
void udp_agent::send_callee(void* self, std::span<const datagram> b) noexcept {
    auto* a = static_cast<udp_agent*>(self);
    a->send(a->callee_fd_, false, b);
}

void udp_agent::send(int fd, bool connected, std::span<const datagram> b) noexcept {
    buffers& x = *rx_;
    for (std::size_t i = 0; i < b.size(); ++i) {
        x.tx_iov[i] = {const_cast<char*>(b[i].text.data()), b[i].text.size()};
        msghdr& h = x.tx[i].msg_hdr;
        if (connected) {
            h.msg_name = nullptr;
            h.msg_namelen = 0;
        } else {
            h.msg_namelen = core::to_sockaddr(b[i].to, x.to[i]);
            h.msg_name = &x.to[i];
        }
    }
    std::size_t done = 0;
    while (done < b.size()) {
        const int n = ::sendmmsg(fd, x.tx.data() + done, static_cast<unsigned>(b.size() - done), 0);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == ENOBUFS)) {  // the socket's buffer is full: wait for room
            pollfd p{fd, POLLOUT, 0};
            (void)::poll(&p, 1, 10);
            continue;
        }
        // ECONNREFUSED (nobody at the target yet) and the like: this datagram is lost, as on a network.
        stats_.send_errors.add(1);
        ++done;
    }
    stats_.datagrams_sent.add(b.size());
}

std::size_t udp_agent::receive(int fd, bool callee, std::uint64_t now_ns) {
    buffers& x = *rx_;
    for (std::size_t i = 0; i < batch; ++i) {
        x.msgs[i].msg_hdr.msg_name = &x.from[i];
        x.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    const int n = ::recvmmsg(fd, x.msgs.data(), batch, MSG_DONTWAIT, nullptr);
    if (n <= 0) return 0;
    const auto count = static_cast<std::size_t>(n);
    stats_.datagrams_received.add(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view data(x.data[i].data(), x.msgs[i].msg_len);
        if (callee) uas_->on_datagram(data, core::from_sockaddr(x.from[i]), now_ns, callee_out_);
        else uac_->on_datagram(data, now_ns, caller_out_);
    }
    return count;
}

void register_users(const agent_options& o, const registrant_config& c, registrant_stats& stats,
                    const std::atomic<bool>& stop) {
    struct socket_out {
        int fd;
        static void send(void* self, std::span<const datagram> b) noexcept {
            const int fd = static_cast<socket_out*>(self)->fd;
            for (const datagram& d : b) {
                sockaddr_storage ss{};
                const socklen_t len = core::to_sockaddr(d.to, ss);
                (void)::sendto(fd, d.text.data(), d.text.size(), 0, reinterpret_cast<const sockaddr*>(&ss), len);
            }
        }
    };
    socket_out sock{open_socket(o.uas_listen, true, "register")};
    outbox out(batch, &socket_out::send, &sock);
    registrant r(c, stats, core::monotonic_ns());
    r.start(core::monotonic_ns(), out);
    std::array<char, rx_bytes + sip::padding_bytes> data{};
    while (!r.done() && !stop.load()) {
        out.flush();
        pollfd p{sock.fd, POLLIN, 0};
        (void)::poll(&p, 1, 1);
        const std::uint64_t now = core::monotonic_ns();
        for (ssize_t n; (n = ::recv(sock.fd, data.data(), rx_bytes, MSG_DONTWAIT)) > 0;)
            (void)r.on_datagram({data.data(), static_cast<std::size_t>(n)}, now, out);  // requests: none expected yet
        r.advance(now, out);
    }
    out.flush();
    ::close(sock.fd);
}

void udp_agent::run(const std::atomic<bool>& stop) {
    pacer pace(uac_ ? o_.rate : 0, o_start_ns_, o_.calls, o_end_ns_);
    std::uint64_t drain_until = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        std::uint64_t now = core::monotonic_ns();
        std::size_t work = 0;
        if (uac_) work += receive(caller_fd_, false, now);
        if (uas_) work += receive(callee_fd_, true, now);
        if (uac_ && !caller_done_.load(std::memory_order_relaxed))
            work += caller_turn(*uac_, caller_out_, pace, now, o_.drain_ns, drain_until);
        if (uac_) uac_->advance(now, caller_out_);
        if (uas_) uas_->advance(now, callee_out_);
        caller_out_.flush();
        callee_out_.flush();
        if (caller_done_.load(std::memory_order_relaxed) && !uas_) break;
        if (work != 0) continue;
        // Idle: sleep until a datagram, the next call or 1 ms (the timers' tick).
        now = core::monotonic_ns();
        const std::uint64_t next = caller_done_.load(std::memory_order_relaxed) ? ~std::uint64_t{0} : pace.next_due_ns();
        if (next <= now) continue;
        const std::uint64_t wait_ns = std::min<std::uint64_t>(next - now, 1'000'000);
        std::array<pollfd, 2> fds{};
        nfds_t k = 0;
        if (uac_) fds[k++] = {caller_fd_, POLLIN, 0};
        if (uas_) fds[k++] = {callee_fd_, POLLIN, 0};
        const timespec ts{0, static_cast<long>(wait_ns)};
        (void)::ppoll(fds.data(), k, &ts, nullptr);
    }
    if (uac_ && !caller_done_.load()) {
        uac_->abandon_all();
        caller_done_.store(true, std::memory_order_release);
    }
}

} // namespace sipfast::loadgen
