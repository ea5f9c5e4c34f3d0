// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/os.hpp"

#include <pthread.h>
#include <sched.h>

#include <cstring>

namespace sipfast::core {

socklen_t to_sockaddr(const net_address& a, sockaddr_storage& ss) noexcept {
    std::memset(&ss, 0, sizeof ss);
    if (a.family == 4) {
        auto* s = reinterpret_cast<sockaddr_in*>(&ss);
        s->sin_family = AF_INET;
        s->sin_port = htons(a.port);
        std::memcpy(&s->sin_addr, a.ip.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* s = reinterpret_cast<sockaddr_in6*>(&ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(a.port);
    std::memcpy(&s->sin6_addr, a.ip.data(), 16);
    return sizeof(sockaddr_in6);
}

net_address from_sockaddr(const sockaddr_storage& ss) noexcept {
    net_address a;
    if (ss.ss_family == AF_INET) {
        const auto* s = reinterpret_cast<const sockaddr_in*>(&ss);
        a.family = 4;
        a.port = ntohs(s->sin_port);
        std::memcpy(a.ip.data(), &s->sin_addr, 4);
    } else if (ss.ss_family == AF_INET6) {
        const auto* s = reinterpret_cast<const sockaddr_in6*>(&ss);
        a.family = 6;
        a.port = ntohs(s->sin6_port);
        std::memcpy(a.ip.data(), &s->sin6_addr, 16);
    }
    return a;
}

void pin_to(int cpu) noexcept {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(static_cast<unsigned>(cpu), &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

} // namespace sipfast::core
