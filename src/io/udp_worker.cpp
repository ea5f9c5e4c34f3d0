// SPDX-License-Identifier: Apache-2.0
#include "sipfast/io/udp_worker.hpp"

#include "os.hpp"
#include "sipfast/ops/log.hpp"

#include <poll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sipfast::io {

namespace {

using detail::from_sockaddr;
using detail::monotonic_ns;
using detail::to_sockaddr;

constexpr std::size_t max_datagram = 65535;

// Receive buffers for one burst, allocated once per worker.
struct rx_batch {
    std::array<std::array<char, max_datagram + 64>, udp_worker::burst>* buffers;
    std::array<mmsghdr, udp_worker::burst> msgs{};
    std::array<iovec, udp_worker::burst> iov{};
    std::array<sockaddr_storage, udp_worker::burst> from{};
};

} // namespace

udp_worker::udp_worker(const proxy::proxy_config& config, std::uint32_t index, mail_hub* hub, const run_control* control)
    : config_(config), index_(index), hub_(hub), control_(control), dirty_(hub ? hub->participants() : 0, false),
      pipeline_(config, index, monotonic_ns(), hub ? hub->workers() : 1), outbox_(burst * 4 * 4096, burst * 4) {}

void udp_worker::handle(const proxy::inbound& in, std::uint64_t now_ns) noexcept {
    const std::uint32_t owner = pipeline_.on_packet(in, now_ns, outbox_);
    if (owner == index_ || hub_ == nullptr) return;
    // Not ours: handed to its owner once (docs/architecture.md, "Shards"). A full mailbox drops it
    // and counts; the sender retransmits.
    if (!hub_->post(index_, owner, in.data, static_cast<std::uint32_t>(in.local - config_.listen.data()), in.source,
                    in.received_ns)) {
        pipeline_.stats().count_drop(proxy::drop_cause::mailbox_full);
        return;
    }
    ++pipeline_.stats().mailbox_hops;
    dirty_[owner] = true;
}

void udp_worker::drain_mail(std::uint64_t now_ns) noexcept {
    if (hub_ == nullptr) return;
    for (unsigned from = 0; from < hub_->participants(); ++from) {
        if (from == index_) continue;
        hub_->ring(from, index_).consume([&](const mail& m) {
            const proxy::inbound in{std::string_view(m.data, m.len), m.peer, &config_.listen[m.listen_index], true,
                                    m.received_ns};
            (void)pipeline_.on_packet(in, now_ns, outbox_);
        });
    }
}

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
        // Every worker binds the same address; the kernel spreads datagrams over them by 4-tuple.
        (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
            return std::string("SO_REUSEPORT: ") + std::strerror(errno);
        if (lp.address.family == 6) (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        const int buf = 4 << 20;
        (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
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

void udp_worker::flush(int fallback_fd) noexcept {
    std::array<mmsghdr, burst * 4> msgs{};
    std::array<iovec, burst * 4> iov{};
    std::array<sockaddr_storage, burst * 4> to{};
    proxy::shard_stats& st = pipeline_.stats();
    // What was sent counts (bytes, and each forward's delay since it was received) once it is with
    // the kernel or the TCP thread; what was refused does not.
    const std::uint64_t sent_at = monotonic_ns();
    const auto count_sent = [&](const proxy::outgoing& o) {
        st.bytes_out += o.size;
        if (o.latency != 0 && sent_at > o.received_ns) proxy::record_latency(st, o.latency, sent_at - o.received_ns);
    };
    std::size_t i = 0;
    while (i < outbox_.size()) {
        if (outbox_[i].transport != sip::transport::udp) {  // the TCP thread sends it
            if (to_stream_thread(outbox_[i])) count_sent(outbox_[i]);
            else st.count_drop(proxy::drop_cause::no_route);
            ++i;
            continue;
        }
        // One sendmmsg per run of UDP messages leaving through the same socket.
        const int fd = socket_for(outbox_[i].destination);
        std::size_t n = 0;
        while (i + n < outbox_.size() && n < msgs.size() && outbox_[i + n].transport == sip::transport::udp &&
               socket_for(outbox_[i + n].destination) == fd) {
            const proxy::outgoing& o = outbox_[i + n];
            const auto bytes = outbox_.bytes(o);
            iov[n] = iovec{const_cast<char*>(bytes.data()), bytes.size()};
            msgs[n].msg_hdr = msghdr{};
            msgs[n].msg_hdr.msg_iov = &iov[n];
            msgs[n].msg_hdr.msg_iovlen = 1;
            msgs[n].msg_hdr.msg_name = &to[n];
            msgs[n].msg_hdr.msg_namelen = to_sockaddr(o.destination, to[n]);
            ++n;
        }
        const int use = fd >= 0 ? fd : fallback_fd;
        std::size_t sent = 0;
        while (use >= 0 && sent < n) {
            const int r = ::sendmmsg(use, msgs.data() + sent, static_cast<unsigned>(n - sent), 0);
            if (r <= 0) break;  // what the kernel refuses is dropped, not retried in a spin (l3fwd)
            sent += static_cast<std::size_t>(r);
        }
        for (std::size_t k = 0; k < sent; ++k) count_sent(outbox_[i + k]);
        i += n;
    }
    outbox_.clear();
}

static_assert(proxy::default_max_stream_message <= mail::max_bytes,
              "the pipeline moves to TCP only what a mailbox slot holds");

bool udp_worker::to_stream_thread(const proxy::outgoing& o) noexcept {
    if (hub_ == nullptr || !hub_->has_stream_thread()) return false;
    const unsigned to = hub_->stream_thread();
    if (!hub_->post(index_, to, {outbox_.bytes(o).data(), o.size}, 0, o.destination, o.received_ns)) return false;
    dirty_[to] = true;
    return true;
}

void udp_worker::publish_mail() noexcept {
    // Once per turn: publish each ring that got mail and wake its consumer.
    for (unsigned to = 0; to < dirty_.size(); ++to) {
        if (!dirty_[to]) continue;
        dirty_[to] = false;
        hub_->ring(index_, to).publish();
        hub_->wake(to);
    }
}

void udp_worker::follow_control() noexcept {
    if (control_ == nullptr) return;
    const proxy::proxy_config* c = control_->config.load(std::memory_order_acquire);
    if (c != nullptr && c != &pipeline_.config()) pipeline_.reconfigure(*c);
    pipeline_.set_draining(control_->draining.load(std::memory_order_relaxed));
}

void udp_worker::report_faults(std::uint64_t now_ns) noexcept {
    // A flood of bad packets is one line a second with a count, never a line per packet.
    if (now_ns < next_report_ns_) return;
    next_report_ns_ = now_ns + 1'000'000'000;
    const std::uint64_t malformed = pipeline_.stats().malformed();
    if (malformed == reported_malformed_ || !ops::logger::enabled(ops::log_level::warn)) {
        reported_malformed_ = malformed;
        return;
    }
    const proxy::pipeline::fault f = pipeline_.last_fault();
    std::array<char, 48> host{};
    std::array<char, 256> line{};
    const std::string_view h = core::format_host(f.source, host);
    (void)std::snprintf(line.data(), line.size(), "worker %u: %llu malformed messages in the last second, the last from %.*s:%u: %.*s",
                        index_, static_cast<unsigned long long>(malformed - reported_malformed_), static_cast<int>(h.size()),
                        h.data(), f.source.port, static_cast<int>(sip::to_reason_phrase(f.error).size()),
                        sip::to_reason_phrase(f.error).data());
    ops::log_warn(line.data());
    reported_malformed_ = malformed;
}

void udp_worker::run(const std::atomic<bool>& stop, int cpu) {
    detail::pin_to(cpu);
    auto buffers = std::make_unique<std::array<std::array<char, max_datagram + 64>, burst>>();
    rx_batch rx;
    rx.buffers = buffers.get();
    std::vector<pollfd> fds;
    for (const socket_point& s : sockets_) fds.push_back(pollfd{s.fd, POLLIN, 0});
    const int wake = hub_ ? hub_->wake_fd(index_) : -1;
    if (wake >= 0) fds.push_back(pollfd{wake, POLLIN, 0});
    proxy::shard_stats& st = pipeline_.stats();
    std::uint64_t turn_start = monotonic_ns();
    while (!stop.load(std::memory_order_relaxed)) {
        // 10 ms bounds how late a timer fires (the wheel ticks in 1 ms) when no traffic wakes us.
        const std::uint64_t waited_from = monotonic_ns();
        st.busy_ns += waited_from - turn_start;
        const int ready = ::poll(fds.data(), fds.size(), 10);
        const std::uint64_t now = monotonic_ns();
        st.idle_ns += now - waited_from;
        turn_start = now;
        follow_control();
        report_faults(now);
        if (wake >= 0 && ready > 0 && (fds.back().revents & POLLIN)) {
            std::uint64_t v = 0;
            (void)!::read(wake, &v, sizeof v);
        }
        drain_mail(now);
        pipeline_.on_tick(now, outbox_);
        if (!outbox_.empty()) flush(sockets_.front().fd);
        if (ready <= 0) {
            if (hub_ != nullptr) publish_mail();  // what the timers sent over TCP
            continue;
        }
        for (std::size_t k = 0; k < sockets_.size(); ++k) {
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
            for (int i = 0; i < n; ++i) {
                const auto len = rx.msgs[static_cast<std::size_t>(i)].msg_len;
                st.bytes_in += len;
                const proxy::inbound in{std::string_view((*rx.buffers)[static_cast<std::size_t>(i)].data(), len),
                                        from_sockaddr(rx.from[static_cast<std::size_t>(i)]), sockets_[k].point,
                                        false, now};
                handle(in, now);
            }
            flush(sockets_[k].fd);
        }
        if (hub_ != nullptr) publish_mail();
    }
}

} // namespace sipfast::io
