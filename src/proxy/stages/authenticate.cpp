// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/authenticate.hpp"

#include <algorithm>

#include "sipfast/auth/digest.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/stages/registrar_service.hpp"
#include "sipfast/sip/editor.hpp"
#include "sipfast/sip/params.hpp"

namespace sipfast::proxy {

namespace {

/// The configured spelling of `host` when it is one of our domains (the realm we challenge with).
std::string_view our_domain(const proxy_config& c, std::string_view host) noexcept {
    for (const std::string& d : c.domains)
        if (sip::iequals(d, host)) return d;
    return {};
}

struct challenge_kind {
    int status;
    std::string_view reason;
    std::string_view header;         ///< what we challenge with
    sip::header_id credentials;      ///< where the answer comes
};
constexpr challenge_kind www{401, "Unauthorized", "WWW-Authenticate", sip::header_id::authorization};
constexpr challenge_kind proxy{407, "Proxy Authentication Required", "Proxy-Authenticate",
                               sip::header_id::proxy_authorization};

verdict challenge(const request_context& ctx, const auth_host& host, const challenge_kind& k, std::string_view realm,
                  bool stale) noexcept {
    std::array<char, 48> nonce_buf{};
    core::text_writer nonce(nonce_buf);
    host.nonces->make(host.now_ns, realm, nonce);
    core::text_writer w(host.room);
    // In the configured order (RFC 8760 §2.4: the client takes the first it supports), SHA-256 only
    // where every user of the realm can answer it.
    const auth_config& config = ctx.local.config().auth;
    const bool sha = config.users->sha256_everywhere(realm);
    for (const auth::algorithm a : config.algorithms) {
        if (a == auth::algorithm::sha256 && !sha) continue;
        w.put(k.header).put(": Digest realm=\"").put(realm).put("\", nonce=\"").put(nonce.view());
        w.put("\", algorithm=").put(auth::algorithm_name(a)).put(", qop=\"auth\"");
        if (stale) w.put(", stale=true");
        w.put("\r\n");
    }
    if (w.size() == 0) return verdict::answer(500, "No Digest Algorithm Every User Has");  // SHA-256 alone, MD5 users
    if (!w.ok()) return verdict::answer(500, "Challenge Too Large");
    return verdict::answer(k.status, k.reason, w.view());
}

/// Whether this request must prove who sent it, and as what: the address-of-record's URI.
const sip::uri* who_must_prove(const request_context& ctx, const auth_config& a, const challenge_kind*& kind) noexcept {
    const sip::message& m = ctx.m;
    if (m.method == sip::method::ack || m.method == sip::method::cancel) return nullptr;
    if (ctx.emergency) return nullptr;  // TS 24.229 §5.2.10: an emergency call is never challenged
    for (const subnet& t : a.trusted)
        if (t.contains(ctx.in.source)) return nullptr;
    if (m.method == sip::method::register_) {
        if (!is_register_for_us(ctx)) return nullptr;
        kind = &www;
        return &m.to.address;
    }
    if (a.mode != auth_mode::all || ctx.in_dialog() || our_domain(ctx.local.config(), m.from.address.host).empty())
        return nullptr;
    kind = &proxy;
    return &m.from.address;
}

} // namespace

verdict authenticate(request_context& ctx, const auth_host& host) noexcept {
    const auth_config& a = ctx.local.config().auth;
    if (a.mode == auth_mode::none || !a.users || host.nonces == nullptr) return verdict::next();
    const challenge_kind* kind = nullptr;
    const sip::uri* aor = who_must_prove(ctx, a, kind);
    if (aor == nullptr) return verdict::next();
    const std::string_view realm = our_domain(ctx.local.config(), aor->host);
    if (realm.empty()) return verdict::next();  // not a user of ours: the registrar answers 404

    // Our realm's credentials, if the request carries them.
    auth::credentials c;
    const sip::header* line = nullptr;
    for (const sip::header& h : ctx.m.headers) {
        if (h.id != kind->credentials) continue;
        auth::credentials x;
        if (auth::parse_credentials(h.value, x) == auth::credentials_fault::none && sip::iequals(x.realm, realm)) {
            c = x;
            line = &h;
            break;
        }
    }
    if (line == nullptr || std::find(a.algorithms.begin(), a.algorithms.end(), c.alg) == a.algorithms.end())
        return challenge(ctx, host, *kind, realm, false);
    switch (host.nonces->check(c.nonce, realm, host.now_ns, a.nonce_lifetime_ns)) {
    case auth::nonce_source::verdict::forged: return challenge(ctx, host, *kind, realm, false);
    case auth::nonce_source::verdict::stale: return challenge(ctx, host, *kind, realm, true);
    case auth::nonce_source::verdict::fresh: break;
    }

    // The same work whether or not the user exists: a response is computed either way.
    constexpr std::string_view no_secret = "0000000000000000000000000000000000000000000000000000000000000000";
    const auth::user_secret* secret = a.users->find(c.username, realm);
    std::string_view ha1 = c.alg == auth::algorithm::sha256 ? no_secret : no_secret.substr(0, 32);
    if (secret != nullptr) {
        const auth::hex_digest& known = c.alg == auth::algorithm::sha256 ? secret->sha256 : secret->md5;
        if (known.size != 0) ha1 = known.view();
    }
    const auth::hex_digest expected = auth::response_for(c, ha1, ctx.m.method_text);
    if (secret == nullptr || !auth::same_digest(expected.view(), c.response)) return challenge(ctx, host, *kind, realm, false);
    // A count used before is a replay (or a client that lost track): a new nonce settles it.
    const std::uint32_t count = c.qop.empty() ? 1 : c.nonce_count;
    if (host.counts != nullptr &&
        !host.counts->advance(c.nonce, count, auth::nonce_source::made_at(c.nonce), host.now_ns))
        return challenge(ctx, host, *kind, realm, true);
    // Proving to be bob does not make one alice.
    if (c.username != aor->user) return verdict::answer(403, "Forbidden (Authenticated As Another User)");

    ctx.authenticated_user = c.username;
    ctx.note(ctx.editor.remove(sip::header_line(ctx.editor.original(), *line)));
    if (!c.qop.empty()) {
        core::text_writer w(host.room);
        w.put("Authentication-Info: qop=auth, rspauth=\"").put(auth::response_for(c, ha1, "").view());
        w.put("\", cnonce=\"").put(c.cnonce).put("\", nc=").put(c.nc).put("\r\n");
        if (w.ok()) ctx.auth_info = w.view();
    }
    return verdict::next();
}

} // namespace sipfast::proxy
