// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/aka.hpp"

#include <algorithm>
#include <cstddef>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sipfast/auth/base64.hpp"
#include "sipfast/sip/params.hpp"

#include "digest_params.hpp"

namespace sipfast::auth {

namespace {

constexpr std::size_t nonce_bytes = 32;  // RAND ‖ AUTN

template <std::size_t N>
bool same_bytes(const std::array<std::uint8_t, N>& a, const std::array<std::uint8_t, N>& b) noexcept {
    return CRYPTO_memcmp(a.data(), b.data(), N) == 0;
}

sqn_bytes xor_sqn(const sqn_bytes& a, const ak_bytes& b) noexcept {
    sqn_bytes r{};
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
    return r;
}

aka_error from_base64(base64_fault f) noexcept {
    switch (f) {
    case base64_fault::none: return aka_error::none;
    case base64_fault::too_long: return aka_error::wrong_length;
    case base64_fault::bad_character:
    case base64_fault::bad_padding: break;
    }
    return aka_error::bad_base64;
}

} // namespace

std::string_view aka_error_text(aka_error e) noexcept {
    switch (e) {
    case aka_error::none: return "none";
    case aka_error::crypto_failure: return "crypto failure";
    case aka_error::bad_base64: return "bad base64";
    case aka_error::wrong_length: return "wrong length";
    case aka_error::mac_a_mismatch: return "MAC-A mismatch";
    case aka_error::mac_s_mismatch: return "MAC-S mismatch";
    case aka_error::sqn_exhausted: return "SQN exhausted";
    }
    return "unknown";
}

aka_error make_aka_vector(const milenage& m, const sqn_bytes& sqn, const amf_bytes& amf, const block& rand,
                          aka_vector& out) noexcept {
    const std::optional<milenage_output> o = m.compute(rand, sqn, amf);
    if (!o) return aka_error::crypto_failure;
    out.rand = rand;
    // TS 33.102 §6.3.2: AUTN = SQN ⊕ AK ‖ AMF ‖ MAC-A.
    const sqn_bytes concealed = xor_sqn(sqn, o->ak);
    auto at = std::copy(concealed.begin(), concealed.end(), out.autn.begin());
    at = std::copy(amf.begin(), amf.end(), at);
    std::copy(o->mac_a.begin(), o->mac_a.end(), at);
    out.xres = o->res;
    out.ck = o->ck;
    out.ik = o->ik;
    return aka_error::none;
}

aka_error open_autn(const milenage& m, const block& rand, const autn_bytes& autn, sqn_bytes& sqn,
                    amf_bytes& amf) noexcept {
    const std::optional<ak_bytes> ak = m.f5(rand);
    if (!ak) return aka_error::crypto_failure;
    sqn_bytes concealed{};
    amf_bytes a{};
    mac_bytes mac{};
    std::copy_n(autn.begin(), 6, concealed.begin());
    std::copy_n(autn.begin() + 6, 2, a.begin());
    std::copy_n(autn.begin() + 8, 8, mac.begin());
    const sqn_bytes s = xor_sqn(concealed, *ak);
    const std::optional<mac_bytes> xmac = m.f1(rand, s, a);
    if (!xmac) return aka_error::crypto_failure;
    if (!same_bytes(*xmac, mac)) return aka_error::mac_a_mismatch;
    sqn = s;
    amf = a;
    return aka_error::none;
}

aka_nonce_text make_aka_nonce(const block& rand, const autn_bytes& autn) noexcept {
    std::array<std::uint8_t, nonce_bytes> raw{};
    std::copy(rand.begin(), rand.end(), raw.begin());
    std::copy(autn.begin(), autn.end(), raw.begin() + 16);
    aka_nonce_text t;
    static_assert(base64_encoded_size(nonce_bytes) == std::tuple_size_v<decltype(t.text)>);
    (void)base64_encode(raw, t.text);
    return t;
}

aka_error parse_aka_nonce(std::string_view nonce, block& rand, autn_bytes& autn) noexcept {
    // One byte of room more than a nonce of ours needs, so a longer one is told from a bad one.
    std::array<std::uint8_t, nonce_bytes + 1> raw{};
    std::size_t n = 0;
    const base64_fault f = base64_decode(nonce, raw, n);
    if (f != base64_fault::none) return from_base64(f);
    if (n != nonce_bytes) return aka_error::wrong_length;
    std::copy_n(raw.begin(), 16, rand.begin());
    std::copy_n(raw.begin() + 16, 16, autn.begin());
    return aka_error::none;
}

aka_error make_rand(block& out) noexcept {
    return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1 ? aka_error::none : aka_error::crypto_failure;
}

aka_nonce_with_data make_aka_nonce(const block& rand, const autn_bytes& autn, std::string_view data) noexcept {
    std::array<std::uint8_t, nonce_bytes + aka_server_data_max> raw{};
    std::copy(rand.begin(), rand.end(), raw.begin());
    std::copy(autn.begin(), autn.end(), raw.begin() + 16);
    data = data.substr(0, aka_server_data_max);
    std::copy(data.begin(), data.end(), raw.begin() + nonce_bytes);
    aka_nonce_with_data t;
    t.size = base64_encode(std::span(raw).first(nonce_bytes + data.size()), t.text);
    return t;
}

aka_error parse_aka_nonce(std::string_view nonce, aka_nonce_parts& out) noexcept {
    std::array<std::uint8_t, nonce_bytes + aka_server_data_max + 1> raw{};
    std::size_t n = 0;
    const base64_fault f = base64_decode(nonce, raw, n);
    if (f != base64_fault::none && f != base64_fault::too_long) return from_base64(f);
    if (f == base64_fault::too_long || n < nonce_bytes || n > nonce_bytes + aka_server_data_max)
        return aka_error::wrong_length;
    std::copy_n(raw.begin(), 16, out.rand.begin());
    std::copy_n(raw.begin() + 16, 16, out.autn.begin());
    out.data_size = n - nonce_bytes;
    std::transform(raw.begin() + nonce_bytes, raw.begin() + static_cast<std::ptrdiff_t>(n), out.data.begin(),
                   [](std::uint8_t b) { return static_cast<char>(b); });
    return aka_error::none;
}

aka_error decode_auts(std::string_view text, auts_bytes& out) noexcept {
    std::array<std::uint8_t, std::tuple_size_v<auts_bytes> + 1> raw{};
    std::size_t n = 0;
    const base64_fault f = base64_decode(text, raw, n);
    if (f != base64_fault::none) return from_base64(f);
    if (n != out.size()) return aka_error::wrong_length;
    std::copy_n(raw.begin(), out.size(), out.begin());
    return aka_error::none;
}

auts_text encode_auts(const auts_bytes& auts) noexcept {
    auts_text t;
    static_assert(base64_encoded_size(std::tuple_size_v<auts_bytes>) == std::tuple_size_v<decltype(t.text)>);
    (void)base64_encode(auts, t.text);
    return t;
}

aka_error verify_auts(const milenage& m, const block& rand, const auts_bytes& auts, sqn_bytes& sqn_ms) noexcept {
    // TS 33.102 §6.3.3: AUTS = SQN_MS ⊕ AK* ‖ MAC-S, MAC-S = f1*(SQN_MS, RAND, AMF) where the
    // AMF is the dummy value of all zeros, since a resynchronisation has none of its own.
    const std::optional<ak_bytes> ak_star = m.f5_star(rand);
    if (!ak_star) return aka_error::crypto_failure;
    sqn_bytes concealed{};
    mac_bytes mac_s{};
    std::copy_n(auts.begin(), 6, concealed.begin());
    std::copy_n(auts.begin() + 6, 8, mac_s.begin());
    const sqn_bytes s = xor_sqn(concealed, *ak_star);
    const std::optional<mac_bytes> xmac_s = m.f1_star(rand, s, amf_bytes{});
    if (!xmac_s) return aka_error::crypto_failure;
    if (!same_bytes(*xmac_s, mac_s)) return aka_error::mac_s_mismatch;
    sqn_ms = s;
    return aka_error::none;
}

aka_error make_auts(const milenage& m, const block& rand, const sqn_bytes& sqn_ms, auts_bytes& out) noexcept {
    const std::optional<ak_bytes> ak_star = m.f5_star(rand);
    const std::optional<mac_bytes> mac_s = m.f1_star(rand, sqn_ms, amf_bytes{});
    if (!ak_star || !mac_s) return aka_error::crypto_failure;
    const sqn_bytes concealed = xor_sqn(sqn_ms, *ak_star);
    std::copy(mac_s->begin(), mac_s->end(), std::copy(concealed.begin(), concealed.end(), out.begin()));
    return aka_error::none;
}

credentials_fault parse_aka_credentials(std::string_view value, aka_credentials& out) noexcept {
    out = {};
    credentials& c = out.digest;
    value = detail::trim(value);
    if (value.size() < 7 || !sip::iequals(value.substr(0, 6), "Digest") || (value[6] != ' ' && value[6] != '\t'))
        return credentials_fault::not_digest;
    std::string_view rest = value.substr(7);
    bool aka_v1 = false;
    bool algorithm_given = false;
    while (!detail::trim(rest).empty()) {
        std::string_view name, v;
        if (!detail::next_param(rest, name, v)) return credentials_fault::malformed;
        if (sip::iequals(name, "username")) c.username = v;
        else if (sip::iequals(name, "realm")) c.realm = v;
        else if (sip::iequals(name, "nonce")) c.nonce = v;
        else if (sip::iequals(name, "uri")) c.uri = v;
        else if (sip::iequals(name, "response")) c.response = v;
        else if (sip::iequals(name, "cnonce")) c.cnonce = v;
        else if (sip::iequals(name, "qop")) c.qop = v;
        else if (sip::iequals(name, "nc")) c.nc = v;
        else if (sip::iequals(name, "auts")) out.auts = v;
        else if (sip::iequals(name, "algorithm")) {
            algorithm_given = true;
            aka_v1 = sip::iequals(v, "AKAv1-MD5");
        }
    }
    // AKAv1-MD5 is RFC 2617's MD5 digest with RES as the password (RFC 3310 §3.3).
    c.alg = algorithm::md5;
    if (c.username.empty() || c.realm.empty() || c.uri.empty()) return credentials_fault::missing;
    if (c.nonce.empty()) {
        // TS 24.229 §5.1.1.2: the initial REGISTER names the private identity only.
        return algorithm_given && !aka_v1 ? credentials_fault::bad_algorithm : credentials_fault::none;
    }
    if (!aka_v1) return credentials_fault::bad_algorithm;
    if (c.response.empty() && out.auts.empty()) return credentials_fault::missing;
    if (!c.qop.empty()) {
        if (!sip::iequals(c.qop, "auth") || c.cnonce.empty() || c.nc.size() != 8) return credentials_fault::bad_qop;
        std::uint32_t count = 0;
        for (char ch : c.nc) {
            unsigned d = 0;
            if (ch >= '0' && ch <= '9') d = static_cast<unsigned>(ch - '0');
            else if (ch >= 'a' && ch <= 'f') d = static_cast<unsigned>(ch - 'a' + 10);
            else if (ch >= 'A' && ch <= 'F') d = static_cast<unsigned>(ch - 'A' + 10);
            else return credentials_fault::bad_qop;
            count = count << 4 | d;
        }
        c.nonce_count = count;
    }
    return credentials_fault::none;
}

aka_error sqn_generator::next(sqn_bytes& out) noexcept {
    std::uint64_t seq = seq_.load(std::memory_order_relaxed);
    do {
        if (seq >= seq_max) return aka_error::sqn_exhausted;
    } while (!seq_.compare_exchange_weak(seq, seq + 1, std::memory_order_relaxed));
    out = sqn_from_value((seq + 1) << ind_bits | ind_);
    return aka_error::none;
}

void sqn_generator::resync(const sqn_bytes& sqn_ms) noexcept {
    seq_.store(sqn_value(sqn_ms) >> ind_bits, std::memory_order_relaxed);
}

} // namespace sipfast::auth
