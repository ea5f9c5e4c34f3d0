// SPDX-License-Identifier: Apache-2.0
#include "sipfast/registrar/aor.hpp"

namespace sipfast::registrar {

bool write_aor(const sip::uri& u, core::text_writer& w) noexcept {
    if ((u.scheme != sip::uri_scheme::sip && u.scheme != sip::uri_scheme::sips) || u.user.empty() || u.host.empty())
        return false;
    w.put(u.user).put('@');
    for (char c : u.host) w.put(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    return w.ok();
}

} // namespace sipfast::registrar
