// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/proxy/config.hpp"

namespace sipfast::proxy {

/// A datagram or framed stream message as a backend hands it over.
struct inbound {
    std::string_view data;
    net_address source;
    const listen_point* local = nullptr;  ///< where it arrived; our Via and Record-Route use it
    bool handed_over = false;             ///< came through a mailbox from another shard: it is ours
    std::uint64_t received_ns = 0;        ///< when the backend received it (latency histograms)

    [[nodiscard]] sip::transport transport() const noexcept { return local ? local->transport : sip::transport::udp; }
};

} // namespace sipfast::proxy
