// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/proxy/config.hpp"

namespace sipfast::proxy {

/// Who we are, as the request stages ask it: our listen points and the domains we serve, read
/// from the configuration in force (a reload swaps it).
class local_identity {
public:
    explicit local_identity(const proxy_config& c) noexcept : config_(&c) {}
    void reconfigure(const proxy_config& c) noexcept { config_ = &c; }
    [[nodiscard]] const proxy_config& config() const noexcept { return *config_; }

    /// Whether host:port (5060 when absent) is one of our listen addresses.
    [[nodiscard]] bool is_us(std::string_view host, std::uint16_t port, bool has_port) const noexcept;
    /// Whether host is a domain we serve. A domain written as an address is ours only on our
    /// ports (127.0.0.1:5070 is another endpoint on the same host); a name on any port we listen on.
    [[nodiscard]] bool is_our_domain(std::string_view host, std::uint16_t port, bool has_port) const noexcept;
    /// The listen point to leave by for transport t and address family `family`: `prefer` (where
    /// the request arrived) when it fits, else the first that does; nullptr when none.
    [[nodiscard]] const listen_point* local_for(sip::transport t, std::uint8_t family,
                                                const listen_point* prefer) const noexcept;

private:
    const proxy_config* config_;
};

} // namespace sipfast::proxy
