// SPDX-License-Identifier: Apache-2.0
// Milenage (3GPP TS 35.206 §4.1): the 3GPP example set of authentication functions f1, f1*, f2,
// f3, f4, f5 and f5* over AES-128 (OpenSSL's), as an IMS AKA server (RFC 3310) computes them for
// a subscriber's K and OPc. Pure computation: no state but the keys, no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

namespace sipfast::auth {

/// 128 bits: K, OP, OPc, RAND, CK, IK, AUTN.
using block = std::array<std::uint8_t, 16>;
/// The 48-bit sequence number SQN, most significant byte first (TS 33.102 §6.3.2).
using sqn_bytes = std::array<std::uint8_t, 6>;
/// The authentication management field AMF.
using amf_bytes = std::array<std::uint8_t, 2>;
/// MAC-A (f1) or MAC-S (f1*).
using mac_bytes = std::array<std::uint8_t, 8>;
/// RES or XRES: Milenage's f2 gives 64 bits.
using res_bytes = std::array<std::uint8_t, 8>;
/// The anonymity key AK (f5) or AK* (f5*), XORed over SQN.
using ak_bytes = std::array<std::uint8_t, 6>;

/// Everything Milenage computes from one RAND, SQN and AMF.
struct milenage_output {
    mac_bytes mac_a{};   ///< f1
    mac_bytes mac_s{};   ///< f1*
    res_bytes res{};     ///< f2
    block ck{};          ///< f3
    block ik{};          ///< f4
    ak_bytes ak{};       ///< f5
    ak_bytes ak_star{};  ///< f5*
};

/// The functions of one subscriber: K and OPc, held for the object's life and wiped when it goes.
/// Each call runs AES-128 (ECB, single blocks) in OpenSSL's EVP on a cipher context of the calling
/// thread, made on its first use and keyed with K once per call: no allocation after that first
/// use. Nothing in an object changes after construction: any object may be used from any thread
/// at once.
///
/// Every function answers std::nullopt only when OpenSSL fails (no memory for the thread's
/// context on its first use): never a value computed with a failed cipher.
class milenage {
public:
    milenage(const block& k, const block& opc) noexcept : k_(k), opc_(opc) {}
    ~milenage();
    milenage(const milenage&) = default;
    milenage& operator=(const milenage&) = default;

    /// OPc = OP ⊕ E_K(OP) (TS 35.206 §4.1): what an operator's OP becomes for one subscriber.
    [[nodiscard]] static std::optional<block> opc_from_op(const block& k, const block& op) noexcept;

    /// f1: the network authentication code MAC-A.
    [[nodiscard]] std::optional<mac_bytes> f1(const block& rand, const sqn_bytes& sqn, const amf_bytes& amf) const noexcept;
    /// f1*: the resynchronisation code MAC-S.
    [[nodiscard]] std::optional<mac_bytes> f1_star(const block& rand, const sqn_bytes& sqn,
                                                   const amf_bytes& amf) const noexcept;
    /// f2: the response RES (the network's XRES).
    [[nodiscard]] std::optional<res_bytes> f2(const block& rand) const noexcept;
    /// f3: the cipher key CK.
    [[nodiscard]] std::optional<block> f3(const block& rand) const noexcept;
    /// f4: the integrity key IK.
    [[nodiscard]] std::optional<block> f4(const block& rand) const noexcept;
    /// f5: the anonymity key AK of an authentication.
    [[nodiscard]] std::optional<ak_bytes> f5(const block& rand) const noexcept;
    /// f5*: the anonymity key AK* of a resynchronisation.
    [[nodiscard]] std::optional<ak_bytes> f5_star(const block& rand) const noexcept;

    /// All seven at once, keying the cipher once and computing TEMP once (six AES blocks).
    [[nodiscard]] std::optional<milenage_output> compute(const block& rand, const sqn_bytes& sqn,
                                                         const amf_bytes& amf) const noexcept;

    [[nodiscard]] const block& opc() const noexcept { return opc_; }

private:
    block k_;
    block opc_;
};

} // namespace sipfast::auth
