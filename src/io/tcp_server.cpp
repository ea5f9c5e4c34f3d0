// SPDX-License-Identifier: Apache-2.0
#include "sipfast/io/tcp_server.hpp"

#include "sipfast/core/clock.hpp"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "sipfast/core/os.hpp"
#include "sipfast/core/shard_hash.hpp"
#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/proxy/response.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::io {

namespace {

// epoll user data: a connection is its slot and generation; listeners and the wake-up are marked.
constexpr std::uint64_t listener_mark = std::uint64_t{1} << 62;
constexpr std::uint64_t wake_mark = std::uint64_t{1} << 63;

constexpr std::size_t max_message = 65535;       // RFC 3261 §18.1.1's ceiling for one message
constexpr std::uint64_t closing_grace_ns = 2'000'000'000;  // for the last answer to drain
constexpr std::uint64_t sweep_every_ns = 250'000'000;

std::uint64_t connection_data(std::uint32_t slot, std::uint32_t generation) noexcept {
    return (std::uint64_t{generation & 0x3fff'ffffu} << 32) | slot;
}

// What max_connections_per_ip counts by: the address without its port, and for IPv6 its /64. One
// subscriber is given a /64 or more (RFC 6177) and picks any address in it at will, so counting
// full IPv6 addresses would grant it 2^64 allowances. An IPv4-mapped address stays whole.
core::net_address limit_key(const core::net_address& peer) noexcept {
    core::net_address key = peer;
    key.port = 0;
    constexpr std::array<std::uint8_t, 12> v4_mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (key.family == 6 && !std::equal(v4_mapped.begin(), v4_mapped.end(), key.ip.begin()))
        std::fill(key.ip.begin() + 8, key.ip.end(), std::uint8_t{0});
    return key;
}

// Whether `data` holds a byte of a message: CR and LF alone are keep-alives (RFC 5626 §3.5.1) or
// the CRLFs RFC 3261 §7.5 lets precede a start line, and start no message deadline.
bool holds_message(std::string_view data) noexcept {
    return std::any_of(data.begin(), data.end(), [](char ch) { return ch != '\r' && ch != '\n'; });
}

} // namespace

struct tcp_server::connection {
    int fd = -1;
    std::uint32_t slot = 0;
    std::uint32_t generation = 0;
    std::uint32_t listen_index = 0;  // the tcp listen point of its family: our side of it
    core::net_address peer;
    bool inbound = false;
    bool connecting = false;
    bool closing = false;        // answered a framing fault: nothing more is read, close once sent
    bool stalled = false;        // a shard's mailbox is full: input is not watched until it drains
    std::uint32_t events = 0;    // what epoll watches for it now
    std::uint64_t opened_ns = 0;
    std::uint64_t closing_ns = 0;
    std::uint64_t active_ns = 0;
    std::uint64_t message_ns = 0;  // when the first byte of the message being received came; 0: none
    std::unique_ptr<char[]> in;  // max_message bytes and the parser's padding
    std::size_t in_used = 0;
    std::string out;             // bytes the kernel did not take yet (the slow path may allocate)
};

std::size_t tcp_server::address_hash::operator()(const core::net_address& a) const noexcept {
    return static_cast<std::size_t>(
        core::call_id_hash(std::string_view(reinterpret_cast<const char*>(a.ip.data()), a.ip.size())) ^
        (std::uint64_t{a.port} << 8) ^ a.family);
}

tcp_server::tcp_server(const proxy::proxy_config& config, const tcp_limits& limits, proxy::mail_hub& hub, int wake_fd)
    : config_(config), limits_(&limits), hub_(hub), wake_fd_(wake_fd), self_(hub.stream_thread()), dirty_(hub.workers(), false),
      slots_(sip::default_header_slots) {}

tcp_server::~tcp_server() {
    for (const auto& c : connections_)
        if (c && c->fd >= 0) ::close(c->fd);
    for (int fd : listeners_)
        if (fd >= 0) ::close(fd);
    if (epoll_ >= 0) ::close(epoll_);
    if (spare_fd_ >= 0) ::close(spare_fd_);
}

std::string tcp_server::open() {
    spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return std::string("epoll_create1: ") + std::strerror(errno);
    for (std::size_t i = 0; i < config_.listen.size(); ++i) {
        const proxy::listen_point& lp = config_.listen[i];
        listeners_.push_back(-1);
        if (lp.transport != sip::transport::tcp) continue;
        const int fd = ::socket(lp.address.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return std::string("socket: ") + std::strerror(errno);
        listeners_.back() = fd;
        const int on = 1;
        (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (lp.address.family == 6) (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
        // The address may not be up yet (a kernel-bypass exception interface configured after
        // start, a floating address): bind anyway and take connections once it is.
        (void)::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &on, sizeof on);
        sockaddr_storage ss;
        const socklen_t len = core::to_sockaddr(lp.address, ss);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, 1024) != 0) {
            std::array<char, 48> host{};
            return "bind tcp " + std::string(core::format_host(lp.address, host)) + ":" +
                   std::to_string(lp.address.port) + ": " + std::strerror(errno);
        }
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = listener_mark | i;
        if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) return std::string("epoll_ctl: ") + std::strerror(errno);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wake_mark;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0)
        return std::string("epoll_ctl: ") + std::strerror(errno);
    return {};
}

void tcp_server::close_listeners() noexcept {
    // Stopping: no new connections; the open ones finish what they carry.
    for (int& fd : listeners_) {
        if (fd < 0) continue;
        (void)::epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        ::close(fd);
        fd = -1;
    }
}

tcp_server::connection* tcp_server::add(int fd, const core::net_address& peer, std::uint32_t listen_index,
                                        bool inbound, std::uint64_t now) {
    // Everything that can throw comes first, so a failure leaves no half-made connection; the
    // vectors that noexcept paths push to are reserved for every slot there is.
    if (free_slots_.empty()) {
        connections_.push_back(std::make_unique<connection>());
        free_slots_.reserve(connections_.size());
        stalled_.reserve(connections_.size());
        retry_.reserve(connections_.size());
        free_slots_.push_back(static_cast<std::uint32_t>(connections_.size() - 1));
    }
    const std::uint32_t slot = free_slots_.back();
    connection& c = *connections_[slot];
    if (!c.in) c.in = std::make_unique<char[]>(max_message + sip::padding_bytes);
    const core::net_address ip = limit_key(peer);
    if (inbound) ++per_ip_[ip];
    try {
        by_peer_[peer] = slot;  // the newest connection to a peer is the one we send on
    } catch (...) {
        if (inbound && --per_ip_[ip] == 0) per_ip_.erase(ip);
        throw;
    }
    free_slots_.pop_back();
    c.fd = fd;
    c.slot = slot;
    ++c.generation;
    c.listen_index = listen_index;
    c.peer = peer;
    c.inbound = inbound;
    c.connecting = false;
    c.closing = false;
    c.stalled = false;
    c.events = 0;
    c.opened_ns = c.active_ns = now;
    c.message_ns = 0;
    c.in_used = 0;
    c.out.clear();
    ++(inbound ? inbound_count_ : outbound_count_);
    counters_.open = inbound_count_ + outbound_count_;
    update_events(c);
    return &c;
}

void tcp_server::close(connection& c, core::counter& reason) noexcept {
    if (c.fd < 0) return;
    ++reason;
    if (c.events != 0) (void)::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    c.events = 0;
    ::close(c.fd);
    c.fd = -1;
    if (const auto it = by_peer_.find(c.peer); it != by_peer_.end() && it->second == c.slot) by_peer_.erase(it);
    if (c.inbound) {
        if (const auto it = per_ip_.find(limit_key(c.peer)); it != per_ip_.end() && --it->second == 0) per_ip_.erase(it);
    }
    c.out = std::string();
    ++c.generation;  // events already fetched for it find nothing
    free_slots_.push_back(c.slot);
    --(c.inbound ? inbound_count_ : outbound_count_);
    counters_.open = inbound_count_ + outbound_count_;
}

void tcp_server::accept_all(std::uint32_t listen_index, int listen_fd, std::uint64_t now) noexcept {
    for (;;) {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0 && (errno == EMFILE || errno == ENFILE) && spare_fd_ >= 0) {
            // Out of descriptors: the pending connection would keep the listener readable and spin
            // this loop, so it is taken with the spare descriptor and closed at once.
            ::close(spare_fd_);
            const int refused = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
            if (refused >= 0) ::close(refused);
            spare_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            ++counters_.refused_total_limit;
            continue;
        }
        if (fd < 0 && errno == EINTR) continue;
        if (fd < 0 && errno == ECONNABORTED) continue;
        if (fd < 0) return;  // EAGAIN
        const core::net_address peer = core::from_sockaddr(ss);
        const auto per = per_ip_.find(limit_key(peer));
        if (inbound_count_ >= limits().max_connections) {
            ++counters_.refused_total_limit;
            ::close(fd);
            continue;
        }
        if (per != per_ip_.end() && per->second >= limits().max_connections_per_ip) {
            ++counters_.refused_ip_limit;
            ::close(fd);
            continue;
        }
        const int on = 1;
        (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        try {
            (void)add(fd, peer, listen_index, true, now);
            ++counters_.accepted;
        } catch (...) {  // out of memory for a connection: refuse it, keep serving the others
            ::close(fd);
            ++counters_.refused_total_limit;
        }
    }
}

void tcp_server::answer_fault(connection& c, const sip::parse_result& r) noexcept {
    std::array<char, 2048> answer{};
    int status = 0;
    const std::size_t n = proxy::write_error_response(msg_, r, proxy::answer_tag(msg_.call_id).view(), answer, status);
    if (n != 0) send(c, answer.data(), n);
}

void tcp_server::finish_closing(connection& c) noexcept {
    // Our last answer is with the kernel: send FIN and read what still comes until the peer closes
    // (closing with unread input would reset the connection and could lose the answer).
    if (c.fd >= 0 && c.closing && c.out.empty()) (void)::shutdown(c.fd, SHUT_WR);
}

void tcp_server::stall(connection& c) noexcept {
    c.stalled = true;
    stalled_.push_back(c.slot);  // reserved for every slot in add()
    update_events(c);
}

bool tcp_server::frame(connection& c, std::uint64_t now) noexcept {
    const std::uint64_t received_ns = core::monotonic_ns();
    std::size_t at = 0;
    bool all = true;
    while (at < c.in_used && !c.closing) {
        sip::parse_options opt;
        opt.stream = true;
        opt.max_message_bytes = max_message;
        const std::string_view data(c.in.get() + at, c.in_used - at);
        const sip::parse_result r = sip::parse(data, msg_, slots_, opt);
        if (r.status == sip::parse_status::incomplete) break;
        if (r.status == sip::parse_status::error) {
            // The stream cannot be framed past a fault: answer it if it is a request, then close.
            ++counters_.framing_errors;
            answer_fault(c, r);
            c.closing = true;
            c.closing_ns = core::monotonic_ns();
            at = c.in_used;
            break;
        }
        if (msg_.kind == sip::message_kind::keepalive_ping) {  // RFC 5626 §3.5.1: CRLFCRLF is answered CRLF
            ++counters_.keepalives;
            send(c, "\r\n", 2);
            at += r.consumed;
            continue;
        }
        if (!msg_.is_request() && !msg_.is_response()) {
            at += r.consumed;
            continue;
        }
        const std::uint32_t owner = proxy::message_owner(msg_, hub_.workers(), 0);
        if (!hub_.post(self_, owner, data.substr(0, r.consumed), c.listen_index, c.peer, received_ns)) {
            all = false;  // the owner is behind: keep the bytes, stop reading, try again next turn
            break;
        }
        dirty_[owner] = true;
        ++counters_.messages_in;
        at += r.consumed;
    }
    if (at > 0) {
        std::memmove(c.in.get(), c.in.get() + at, c.in_used - at);
        c.in_used -= at;
        c.message_ns = 0;  // what was whole is gone; what is left began with these bytes
    }
    // The deadline of the next message runs from its first byte, keep-alives aside; a connection
    // between messages has only the idle timer.
    if (c.message_ns == 0 && holds_message(std::string_view(c.in.get(), c.in_used))) c.message_ns = now;
    return all;
}

void tcp_server::on_readable(connection& c, std::uint64_t now) noexcept {
    for (;;) {
        if (c.closing) c.in_used = 0;  // after a framing fault what follows is read and dropped
        if (c.in_used == max_message) return;  // frame() has refused a message this long already
        const ssize_t n = ::read(c.fd, c.in.get() + c.in_used, max_message - c.in_used);
        if (n > 0) {
            c.in_used += static_cast<std::size_t>(n);
            counters_.bytes_in += static_cast<std::uint64_t>(n);
            c.active_ns = now;
            if (!c.closing && !frame(c, now)) {
                stall(c);  // the rest stays in the socket until the owner catches up
                return;
            }
            finish_closing(c);
            if (c.fd < 0) return;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 && errno == EINTR) continue;
        close(c, c.closing ? counters_.closed_error : counters_.closed_by_peer);
        return;
    }
}

void tcp_server::update_events(connection& c) noexcept {
    // Level-triggered: input is watched unless a mailbox is full (it would fire without end), output
    // while there is something to send or a connect to finish.
    const std::uint32_t want = (c.stalled ? 0u : std::uint32_t{EPOLLIN | EPOLLRDHUP}) |
                               (c.connecting || !c.out.empty() ? std::uint32_t{EPOLLOUT} : 0u);
    if (want == c.events) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.u64 = connection_data(c.slot, c.generation);
    (void)::epoll_ctl(epoll_, c.events == 0 && want != 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
    c.events = want;
}

bool tcp_server::write_some(connection& c, const char* data, std::size_t len, std::size_t& sent) noexcept {
    while (sent < len) {
        const ssize_t n = ::send(c.fd, data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            counters_.bytes_out += static_cast<std::uint64_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;  // the rest waits for EPOLLOUT
        close(c, counters_.closed_error);
        return false;
    }
    return true;
}

void tcp_server::send(connection& c, const char* data, std::size_t len) noexcept {
    if (c.fd < 0) return;
    std::size_t sent = 0;
    if (c.out.empty() && !c.connecting && !write_some(c, data, len, sent)) return;
    if (sent == len) return;
    if (c.out.size() + (len - sent) > limits().max_pending_bytes) {  // a peer that does not read
        close(c, counters_.closed_error);
        return;
    }
    try {
        c.out.append(data + sent, len - sent);
    } catch (...) {
        close(c, counters_.closed_error);
        return;
    }
    update_events(c);
}

void tcp_server::on_writable(connection& c, std::uint64_t now) noexcept {
    if (c.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        (void)::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            if (!c.out.empty()) ++counters_.dropped_unsendable;
            close(c, counters_.connect_failed);
            return;
        }
        c.connecting = false;
        ++counters_.connected;
    }
    c.active_ns = now;
    std::size_t sent = 0;
    if (!write_some(c, c.out.data(), c.out.size(), sent)) return;
    c.out.erase(0, sent);
    update_events(c);
    finish_closing(c);
}

tcp_server::connection* tcp_server::connect_to(const core::net_address& peer, std::uint64_t now) noexcept {
    // Our side: the tcp listen point of the peer's family, whose address our Via names.
    std::uint32_t listen_index = 0;
    const proxy::listen_point* local = nullptr;
    for (std::uint32_t i = 0; i < config_.listen.size(); ++i) {
        if (config_.listen[i].transport == sip::transport::tcp && config_.listen[i].address.family == peer.family) {
            local = &config_.listen[i];
            listen_index = i;
            break;
        }
    }
    if (local == nullptr || !peer.valid()) return nullptr;
    if (outbound_count_ >= limits().max_outbound_connections) {  // its own budget: accepts do not use it
        ++counters_.refused_outbound_limit;
        return nullptr;
    }
    const int fd = ::socket(peer.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return nullptr;
    const int on = 1;
    (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    // From our listen address (on a multi-homed host the peer sees the address our Via names).
    core::net_address from = local->address;
    from.port = 0;
    sockaddr_storage ss;
    socklen_t len = core::to_sockaddr(from, ss);
    (void)::bind(fd, reinterpret_cast<sockaddr*>(&ss), len);
    len = core::to_sockaddr(peer, ss);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        ++counters_.connect_failed;
        return nullptr;
    }
    connection* c = nullptr;
    try {
        c = add(fd, peer, listen_index, false, now);
    } catch (...) {
        ::close(fd);
        return nullptr;
    }
    c->connecting = true;
    update_events(*c);
    return c;
}

void tcp_server::send_from_shards(std::uint64_t now) noexcept {
    for (unsigned from = 0; from < hub_.workers(); ++from) {
        hub_.consume(from, self_, [&](const proxy::mail& m) {
            connection* c = find(m.peer);
            if (c == nullptr) {
                // RFC 3261 §18.2.2: a response whose connection is gone goes to the received address
                // and the sent-by port (the peer's listening port), on a connection open there or a
                // new one; a request opens one to its destination.
                core::net_address to = m.peer;
                if (is_response(m.data, to)) c = find(to);
                if (c == nullptr) c = connect_to(to, now);
            }
            if (c == nullptr || c->closing) {  // a closing connection has sent its last answer
                ++counters_.dropped_unsendable;
                return;
            }
            ++counters_.messages_out;
            c->active_ns = now;
            send(*c, m.data.data(), m.data.size());
        });
    }
}

tcp_server::connection* tcp_server::find(const core::net_address& peer) noexcept {
    const auto it = by_peer_.find(peer);
    return it == by_peer_.end() ? nullptr : connections_[it->second].get();
}

bool tcp_server::is_response(std::string_view data, core::net_address& sent_by) noexcept {
    if (data.substr(0, 8) != "SIP/2.0 " || !sip::parse(data, msg_, slots_).ok()) return false;
    const sip::via& v = msg_.top_via;
    core::net_address a;
    if (!core::parse_ip(v.received.empty() ? v.host : v.received, a)) return false;
    a.port = v.has_port ? v.port : std::uint16_t{5060};
    sent_by = a;
    return true;
}

void tcp_server::sweep(std::uint64_t now) noexcept {
    for (const auto& p : connections_) {
        connection& c = *p;
        if (c.fd < 0) continue;
        if (c.connecting && now - c.opened_ns > limits().connect_timeout_ns) {
            if (!c.out.empty()) ++counters_.dropped_unsendable;
            close(c, counters_.connect_failed);
        } else if (c.closing && now - c.closing_ns > closing_grace_ns) {
            close(c, counters_.closed_error);
        } else if (c.message_ns != 0 && !c.stalled && !c.closing && now - c.message_ns > limits().message_timeout_ns) {
            // Slowloris: a message dribbled a byte at a time keeps the idle timer from firing and
            // holds a connection and its buffer; a stalled connection waits on us, not on its peer.
            close(c, counters_.closed_slow);
        } else if (now - c.active_ns > limits().idle_timeout_ns) {
            close(c, counters_.closed_idle);
        }
    }
}

void tcp_server::run(const std::atomic<bool>& stop, int cpu) {
    core::pin_to(cpu);
    std::array<epoll_event, 64> events{};
    std::uint64_t next_sweep = 0;
    while (!stop.load(std::memory_order_relaxed)) {
        if (stop_accepting_.load(std::memory_order_relaxed)) close_listeners();
        const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), stalled_.empty() ? 100 : 1);
        const std::uint64_t now = core::monotonic_ns();
        // Connections a full mailbox held back go first, in the order they stalled.
        retry_.swap(stalled_);
        stalled_.clear();
        for (std::uint32_t slot : retry_) {
            connection& c = *connections_[slot];
            if (c.fd < 0) continue;
            if (!frame(c, now)) {
                stalled_.push_back(slot);
                continue;
            }
            c.stalled = false;
            finish_closing(c);
            if (c.fd >= 0) update_events(c);
        }
        retry_.clear();
        for (int i = 0; i < n; ++i) {
            const epoll_event& ev = events[static_cast<std::size_t>(i)];
            const std::uint64_t d = ev.data.u64;
            if (d == wake_mark) {
                std::uint64_t v = 0;
                (void)!::read(wake_fd_, &v, sizeof v);
                continue;
            }
            if (d & listener_mark) {
                const auto index = static_cast<std::uint32_t>(d & 0xffff);
                accept_all(index, listeners_[index], now);
                continue;
            }
            const auto slot = static_cast<std::uint32_t>(d & 0xffff'ffff);
            if (slot >= connections_.size()) continue;
            connection& c = *connections_[slot];
            if (c.fd < 0 || connection_data(slot, c.generation) != d) continue;  // closed in this batch
            if (ev.events & EPOLLOUT) on_writable(c, now);
            if (c.fd >= 0 && !c.stalled && (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
                if (c.connecting && (ev.events & (EPOLLHUP | EPOLLERR))) {
                    on_writable(c, now);  // reports the failed connect
                    continue;
                }
                on_readable(c, now);
            }
        }
        send_from_shards(now);
        for (unsigned to = 0; to < dirty_.size(); ++to) {
            if (!dirty_[to]) continue;
            dirty_[to] = false;
            hub_.ring(self_, to).publish();
            hub_.wake(to);
        }
        if (now >= next_sweep) {
            sweep(now);
            next_sweep = now + sweep_every_ns;
        }
    }
}

} // namespace sipfast::io
