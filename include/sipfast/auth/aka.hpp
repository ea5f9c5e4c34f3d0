// SPDX-License-Identifier: Apache-2.0
// IMS AKA as digest (RFC 3310, AKAv1-MD5; 3GPP TS 33.203): authentication vectors from Milenage,
// the nonce that carries RAND and AUTN, the AUTS of a resynchronisation, the sequence numbers
// (TS 33.102 §6.3, Annex C), and RES as the digest password. Pure: no I/O, no allocation; what a
// registrar keeps between the 401 and the answer (the vector, the generator) is the caller's.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "sipfast/auth/base64.hpp"
#include "sipfast/auth/digest.hpp"
#include "sipfast/auth/milenage.hpp"

namespace sipfast::auth {

/// AUTN = (SQN ⊕ AK) ‖ AMF ‖ MAC-A (TS 33.102 §6.3.2).
using autn_bytes = block;
/// AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S (TS 33.102 §6.3.3).
using auts_bytes = std::array<std::uint8_t, 14>;

/// What the network keeps of one challenge (TS 33.102 §6.3.2): the USIM answers RES, which must
/// equal XRES; CK and IK key the IPsec associations of TS 33.203 (sec-agree).
struct aka_vector {
    block rand{};
    autn_bytes autn{};
    res_bytes xres{};
    block ck{};
    block ik{};
};

enum class aka_error : std::uint8_t {
    none,
    crypto_failure,  ///< OpenSSL failed (no memory for the thread's cipher context)
    bad_base64,      ///< a nonce or auts that is not base64 (bad character or padding)
    wrong_length,    ///< a nonce not 32 bytes (RAND ‖ AUTN; ours carry no server data), an auts not 14
    mac_a_mismatch,  ///< AUTN's MAC-A does not verify: not made with this subscriber's K for this RAND
    mac_s_mismatch,  ///< AUTS's MAC-S does not verify: not from this subscriber's USIM for this RAND
    sqn_exhausted,   ///< the generator's SEQ is at its largest (2^43 - 1)
};

/// A short English name of `e` for logs ("MAC-S mismatch").
[[nodiscard]] std::string_view aka_error_text(aka_error e) noexcept;

/// The vector for `rand` (16 random bytes, the caller's: e.g. RAND_bytes) at sequence number
/// `sqn` with `amf` (TS 33.102 §6.3.2: AMF's separation bit 0 for IMS).
[[nodiscard]] aka_error make_aka_vector(const milenage& m, const sqn_bytes& sqn, const amf_bytes& amf,
                                        const block& rand, aka_vector& out) noexcept;

/// 16 bytes from OpenSSL's random generator for a challenge's RAND (TS 33.102 §6.3.2: RANDs must
/// not repeat nor be guessed); crypto_failure when it has none to give.
[[nodiscard]] aka_error make_rand(block& out) noexcept;

/// What a USIM does with AUTN (TS 33.102 §6.3.3), for tests and a client: AK = f5(RAND) opens
/// SQN, and XMAC = f1(SQN, RAND, AMF) must equal MAC-A. Sets `sqn` and `amf` only on success.
/// Whether SQN is fresh is the USIM's to judge and not checked here.
[[nodiscard]] aka_error open_autn(const milenage& m, const block& rand, const autn_bytes& autn, sqn_bytes& sqn,
                                  amf_bytes& amf) noexcept;

/// The text of an AKA nonce: base64 of RAND ‖ AUTN, 44 characters.
struct aka_nonce_text {
    std::array<char, 44> text{};
    [[nodiscard]] std::string_view view() const noexcept { return {text.data(), text.size()}; }
};

/// The nonce of an AKAv1-MD5 challenge (RFC 3310 §3.2): base64(RAND ‖ AUTN ‖ server data), with
/// no server-specific data.
[[nodiscard]] aka_nonce_text make_aka_nonce(const block& rand, const autn_bytes& autn) noexcept;

/// RAND and AUTN back from the nonce of a challenge we made: bad_base64, or wrong_length when it
/// does not hold exactly 32 bytes (we never add server data, so a longer one is not ours).
/// `rand` and `autn` are written only on success.
[[nodiscard]] aka_error parse_aka_nonce(std::string_view nonce, block& rand, autn_bytes& autn) noexcept;

/// The most server-specific data (RFC 3310 §3.2) a nonce of ours carries: a stateless digest
/// nonce (nonce_source, 48 characters) that dates the challenge and binds its RAND to us.
inline constexpr std::size_t aka_server_data_max = 48;

/// An AKA nonce with server data: base64 of RAND ‖ AUTN ‖ data.
struct aka_nonce_with_data {
    std::array<char, base64_encoded_size(32 + aka_server_data_max)> text{};
    std::size_t size = 0;
    [[nodiscard]] std::string_view view() const noexcept { return {text.data(), size}; }
};
/// The nonce of a challenge whose server data is `data` (at most aka_server_data_max bytes;
/// more is cut).
[[nodiscard]] aka_nonce_with_data make_aka_nonce(const block& rand, const autn_bytes& autn, std::string_view data) noexcept;

/// What a nonce holds: RAND, AUTN and the server data after them.
struct aka_nonce_parts {
    block rand{};
    autn_bytes autn{};
    std::array<char, aka_server_data_max> data{};
    std::size_t data_size = 0;
    [[nodiscard]] std::string_view server_data() const noexcept { return {data.data(), data_size}; }
};
/// Splits a nonce: bad_base64, or wrong_length when it holds fewer than 32 bytes or more server
/// data than ours carry. `out` is written only on success.
[[nodiscard]] aka_error parse_aka_nonce(std::string_view nonce, aka_nonce_parts& out) noexcept;

/// The auts parameter's bytes (RFC 3310 §3.4: base64 of AUTS): bad_base64, or wrong_length
/// when it is not 14 bytes. `out` is written only on success.
[[nodiscard]] aka_error decode_auts(std::string_view text, auts_bytes& out) noexcept;

/// The auts parameter for an AUTS (20 characters, one '=' of padding): what a client sends.
struct auts_text {
    std::array<char, 20> text{};
    [[nodiscard]] std::string_view view() const noexcept { return {text.data(), text.size()}; }
};
[[nodiscard]] auts_text encode_auts(const auts_bytes& auts) noexcept;

/// Verifies an AUTS sent for the challenge with `rand` (RFC 3310 §3.4, TS 33.102 §6.3.3 and
/// §6.3.5): AK* = f5*(RAND) opens SQN_MS, and f1*(SQN_MS, RAND, AMF = 0x0000) must equal MAC-S
/// (compared in constant time). Sets `sqn_ms`, the highest SQN the USIM has accepted, only on
/// success; mac_s_mismatch otherwise. The caller passes SQN_MS to sqn_generator::resync.
[[nodiscard]] aka_error verify_auts(const milenage& m, const block& rand, const auts_bytes& auts,
                                    sqn_bytes& sqn_ms) noexcept;

/// The AUTS a USIM sends when it refuses AUTN's SQN (TS 33.102 §6.3.3): for tests and a client.
[[nodiscard]] aka_error make_auts(const milenage& m, const block& rand, const sqn_bytes& sqn_ms,
                                  auts_bytes& out) noexcept;

/// RES (or XRES) as the digest password of AKAv1-MD5 (RFC 3310 §3.3): its raw bytes, not hex.
/// A view of `res`'s bytes, valid while `res` is; it may hold NUL bytes, which hash() takes
/// as any other byte.
[[nodiscard]] inline std::string_view aka_password(const res_bytes& res) noexcept {
    return {reinterpret_cast<const char*>(res.data()), res.size()};
}

/// HA1 of AKAv1-MD5: MD5(username:realm:RES). With it response_for() (algorithm MD5) gives the
/// response the client must send (RFC 3310 §3.3, RFC 2617 §3.2.2).
[[nodiscard]] inline hex_digest aka_ha1(std::string_view username, std::string_view realm, const res_bytes& res) noexcept {
    return ha1(algorithm::md5, username, realm, aka_password(res));
}

/// An Authorization of IMS AKA (RFC 3310 §3.3, §3.4; TS 24.229 §5.1.1.2): the digest fields, with
/// `digest.alg` MD5 so response_for() checks it, and the auts when the client asks to resync.
struct aka_credentials {
    credentials digest;
    std::string_view auts;  ///< base64 as written; empty when absent
    /// The first REGISTER carries no answer yet (nonce and response empty): only the private
    /// identity (username) to challenge.
    [[nodiscard]] bool initial() const noexcept { return digest.nonce.empty(); }
};

/// Reads an Authorization value for AKAv1-MD5. Faults as parse_credentials: not_digest,
/// malformed, missing (username, realm or uri absent; or a nonce without a response),
/// bad_algorithm (with a nonce, algorithm must be AKAv1-MD5; the initial one may omit it),
/// bad_qop. An auts needs no response value (RFC 3310 §3.4 computes it with an empty password).
[[nodiscard]] credentials_fault parse_aka_credentials(std::string_view value, aka_credentials& out) noexcept;

/// SQN as the 48-bit integer it is (most significant byte first), and back (the top 16 bits of
/// `v` dropped).
[[nodiscard]] constexpr std::uint64_t sqn_value(const sqn_bytes& s) noexcept {
    std::uint64_t v = 0;
    for (std::uint8_t b : s) v = v << 8 | b;
    return v;
}
[[nodiscard]] constexpr sqn_bytes sqn_from_value(std::uint64_t v) noexcept {
    sqn_bytes s{};
    for (std::size_t i = s.size(); i-- > 0; v >>= 8) s[i] = static_cast<std::uint8_t>(v & 0xff);
    return s;
}

/// One subscriber's sequence numbers at the network (TS 33.102 Annex C, not time-based):
/// SQN = SEQ ‖ IND, 43 bits of SEQ and 5 of IND (the length Annex C suggests). Each vector takes
/// the next SEQ (SEQ_HE + 1) with this generator's IND; as integers, SQNs step by 32. A USIM
/// accepts a SEQ larger than any it took before (Annex C), so every SQN this issues is acceptable
/// until SEQ would wrap, when next() answers sqn_exhausted rather than go back.
///
/// Resynchronisation (TS 33.102 §6.3.5): after verify_auts, resync(SQN_MS) sets SEQ_HE to
/// SQN_MS's SEQ, so the next vector has SEQ_MS + 1, the smallest the USIM accepts. That is done
/// even when SEQ_MS is below SEQ_HE: the USIM refused SEQ_HE + 1, so it is out of the USIM's range
/// (Annex C's limit Δ on how far ahead a SEQ may be). Vectors made before the resync must be
/// dropped by the caller.
///
/// Safe to share between threads (one atomic word). Persisting SEQ_HE (seq()) is the caller's.
class sqn_generator {
public:
    static constexpr unsigned ind_bits = 5;
    static constexpr std::uint64_t seq_max = (std::uint64_t{1} << (48 - ind_bits)) - 1;

    /// `seq_he` the last SEQ issued (0: none yet; above seq_max taken as seq_max); `ind` in 0..31
    /// (bits above are ignored).
    explicit sqn_generator(std::uint64_t seq_he = 0, std::uint8_t ind = 0) noexcept
        : seq_(seq_he > seq_max ? seq_max : seq_he), ind_(static_cast<std::uint8_t>(ind & ((1u << ind_bits) - 1))) {}

    /// The SQN of the next vector; sqn_exhausted (and `out` untouched) once SEQ is at seq_max.
    [[nodiscard]] aka_error next(sqn_bytes& out) noexcept;
    /// SEQ_HE := SEQ of `sqn_ms`, from a verified AUTS.
    void resync(const sqn_bytes& sqn_ms) noexcept;
    /// SEQ_HE: the last SEQ issued, to persist.
    [[nodiscard]] std::uint64_t seq() const noexcept { return seq_.load(std::memory_order_relaxed); }
    [[nodiscard]] std::uint8_t ind() const noexcept { return ind_; }

private:
    std::atomic<std::uint64_t> seq_;
    std::uint8_t ind_;
};

} // namespace sipfast::auth
