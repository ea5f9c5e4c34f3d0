// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/milenage.hpp"

#include <algorithm>
#include <cstddef>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace sipfast::auth {

namespace {

/// The calling thread's AES-128-ECB context: EVP_CIPHER_CTX_new and the first init with the cipher
/// allocate, so each thread makes one and keeps it, as digest.cpp keeps its EVP_MD_CTX. Later
/// sessions only set a key (EVP_EncryptInit_ex with no cipher keeps the context's), which
/// allocates nothing.
EVP_CIPHER_CTX* thread_aes_ctx() noexcept {
    struct holder {
        EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
        bool ready = ctx != nullptr && EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, nullptr, nullptr) == 1 &&
                     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
        holder() = default;
        holder(const holder&) = delete;
        holder& operator=(const holder&) = delete;
        ~holder() { EVP_CIPHER_CTX_free(ctx); }
    };
    thread_local holder h;
    return h.ready ? h.ctx : nullptr;
}

/// E_K over single blocks for the life of one session, on the thread's context.
class aes_session {
public:
    explicit aes_session(const block& k) noexcept : ctx_(thread_aes_ctx()) {
        ok_ = ctx_ != nullptr && EVP_EncryptInit_ex(ctx_, nullptr, nullptr, k.data(), nullptr) == 1;
    }
    aes_session(const aes_session&) = delete;
    aes_session& operator=(const aes_session&) = delete;
    /// Re-keys the context with zeros, so no key schedule of K stays behind in the thread.
    ~aes_session() {
        static constexpr block zero{};
        if (ctx_ != nullptr) (void)EVP_EncryptInit_ex(ctx_, nullptr, nullptr, zero.data(), nullptr);
    }

    [[nodiscard]] bool ok() const noexcept { return ok_; }

    /// E_K(in); false (and `ok()` false from then on) when OpenSSL fails.
    bool encrypt(const block& in, block& out) noexcept {
        if (!ok_) return false;
        int n = 0;
        // ECB without padding: one whole block in, one out, and the context stays ready for the
        // next block without a Final.
        ok_ = EVP_EncryptUpdate(ctx_, out.data(), &n, in.data(), static_cast<int>(in.size())) == 1 &&
              n == static_cast<int>(out.size());
        return ok_;
    }

private:
    EVP_CIPHER_CTX* ctx_ = nullptr;
    bool ok_ = false;
};

block xor_blocks(const block& a, const block& b) noexcept {
    block r{};
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<std::uint8_t>(a[i] ^ b[i]);
    return r;
}

/// rot(x, r): x cyclically rotated r bits towards the most significant bit (TS 35.206 §4.1).
/// Every r Milenage uses (0, 32, 64, 96) is whole bytes.
block rotate_bytes(const block& x, std::size_t r_bytes) noexcept {
    block r{};
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = x[(i + r_bytes) % x.size()];
    return r;
}

/// OUTk = E_K(rot(TEMP ⊕ OPc, rk) ⊕ ck) ⊕ OPc for k = 2..5 (TS 35.206 §4.1): r2..r5 = 0, 32,
/// 64, 96 bits; c2..c5 the 128-bit integers 1, 2, 4, 8.
bool out_k(aes_session& aes, const block& temp, const block& opc, std::size_t r_bytes, std::uint8_t c,
           block& out) noexcept {
    block in = rotate_bytes(xor_blocks(temp, opc), r_bytes);
    in[15] = static_cast<std::uint8_t>(in[15] ^ c);
    if (!aes.encrypt(in, out)) return false;
    out = xor_blocks(out, opc);
    return true;
}

/// OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc with IN1 = SQN‖AMF‖SQN‖AMF, r1 = 64, c1 = 0.
bool out_1(aes_session& aes, const block& temp, const block& opc, const sqn_bytes& sqn, const amf_bytes& amf,
           block& out) noexcept {
    block in1{};
    std::copy(sqn.begin(), sqn.end(), in1.begin());
    std::copy(amf.begin(), amf.end(), in1.begin() + 6);
    std::copy(in1.begin(), in1.begin() + 8, in1.begin() + 8);
    const block in = xor_blocks(temp, rotate_bytes(xor_blocks(in1, opc), 8));
    if (!aes.encrypt(in, out)) return false;
    out = xor_blocks(out, opc);
    return true;
}

/// TEMP = E_K(RAND ⊕ OPc).
bool temp_of(aes_session& aes, const block& rand, const block& opc, block& temp) noexcept {
    return aes.encrypt(xor_blocks(rand, opc), temp);
}

template <std::size_t N>
std::array<std::uint8_t, N> take(const block& b, std::size_t from) noexcept {
    std::array<std::uint8_t, N> r{};
    std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(from), N, r.begin());
    return r;
}

} // namespace

milenage::~milenage() {
    OPENSSL_cleanse(k_.data(), k_.size());
    OPENSSL_cleanse(opc_.data(), opc_.size());
}

std::optional<block> milenage::opc_from_op(const block& k, const block& op) noexcept {
    aes_session aes(k);
    block e{};
    if (!aes.encrypt(op, e)) return std::nullopt;
    return xor_blocks(e, op);
}

std::optional<mac_bytes> milenage::f1(const block& rand, const sqn_bytes& sqn, const amf_bytes& amf) const noexcept {
    aes_session aes(k_);
    block temp{}, out{};
    if (!temp_of(aes, rand, opc_, temp) || !out_1(aes, temp, opc_, sqn, amf, out)) return std::nullopt;
    return take<8>(out, 0);
}

std::optional<mac_bytes> milenage::f1_star(const block& rand, const sqn_bytes& sqn,
                                           const amf_bytes& amf) const noexcept {
    aes_session aes(k_);
    block temp{}, out{};
    if (!temp_of(aes, rand, opc_, temp) || !out_1(aes, temp, opc_, sqn, amf, out)) return std::nullopt;
    return take<8>(out, 8);
}

std::optional<res_bytes> milenage::f2(const block& rand) const noexcept {
    aes_session aes(k_);
    block temp{}, out{};
    if (!temp_of(aes, rand, opc_, temp) || !out_k(aes, temp, opc_, 0, 1, out)) return std::nullopt;
    return take<8>(out, 8);
}

std::optional<block> milenage::f3(const block& rand) const noexcept {
    aes_session aes(k_);
    block temp{}, out{};
    if (!temp_of(aes, rand, opc_, temp) || !out_k(aes, temp, opc_, 4, 2, out)) return std::nullopt;
    return out;
}

std::optional<block> milenage::f4(const block& rand) const noexcept {
    aes_session aes(k_);
    block temp{}, out{};
    if (!temp_of(aes, rand, opc_, temp) || !out_k(aes, temp, opc_, 8, 4, out)) return std::nullopt;
    return out;
}

std::optional<ak_bytes> milenage::f5(const block& rand) const noexcept {
    aes_session aes(k_);
    block temp{}, out{};
    if (!temp_of(aes, rand, opc_, temp) || !out_k(aes, temp, opc_, 0, 1, out)) return std::nullopt;
    return take<6>(out, 0);
}

std::optional<ak_bytes> milenage::f5_star(const block& rand) const noexcept {
    aes_session aes(k_);
    block temp{}, out{};
    if (!temp_of(aes, rand, opc_, temp) || !out_k(aes, temp, opc_, 12, 8, out)) return std::nullopt;
    return take<6>(out, 0);
}

std::optional<milenage_output> milenage::compute(const block& rand, const sqn_bytes& sqn,
                                                 const amf_bytes& amf) const noexcept {
    aes_session aes(k_);
    block temp{}, o1{}, o2{}, o3{}, o4{}, o5{};
    if (!temp_of(aes, rand, opc_, temp) || !out_1(aes, temp, opc_, sqn, amf, o1) ||
        !out_k(aes, temp, opc_, 0, 1, o2) || !out_k(aes, temp, opc_, 4, 2, o3) ||
        !out_k(aes, temp, opc_, 8, 4, o4) || !out_k(aes, temp, opc_, 12, 8, o5))
        return std::nullopt;
    milenage_output r;
    r.mac_a = take<8>(o1, 0);
    r.mac_s = take<8>(o1, 8);
    r.res = take<8>(o2, 8);
    r.ck = o3;
    r.ik = o4;
    r.ak = take<6>(o2, 0);
    r.ak_star = take<6>(o5, 0);
    return r;
}

} // namespace sipfast::auth
