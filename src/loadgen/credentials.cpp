// SPDX-License-Identifier: Apache-2.0
#include "credentials.hpp"

#include <array>

#include "sipfast/auth/digest.hpp"

namespace sipfast::loadgen::detail {

challenge_seen write_credentials(const sip::message& m, std::string_view user, std::string_view password,
                                 std::string_view method, std::string_view uri, std::uint64_t cnonce_seed,
                                 core::text_writer& out) noexcept {
    const bool proxy = m.status_code == 407;
    const sip::header_id asks = proxy ? sip::header_id::proxy_authenticate : sip::header_id::www_authenticate;
    auth::challenge ch;
    challenge_seen seen;
    for (const sip::header& h : m.headers)
        if (h.id == asks && auth::parse_challenge(h.value, ch) == auth::challenge_fault::none) {
            seen.usable = true;
            break;
        }
    if (!seen.usable) return seen;
    seen.stale = ch.stale;
    std::array<char, 16> cnonce_room{};
    core::text_writer cnonce(cnonce_room);
    cnonce.hex(cnonce_seed, 16);
    auth::credentials cr;
    cr.username = user;
    cr.realm = ch.realm;
    cr.nonce = ch.nonce;
    cr.uri = uri;
    cr.alg = ch.alg;
    if (ch.qop_auth) {
        cr.qop = "auth";
        cr.cnonce = cnonce.view();
        cr.nc = "00000001";
        cr.nonce_count = 1;
    }
    const auth::hex_digest ha1 = auth::ha1(ch.alg, user, ch.realm, password);
    const auth::hex_digest response = auth::response_for(cr, ha1.view(), method);
    out.put(proxy ? "Proxy-Authorization: Digest username=\"" : "Authorization: Digest username=\"").put(user)
        .put("\", realm=\"").put(cr.realm).put("\", nonce=\"").put(cr.nonce).put("\", uri=\"").put(uri)
        .put("\", response=\"").put(response.view()).put("\", algorithm=").put(auth::algorithm_name(cr.alg));
    if (ch.qop_auth) out.put(", cnonce=\"").put(cr.cnonce).put("\", qop=auth, nc=").put(cr.nc);
    if (!ch.opaque.empty()) out.put(", opaque=\"").put(ch.opaque).put('"');
    out.put("\r\n");
    return seen;
}

} // namespace sipfast::loadgen::detail
