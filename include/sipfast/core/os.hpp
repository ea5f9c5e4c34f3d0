// SPDX-License-Identifier: Apache-2.0
// What the kernel backend (io) and the ops thread (ops) share of the OS: sockaddr conversions,
// thread pinning.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "sipfast/core/net_address.hpp"

namespace sipfast::core {

socklen_t to_sockaddr(const net_address& a, sockaddr_storage& ss) noexcept;
net_address from_sockaddr(const sockaddr_storage& ss) noexcept;
/// Pins the calling thread to `cpu` (nothing when negative).
void pin_to(int cpu) noexcept;

} // namespace sipfast::core
