// SPDX-License-Identifier: Apache-2.0
#include "sipfast/io/udp_worker.hpp"

#include "sipfast/core/clock.hpp"
#include "sipfast/core/log.hpp"
#include "sipfast/core/os.hpp"
#include "sipfast/core/text_writer.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace sipfast::io {

namespace {

using core::from_sockaddr;
using core::monotonic_ns;
using core::to_sockaddr;

constexpr std::size_t max_datagram = 65535;

// Receive buffers for one burst, allocated once per worker.
struct rx_batch {
    std::array<std::array<char, max_datagram + 64>, udp_worker::burst>* buffers;
    std::array<mmsghdr, udp_worker::burst> msgs{};
    std::array<iovec, udp_worker::burst> iov{};
    std::array<sockaddr_storage, udp_worker::burst> from{};
};

} // namespace

udp_worker::udp_worker(const proxy::proxy_config& config, std::uint32_t index, proxy::mail_hub* hub,
                       const proxy::shard_control* control, int wake_fd)
    : config_(config), index_(index), wake_fd_(wake_fd),
      shard_(config, index, hub, control, monotonic_ns(),
             [](void* self, proxy::outbox&) { static_cast<udp_worker*>(self)->flush(); }, this) {}

udp_worker::~udp_worker() {
    for (const socket_point& s : sockets_)
        if (s.fd >= 0) ::close(s.fd);
}

std::string udp_worker::open() {
    for (const proxy::listen_point& lp : config_.listen) {
        if (lp.transport != sip::transport::udp) continue;
        const int fd = ::socket(lp.address.family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return std::string("socket: ") + std::strerror(errno);
        sockets_.push_back({fd, &lp});
        const int on = 1;
        // Every worker binds the same address; the kernel spreads datagrams over them by 4-tuple,
        // or by owner once sipfastd attaches its steering program (io/reuseport_steering.hpp).
        (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
            return std::string("SO_REUSEPORT: ") + std::strerror(errno);
        if (lp.address.family == 6) (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        // 4 MiB each way holds a scheduling hiccup's worth of datagrams at tens of thousands a
        // second. The kernel caps SO_RCVBUF at net.core.rmem_max (208 kB by default); with the
        // privilege to, the FORCE variants take the size asked for.
        const int buf = 4 << 20;
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
            (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
        if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf) != 0)
            (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
        sockaddr_storage ss;
        const socklen_t len = to_sockaddr(lp.address, ss);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
            std::array<char, 48> host{};
            return "bind " + std::string(core::format_host(lp.address, host)) + ":" + std::to_string(lp.address.port) +
                   ": " + std::strerror(errno);
        }
    }
    if (sockets_.empty()) return "no UDP listen address";
    return {};
}

int udp_worker::socket_for(const core::net_address& to) const noexcept {
    for (const socket_point& s : sockets_)
        if (s.point->address.family == to.family) return s.fd;
    return -1;
}

void udp_worker::flush() noexcept {
    proxy::outbox& box = shard_.out();
    const int fallback_fd = sockets_.front().fd;
    std::array<mmsghdr, burst * 4> msgs{};
    std::array<iovec, burst * 4> iov{};
    std::array<sockaddr_storage, burst * 4> to{};
    proxy::shard_stats& st = shard_.stats();
    // What was sent counts (bytes, and each forward's delay since it was received) once it is with
    // the kernel or the TCP thread; what was refused does not.
    const std::uint64_t sent_at = monotonic_ns();
    const auto count_sent = [&](const proxy::outgoing& o) {
        st.bytes_out += o.size;
        if (o.latency != 0 && sent_at > o.received_ns) proxy::record_latency(st, o.latency, sent_at - o.received_ns);
    };
    std::size_t i = 0;
    while (i < box.size()) {
        if (box[i].transport != sip::transport::udp) {  // the TCP thread sends it
            if (shard_.to_stream_thread(box[i])) count_sent(box[i]);
            else st.count_drop(proxy::drop_cause::no_route);
            ++i;
            continue;
        }
        // One sendmmsg per run of UDP messages leaving through the same socket.
        const int fd = socket_for(box[i].destination);
        std::size_t n = 0;
        while (i + n < box.size() && n < msgs.size() && box[i + n].transport == sip::transport::udp &&
               socket_for(box[i + n].destination) == fd) {
            const proxy::outgoing& o = box[i + n];
            const auto bytes = box.bytes(o);
            iov[n] = iovec{const_cast<char*>(bytes.data()), bytes.size()};
            msgs[n].msg_hdr = msghdr{};
            msgs[n].msg_hdr.msg_iov = &iov[n];
            msgs[n].msg_hdr.msg_iovlen = 1;
            msgs[n].msg_hdr.msg_name = &to[n];
            msgs[n].msg_hdr.msg_namelen = to_sockaddr(o.destination, to[n]);
            ++n;
        }
        const int use = fd >= 0 ? fd : fallback_fd;
        // sendmmsg stops at the first message the kernel refuses: that one is dropped and counted
        // by cause, and the rest of the run is sent after it. Nothing is retried in a spin (l3fwd):
        // a full socket buffer costs each message once.
        std::size_t done = 0;
        while (done < n) {
            const int r = use >= 0 ? ::sendmmsg(use, msgs.data() + done, static_cast<unsigned>(n - done), 0) : -1;
            if (r > 0) {
                for (std::size_t k = done; k < done + static_cast<std::size_t>(r); ++k) count_sent(box[i + k]);
                done += static_cast<std::size_t>(r);
                continue;
            }
            const int e = r < 0 ? errno : EIO;
            st.count_drop(e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == ENOMEM ? proxy::drop_cause::send_busy
                                                                                       : proxy::drop_cause::send_refused);
            ++done;
        }
        i += n;
    }
    box.clear();
}

void udp_worker::report_faults(std::uint64_t now_ns) noexcept {
    // A flood of bad packets is one line a second with a count, never a line per packet.
    if (now_ns < next_report_ns_) return;
    next_report_ns_ = now_ns + 1'000'000'000;
    const std::uint64_t malformed = shard_.stats().malformed();
    if (malformed == reported_malformed_ || !core::logger::enabled(core::log_level::warn)) {
        reported_malformed_ = malformed;
        return;
    }
    const proxy::pipeline::fault f = shard_.core().last_fault();
    std::array<char, 48> host{};
    core::text<256> line;  // the longest host and reason phrase fit
    line.put("worker ").number(index_).put(": ").number(malformed - reported_malformed_);
    line.put(" malformed messages in the last second, the last from ").put(core::format_host(f.source, host));
    line.put(':').number(f.source.port).put(": ").put(sip::to_reason_phrase(f.error));
    core::log_warn(line.view());
    reported_malformed_ = malformed;
}

void udp_worker::run(const std::atomic<bool>& stop, int cpu) {
    core::pin_to(cpu);
    auto buffers = std::make_unique<std::array<std::array<char, max_datagram + 64>, burst>>();
    rx_batch rx;
    rx.buffers = buffers.get();
    std::vector<pollfd> fds;
    for (const socket_point& s : sockets_) fds.push_back(pollfd{s.fd, POLLIN, 0});
    if (wake_fd_ >= 0) fds.push_back(pollfd{wake_fd_, POLLIN, 0});
    proxy::shard_stats& st = shard_.stats();
    std::uint64_t turn_start = monotonic_ns();
    std::uint64_t last_traffic = 0;  // when a turn last found datagrams: the busy-poll window runs from it
    bool more_mail = false;
    while (!stop.load(std::memory_order_relaxed)) {
        // Back-pressure: the sockets are read only while every mailbox we hand over to has room
        // for a burst; otherwise they are not watched (the kernel's buffer holds what comes) and
        // we wait for our own mail or 1 ms, the owners draining meanwhile.
        const bool reading = shard_.ready_for_input(burst * 4096);
        for (std::size_t k = 0; k < sockets_.size(); ++k) fds[k].events = reading ? POLLIN : 0;
        // 10 ms bounds how late a timer fires (the wheel ticks in 1 ms) when no traffic wakes us.
        const std::uint64_t waited_from = monotonic_ns();
        st.busy_ns += waited_from - turn_start;
        const std::uint64_t spin_ns = config_.busy_poll_ns;  // fixed until restart
        const bool spinning = spin_ns != 0 && reading && waited_from - last_traffic < spin_ns;
        const int ready = ::poll(fds.data(), fds.size(), more_mail || spinning ? 0 : reading ? 10 : 1);
        const std::uint64_t now = monotonic_ns();
        st.idle_ns += now - waited_from;
        turn_start = now;
        shard_.follow_control();
        report_faults(now);
        if (wake_fd_ >= 0 && ready > 0 && (fds.back().revents & POLLIN)) {
            std::uint64_t v = 0;
            (void)!::read(wake_fd_, &v, sizeof v);
        }
        more_mail = shard_.on_mail(now);
        shard_.on_tick(now);
        for (std::size_t k = 0; reading && ready > 0 && k < sockets_.size(); ++k) {
            if (!(fds[k].revents & POLLIN)) continue;
            for (unsigned i = 0; i < burst; ++i) {
                rx.iov[i] = iovec{(*rx.buffers)[i].data(), max_datagram};
                rx.msgs[i].msg_hdr = msghdr{};
                rx.msgs[i].msg_hdr.msg_iov = &rx.iov[i];
                rx.msgs[i].msg_hdr.msg_iovlen = 1;
                rx.msgs[i].msg_hdr.msg_name = &rx.from[i];
                rx.msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            }
            const int n = ::recvmmsg(sockets_[k].fd, rx.msgs.data(), burst, MSG_DONTWAIT, nullptr);
            if (n <= 0) continue;
            last_traffic = now;
            for (int i = 0; i < n; ++i) {
                const auto len = rx.msgs[static_cast<std::size_t>(i)].msg_len;
                st.bytes_in += len;
                const proxy::inbound in{std::string_view((*rx.buffers)[static_cast<std::size_t>(i)].data(), len),
                                        from_sockaddr(rx.from[static_cast<std::size_t>(i)]), sockets_[k].point,
                                        false, now};
                shard_.on_packet(in, now);
            }
        }
        if (!shard_.out().empty()) flush();
        shard_.end_turn();
    }
}

} // namespace sipfast::io
