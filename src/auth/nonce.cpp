// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/nonce.hpp"

#include <charconv>
#include <span>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace sipfast::auth {

namespace {
constexpr std::uint64_t future_slack_ns = 1'000'000;

/// HMAC-SHA256 of `input` under `key` into `md` (32 bytes); false when OpenSSL cannot. One MAC
/// context per thread, fetched once and keyed per call: the one-shot HMAC() fetches the MAC and
/// its digest again and allocates a context at every call, several times the cost of the MAC.
bool hmac_sha256(std::span<const unsigned char> key, std::span<const unsigned char> input, unsigned char* md) noexcept {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    thread_local EVP_MAC_CTX* const ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    if (ctx == nullptr) return false;
    char digest[] = "SHA2-256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0), OSSL_PARAM_construct_end()};
    std::size_t n = 0;
    return EVP_MAC_init(ctx, key.data(), key.size(), params) == 1 && EVP_MAC_update(ctx, input.data(), input.size()) == 1 &&
           EVP_MAC_final(ctx, md, &n, 32) == 1 && n == 32;
}
} // namespace

nonce_source::nonce_source() {
    if (RAND_bytes(secret_.data(), static_cast<int>(secret_.size())) != 1)
        throw std::runtime_error("no random bytes for the nonce secret");
}

bool nonce_source::mac(std::uint64_t made_ns, std::string_view realm, std::array<char, 32>& out) const noexcept {
    std::array<unsigned char, 8 + 256> input{};
    for (int i = 0; i < 8; ++i) input[static_cast<std::size_t>(i)] = static_cast<unsigned char>(made_ns >> (56 - 8 * i));
    const std::size_t r = realm.size() < 256 ? realm.size() : 256;
    for (std::size_t i = 0; i < r; ++i) input[8 + i] = static_cast<unsigned char>(realm[i]);
    unsigned char md[32] = {};
    if (!hmac_sha256(secret_, {input.data(), 8 + r}, md)) return false;
    core::text_writer w(out);
    for (unsigned int i = 0; i < 16; ++i) w.hex(md[i], 2);  // 128 bits of it are plenty
    return true;
}

void nonce_source::make(std::uint64_t now_ns, std::string_view realm, core::text_writer& out) const noexcept {
    std::uint64_t last = last_made_.load(std::memory_order_relaxed);
    std::uint64_t made = 0;
    do {
        made = now_ns > last ? now_ns : last + 1;
    } while (!last_made_.compare_exchange_weak(last, made, std::memory_order_relaxed));
    std::array<char, 32> m{};
    (void)mac(made, realm, m);  // failed: zeros, a nonce check() never accepts
    out.hex(made, 16).put(std::string_view(m.data(), m.size()));
}

std::uint64_t nonce_source::made_at(std::string_view nonce) noexcept {
    std::uint64_t t = 0;
    if (nonce.size() < 16) return 0;
    (void)std::from_chars(nonce.data(), nonce.data() + 16, t, 16);
    return t;
}

nonce_source::verdict nonce_source::check(std::string_view nonce, std::string_view realm, std::uint64_t now_ns,
                                          std::uint64_t lifetime_ns) const noexcept {
    if (nonce.size() != 48) return verdict::forged;
    std::uint64_t made = 0;
    const auto [end, ec] = std::from_chars(nonce.data(), nonce.data() + 16, made, 16);
    if (ec != std::errc{} || end != nonce.data() + 16) return verdict::forged;
    std::array<char, 32> m{};
    // No MAC (OpenSSL failed): nothing verifies, rather than everything.
    if (!mac(made, realm, m) || CRYPTO_memcmp(m.data(), nonce.data() + 16, m.size()) != 0) return verdict::forged;
    // Nonces made in one nanosecond are spread over the next ones: a little ahead of the clock is
    // ours; far ahead is not a clock we share.
    if (made > now_ns + future_slack_ns) return verdict::forged;
    if (made > now_ns) return verdict::fresh;
    return now_ns - made >= lifetime_ns ? verdict::stale : verdict::fresh;
}

} // namespace sipfast::auth
