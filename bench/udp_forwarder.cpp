// SPDX-License-Identifier: Apache-2.0
// udp-floor: the kernel floor of the proxy comparison. Moves the same datagrams a proxy would, with
// recvmmsg/sendmmsg in bursts of 32 and nothing else: what the kernel itself charges for the traffic.
//   udp-floor LISTEN_PORT CALLEE_PORT CALLER_PORT   (all on 127.0.0.1; stops on SIGINT/SIGTERM)
// Datagrams from the callee go to the caller, everything else to the callee.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
std::atomic<bool> stop{false};
void on_signal(int) { stop = true; }

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}
} // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: udp-floor LISTEN_PORT CALLEE_PORT CALLER_PORT\n");
        return 2;
    }
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in self = loopback(std::atoi(argv[1]));
    const int buf = 4 << 20;
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&self), sizeof self) != 0) {
        std::perror("udp-floor: bind");
        return 1;
    }
    sockaddr_in callee = loopback(std::atoi(argv[2]));
    sockaddr_in caller = loopback(std::atoi(argv[3]));
    constexpr unsigned burst = 32;
    static std::array<std::array<char, 65536>, burst> data;
    std::array<mmsghdr, burst> msgs{};
    std::array<iovec, burst> iov{};
    std::array<sockaddr_in, burst> from{};
    pollfd p{fd, POLLIN, 0};
    while (!stop) {
        if (::poll(&p, 1, 100) <= 0) continue;
        for (unsigned i = 0; i < burst; ++i) {
            iov[i] = iovec{data[i].data(), data[i].size()};
            msgs[i].msg_hdr = msghdr{};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        }
        const int n = ::recvmmsg(fd, msgs.data(), burst, MSG_DONTWAIT, nullptr);
        if (n <= 0) continue;
        for (int i = 0; i < n; ++i) {
            const bool from_callee = from[static_cast<unsigned>(i)].sin_port == callee.sin_port;
            iov[static_cast<unsigned>(i)].iov_len = msgs[static_cast<unsigned>(i)].msg_len;
            msgs[static_cast<unsigned>(i)].msg_hdr.msg_name = from_callee ? &caller : &callee;
            msgs[static_cast<unsigned>(i)].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        }
        (void)::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
    }
    return 0;
}
