// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/authenticate.hpp"

#include <algorithm>

#include "sipfast/auth/aka.hpp"
#include "sipfast/auth/digest.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/stages/registrar_service.hpp"
#include "sipfast/registrar/aor.hpp"
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

/// The answer to a request whose challenge lines `w` holds: with the Security-Server of a
/// sec-agree (RFC 3329 §2.3.1, TS 33.203 §7.2: the 401 carries it).
verdict challenged(const request_context& ctx, core::text_writer& w, const challenge_kind& k) noexcept {
    w.put(ctx.security_server);
    if (!w.ok()) return verdict::answer(500, "Challenge Too Large");
    return verdict::answer(k.status, k.reason, w.view());
}

verdict challenge(const request_context& ctx, const auth_host& host, const challenge_kind& k, std::string_view realm,
                  bool stale) noexcept {
    std::array<char, 48> nonce_buf{};
    core::text_writer nonce(nonce_buf);
    host.nonces->make(host.now_ns, realm, nonce);
    core::text_writer w(host.room);
    // In the configured order (RFC 8760 §2.4: the client takes the first it supports), SHA-256 only
    // where every user of the realm can answer it.
    const auth_config& config = ctx.local.config().auth;
    const bool sha = config.users && config.users->sha256_everywhere(realm);
    for (const auth::algorithm a : config.algorithms) {
        if (a == auth::algorithm::sha256 && !sha) continue;
        w.put(k.header).put(": Digest realm=\"").put(realm).put("\", nonce=\"").put(nonce.view());
        w.put("\", algorithm=").put(auth::algorithm_name(a)).put(", qop=\"auth\"");
        if (stale) w.put(", stale=true");
        w.put("\r\n");
    }
    if (w.size() == 0) return verdict::answer(500, "No Digest Algorithm Every User Has");  // SHA-256 alone, MD5 users
    return challenged(ctx, w, k);
}

/// What the server data of an AKA nonce is bound to: the realm, RAND and the private identity, so
/// it dates this RAND's challenge of this subscriber and no other.
struct aka_binding {
    core::text<384> text;
    aka_binding(std::string_view realm, const auth::block& rand, std::string_view impi) noexcept {
        text.put_clipped(realm).put_clipped("\x1f").put_clipped({reinterpret_cast<const char*>(rand.data()), rand.size()});
        text.put_clipped("\x1f").put_clipped(impi);
    }
};

/// An AKA challenge (RFC 3310 §3.1, TS 33.203 §6.1.1): a fresh vector for the subscriber, its
/// RAND and AUTN in the nonce with our dated MAC of them as server data (RFC 3310 §3.2), so the
/// answer is checked without keeping the vector: XRES is f2(RAND) again. CK and IK stay here.
verdict aka_challenge(const request_context& ctx, const auth_host& host, std::string_view realm,
                      const auth::subscriber& s, bool stale) noexcept {
    auth::block rand{};
    auth::sqn_bytes sqn{};
    auth::aka_vector v;
    if (auth::make_rand(rand) != auth::aka_error::none) return verdict::answer(500, "No Random Bytes For AKA");
    if (s.sqn.next(sqn) != auth::aka_error::none) return verdict::answer(500, "AKA Sequence Numbers Exhausted");
    if (auth::make_aka_vector(s.functions, sqn, s.amf, rand, v) != auth::aka_error::none)
        return verdict::answer(500, "AKA Vector Failed");
    std::array<char, auth::aka_server_data_max> data_buf{};
    core::text_writer data(data_buf);
    host.nonces->make(host.now_ns, aka_binding(realm, rand, s.impi).text.view(), data);
    const auth::aka_nonce_with_data nonce = auth::make_aka_nonce(v.rand, v.autn, data.view());
    core::text_writer w(host.room);
    w.put(www.header).put(": Digest realm=\"").put(realm).put("\", nonce=\"").put(nonce.view());
    w.put("\", algorithm=AKAv1-MD5, qop=\"auth\"");
    if (stale) w.put(", stale=true");
    w.put("\r\n");
    return challenged(ctx, w, www);
}

/// Whether this request must prove who sent it, and as what: the address-of-record's URI. Null
/// with `refusal` answered when the header naming it is malformed.
const sip::uri* who_must_prove(request_context& ctx, const auth_config& a, const challenge_kind*& kind,
                               verdict& refusal) noexcept {
    const sip::message& m = ctx.m;
    if (m.method == sip::method::ack || m.method == sip::method::cancel) return nullptr;
    if (ctx.emergency) return nullptr;  // TS 24.229 §5.2.10: an emergency call is never challenged
    for (const subnet& t : a.trusted)
        if (t.contains(ctx.in.source)) return nullptr;
    if (m.method == sip::method::register_) {
        if (!is_register_for_us(ctx)) return nullptr;
        kind = &www;
        const sip::name_addr* to = ctx.decoded(m.to, sip::header_id::to, refusal);
        return to != nullptr ? &to->address : nullptr;
    }
    if (a.mode != auth_mode::all || ctx.in_dialog()) return nullptr;
    const sip::name_addr* from = ctx.decoded(m.from, sip::header_id::from, refusal);
    if (from == nullptr || our_domain(ctx.local.config(), from->address.host).empty()) return nullptr;
    kind = &proxy;
    return &from->address;
}

/// What a proved request becomes: our credentials are not forwarded, and our own 2xx carries
/// Authentication-Info (RFC 7616 §3.5) when the client asked for qop.
verdict accept(request_context& ctx, const auth_host& host, const auth::credentials& c, std::string_view ha1,
               const sip::header& line) noexcept {
    ctx.authenticated_user = c.username;
    ctx.note(ctx.editor.remove(sip::header_line(ctx.editor.original(), line)));
    if (!c.qop.empty()) {
        core::text_writer w(host.room);
        w.put("Authentication-Info: qop=auth, rspauth=\"").put(auth::response_for(c, ha1, "").view());
        w.put("\", cnonce=\"").put(c.cnonce).put("\", nc=").put(c.nc).put("\r\n");
        if (w.ok()) ctx.auth_info = w.view();
    }
    return verdict::next();
}

/// A count used before is a replay (or a client that lost track): a new nonce settles it.
bool first_use(const auth_host& host, const auth::credentials& c, std::uint64_t made_at) noexcept {
    const std::uint32_t count = c.qop.empty() ? 1 : c.nonce_count;
    return host.counts == nullptr || host.counts->advance(c.nonce, count, made_at, host.now_ns);
}

/// The answer to an AKA challenge (RFC 3310 §3.3, §3.4): the nonce must be one of ours for this
/// subscriber and fresh; with auts, the USIM refused our SQN and the verified AUTS resynchronises
/// the generator before a new challenge; else the response must be the digest with XRES as the
/// password. The address-of-record must be one of the subscriber's public identities.
verdict aka_answer(request_context& ctx, const auth_host& host, std::string_view realm, const auth::subscriber& s,
                   const auth::aka_credentials& c, const sip::header& line, std::string_view aor_key) noexcept {
    const auth_config& a = ctx.local.config().auth;
    auth::aka_nonce_parts nonce;
    if (auth::parse_aka_nonce(c.digest.nonce, nonce) != auth::aka_error::none) return aka_challenge(ctx, host, realm, s, false);
    switch (host.nonces->check(nonce.server_data(), aka_binding(realm, nonce.rand, s.impi).text.view(), host.now_ns,
                               a.nonce_lifetime_ns)) {
    case auth::nonce_source::verdict::forged: return aka_challenge(ctx, host, realm, s, false);
    case auth::nonce_source::verdict::stale: return aka_challenge(ctx, host, realm, s, true);
    case auth::nonce_source::verdict::fresh: break;
    }
    const std::uint64_t made_at = auth::nonce_source::made_at(nonce.server_data());
    if (!c.auts.empty()) {
        auth::auts_bytes auts{};
        auth::sqn_bytes sqn_ms{};
        if (auth::decode_auts(c.auts, auts) != auth::aka_error::none ||
            auth::verify_auts(s.functions, nonce.rand, auts, sqn_ms) != auth::aka_error::none)
            return verdict::answer(403, "Forbidden (AUTS Does Not Verify)");
        // An AUTS replayed would set the sequence back: each nonce resynchronises once.
        if (!first_use(host, c.digest, made_at)) return aka_challenge(ctx, host, realm, s, true);
        s.sqn.resync(sqn_ms);
        return aka_challenge(ctx, host, realm, s, false);
    }
    const std::optional<auth::res_bytes> xres = s.functions.f2(nonce.rand);
    if (!xres) return verdict::answer(500, "AKA Vector Failed");
    const auth::hex_digest ha1 = auth::aka_ha1(c.digest.username, realm, *xres);
    const auth::hex_digest expected = auth::response_for(c.digest, ha1.view(), ctx.m.method_text);
    if (!auth::same_digest(expected.view(), c.digest.response)) return aka_challenge(ctx, host, realm, s, false);
    if (!first_use(host, c.digest, made_at)) return aka_challenge(ctx, host, realm, s, true);
    if (!s.owns(aor_key)) return verdict::answer(403, "Forbidden (Identity Not Of This Subscriber)");
    return accept(ctx, host, c.digest, ha1.view(), line);
}

/// IMS AKA, when the REGISTER is from one of the configured subscribers: the one its credentials
/// name (the IMPI), else the one whose public identity it registers. Null when neither is.
verdict authenticate_aka(request_context& ctx, const auth_host& host, std::string_view realm, const sip::uri& aor,
                         bool& handled) noexcept {
    handled = false;
    const auth::subscriber_directory* subscribers = ctx.local.config().auth.subscribers.get();
    core::text<256> aor_key;
    if (subscribers == nullptr || !registrar::write_aor(aor, aor_key)) return verdict::next();
    auth::aka_credentials c;
    const sip::header* line = nullptr;
    for (const sip::header& h : ctx.m.headers) {
        if (h.id != sip::header_id::authorization) continue;
        auth::aka_credentials x;
        if (auth::parse_aka_credentials(h.value, x) == auth::credentials_fault::none && sip::iequals(x.digest.realm, realm)) {
            c = x;
            line = &h;
            break;
        }
    }
    const auth::subscriber* named = line != nullptr ? subscribers->by_impi(c.digest.username) : nullptr;
    const auth::subscriber* s = named != nullptr ? named : subscribers->by_impu(aor_key.view());
    if (s == nullptr) return verdict::next();
    handled = true;
    if (named == nullptr || c.initial()) return aka_challenge(ctx, host, realm, *s, false);
    return aka_answer(ctx, host, realm, *s, c, *line, aor_key.view());
}

} // namespace

verdict authenticate(request_context& ctx, const auth_host& host) noexcept {
    const auth_config& a = ctx.local.config().auth;
    if (a.mode == auth_mode::none || (!a.users && !a.subscribers) || host.nonces == nullptr) return verdict::next();
    const challenge_kind* kind = nullptr;
    verdict refusal;
    const sip::uri* aor = who_must_prove(ctx, a, kind, refusal);
    if (aor == nullptr) return refusal;
    const std::string_view realm = our_domain(ctx.local.config(), aor->host);
    if (realm.empty()) return verdict::next();  // not a user of ours: the registrar answers 404
    if (kind == &www) {
        bool handled = false;
        const verdict v = authenticate_aka(ctx, host, realm, *aor, handled);
        if (handled) return v;
    }

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
    const auth::user_secret* secret = a.users ? a.users->find(c.username, realm) : nullptr;
    std::string_view ha1 = c.alg == auth::algorithm::sha256 ? no_secret : no_secret.substr(0, 32);
    if (secret != nullptr) {
        const auth::hex_digest& known = c.alg == auth::algorithm::sha256 ? secret->sha256 : secret->md5;
        if (known.size != 0) ha1 = known.view();
    }
    const auth::hex_digest expected = auth::response_for(c, ha1, ctx.m.method_text);
    if (secret == nullptr || !auth::same_digest(expected.view(), c.response)) return challenge(ctx, host, *kind, realm, false);
    if (!first_use(host, c, auth::nonce_source::made_at(c.nonce))) return challenge(ctx, host, *kind, realm, true);
    // Proving to be bob does not make one alice.
    if (c.username != aor->user) return verdict::answer(403, "Forbidden (Authenticated As Another User)");
    return accept(ctx, host, c, ha1, *line);
}

} // namespace sipfast::proxy
