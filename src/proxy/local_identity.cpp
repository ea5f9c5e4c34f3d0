// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/local_identity.hpp"

#include "sipfast/sip/params.hpp"

namespace sipfast::proxy {

bool local_identity::is_us(std::string_view host, std::uint16_t port, bool has_port) const noexcept {
    const std::uint16_t p = has_port ? port : std::uint16_t{5060};
    for (const listen_point& l : config_->listen)
        if (l.address.port == p && same_ip(host, l.address)) return true;
    return false;
}

bool local_identity::is_our_domain(std::string_view host, std::uint16_t port, bool has_port) const noexcept {
    bool port_ok = !has_port;
    for (const listen_point& l : config_->listen) port_ok = port_ok || l.address.port == port;
    if (!port_ok) return false;
    for (const std::string& d : config_->domains)
        if (sip::iequals(host, d)) return true;
    return false;
}

const listen_point* local_identity::local_for(sip::transport t, std::uint8_t family,
                                              const listen_point* prefer) const noexcept {
    if (prefer != nullptr && prefer->transport == t && prefer->address.family == family) return prefer;
    for (const listen_point& l : config_->listen)
        if (l.transport == t && l.address.family == family) return &l;
    return nullptr;
}

} // namespace sipfast::proxy
