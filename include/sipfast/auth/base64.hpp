// SPDX-License-Identifier: Apache-2.0
// Base64 (RFC 4648 §4, the standard alphabet) for the binary values of IMS AKA's digest
// parameters (RFC 3310 §3: the nonce, auts). Into and out of the caller's buffers, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipfast::auth {

/// Characters base64 writes for `n` bytes, padding included.
[[nodiscard]] constexpr std::size_t base64_encoded_size(std::size_t n) noexcept { return (n + 2) / 3 * 4; }

/// Writes `in` as padded base64 into `out`; returns the characters written, or 0 when `out` is
/// shorter than base64_encoded_size(in.size()) (then nothing is written).
std::size_t base64_encode(std::span<const std::uint8_t> in, std::span<char> out) noexcept;

enum class base64_fault : std::uint8_t {
    none,
    bad_character,  ///< outside A-Z a-z 0-9 + / (and = at the end)
    bad_padding,    ///< '=' inside the text, more than two, or a length no encoding has (4k+1)
    too_long,       ///< decodes to more bytes than the output holds
};

/// Decodes `in` into `out` and sets `size` to the bytes written. Padding may be left off (as
/// some encoders do); whitespace is not allowed (digest parameters are quoted strings without
/// any). Bits beyond the last byte are ignored.
[[nodiscard]] base64_fault base64_decode(std::string_view in, std::span<std::uint8_t> out, std::size_t& size) noexcept;

} // namespace sipfast::auth
