// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/digest.hpp"

#include <charconv>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/params.hpp"

#include "digest_params.hpp"

namespace sipfast::auth {

namespace {

using detail::next_param;
using detail::trim;

// Fetched once. EVP_md5() and EVP_sha256() are legacy handles, from which OpenSSL 3 fetches the
// implementation again at every EVP_DigestInit_ex (a name lookup under a lock, an engine check):
// several times the cost of hashing a digest's few dozen bytes. A library without the algorithm
// (MD5 in a FIPS provider) leaves the legacy handle, whose init then fails cleanly.
const EVP_MD* md_of(algorithm a) noexcept {
    static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    if (a == algorithm::sha256) return sha256 != nullptr ? sha256 : EVP_sha256();
    return md5 != nullptr ? md5 : EVP_md5();
}

/// What follows "Digest " in `value`; false for another scheme.
bool after_digest_scheme(std::string_view value, std::string_view& rest) noexcept {
    value = trim(value);
    if (value.size() < 7 || !sip::iequals(value.substr(0, 6), "Digest") || (value[6] != ' ' && value[6] != '\t'))
        return false;
    rest = value.substr(7);
    return true;
}

bool read_algorithm(std::string_view v, algorithm& out) noexcept {
    if (sip::iequals(v, "MD5")) out = algorithm::md5;
    else if (sip::iequals(v, "SHA-256")) out = algorithm::sha256;
    else return false;
    return true;
}

} // namespace

std::string_view algorithm_name(algorithm a) noexcept { return a == algorithm::sha256 ? "SHA-256" : "MD5"; }

credentials_fault parse_credentials(std::string_view value, credentials& out) noexcept {
    out = {};
    std::string_view rest;
    if (!after_digest_scheme(value, rest)) return credentials_fault::not_digest;
    while (!trim(rest).empty()) {
        std::string_view name, v;
        if (!next_param(rest, name, v)) return credentials_fault::malformed;
        if (sip::iequals(name, "username")) out.username = v;
        else if (sip::iequals(name, "realm")) out.realm = v;
        else if (sip::iequals(name, "nonce")) out.nonce = v;
        else if (sip::iequals(name, "uri")) out.uri = v;
        else if (sip::iequals(name, "response")) out.response = v;
        else if (sip::iequals(name, "cnonce")) out.cnonce = v;
        else if (sip::iequals(name, "qop")) out.qop = v;
        else if (sip::iequals(name, "nc")) out.nc = v;
        else if (sip::iequals(name, "algorithm") && !read_algorithm(v, out.alg)) return credentials_fault::bad_algorithm;
    }
    // No algorithm means MD5 (RFC 7616 §3.4): the default of `out`.
    if (out.username.empty() || out.realm.empty() || out.nonce.empty() || out.uri.empty() || out.response.empty())
        return credentials_fault::missing;
    if (!out.qop.empty()) {
        if (!sip::iequals(out.qop, "auth") || out.cnonce.empty() || out.nc.size() != 8) return credentials_fault::bad_qop;
        const auto [end, ec] = std::from_chars(out.nc.data(), out.nc.data() + out.nc.size(), out.nonce_count, 16);
        if (ec != std::errc{} || end != out.nc.data() + out.nc.size()) return credentials_fault::bad_qop;
    }
    return credentials_fault::none;
}

challenge_fault parse_challenge(std::string_view value, challenge& out) noexcept {
    out = {};
    std::string_view rest;
    if (!after_digest_scheme(value, rest)) return challenge_fault::not_digest;
    while (!trim(rest).empty()) {
        std::string_view name, v;
        if (!next_param(rest, name, v)) return challenge_fault::malformed;
        if (sip::iequals(name, "realm")) out.realm = v;
        else if (sip::iequals(name, "nonce")) out.nonce = v;
        else if (sip::iequals(name, "opaque")) out.opaque = v;
        else if (sip::iequals(name, "stale")) out.stale = sip::iequals(v, "true");
        else if (sip::iequals(name, "algorithm") && !read_algorithm(v, out.alg)) return challenge_fault::bad_algorithm;
        else if (sip::iequals(name, "qop")) {
            // A quoted list of options (RFC 7616 §3.3): "auth", "auth-int" or both.
            for (std::string_view list = v; !list.empty();) {
                const std::size_t comma = list.find(',');
                out.qop_auth = out.qop_auth || sip::iequals(trim(list.substr(0, comma)), "auth");
                list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
            }
        }
    }
    return out.realm.empty() || out.nonce.empty() ? challenge_fault::missing : challenge_fault::none;
}

hex_digest hash(algorithm a, std::initializer_list<std::string_view> parts) noexcept {
    // One context per thread, reset per hash: EVP_MD_CTX_new allocates, a REGISTER should not.
    thread_local EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    hex_digest out;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md_of(a), nullptr) != 1) return out;
    bool first = true;
    for (std::string_view p : parts) {
        if (!first) (void)EVP_DigestUpdate(ctx, ":", 1);
        first = false;
        (void)EVP_DigestUpdate(ctx, p.data(), p.size());
    }
    if (EVP_DigestFinal_ex(ctx, md, &n) != 1) return out;
    core::text_writer w(out.text);
    for (unsigned int i = 0; i < n; ++i) w.hex(md[i], 2);
    out.size = static_cast<std::uint8_t>(w.size());
    return out;
}

hex_digest response_for(const credentials& c, std::string_view ha1, std::string_view method) noexcept {
    const hex_digest ha2 = hash(c.alg, {method, c.uri});
    if (c.qop.empty()) return hash(c.alg, {ha1, c.nonce, ha2.view()});
    return hash(c.alg, {ha1, c.nonce, c.nc, c.cnonce, c.qop, ha2.view()});
}

bool same_digest(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace sipfast::auth
