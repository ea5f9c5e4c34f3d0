// SPDX-License-Identifier: Apache-2.0
#include "sipfast/auth/base64.hpp"

#include <array>

namespace sipfast::auth {

namespace {

constexpr std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::uint8_t invalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_values() noexcept {
    std::array<std::uint8_t, 256> v{};
    for (auto& x : v) x = invalid;
    for (std::size_t i = 0; i < alphabet.size(); ++i)
        v[static_cast<unsigned char>(alphabet[i])] = static_cast<std::uint8_t>(i);
    return v;
}
constexpr std::array<std::uint8_t, 256> values = make_values();

} // namespace

std::size_t base64_encode(std::span<const std::uint8_t> in, std::span<char> out) noexcept {
    const std::size_t need = base64_encoded_size(in.size());
    if (out.size() < need) return 0;
    std::size_t o = 0;
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t w = static_cast<std::uint32_t>(in[i]) << 16 | static_cast<std::uint32_t>(in[i + 1]) << 8 | in[i + 2];
        out[o++] = alphabet[w >> 18];
        out[o++] = alphabet[w >> 12 & 63];
        out[o++] = alphabet[w >> 6 & 63];
        out[o++] = alphabet[w & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest != 0) {
        std::uint32_t w = static_cast<std::uint32_t>(in[i]) << 16;
        if (rest == 2) w |= static_cast<std::uint32_t>(in[i + 1]) << 8;
        out[o++] = alphabet[w >> 18];
        out[o++] = alphabet[w >> 12 & 63];
        out[o++] = rest == 2 ? alphabet[w >> 6 & 63] : '=';
        out[o++] = '=';
    }
    return o;
}

base64_fault base64_decode(std::string_view in, std::span<std::uint8_t> out, std::size_t& size) noexcept {
    size = 0;
    std::size_t pad = 0;
    while (pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
    const std::string_view text = in.substr(0, in.size() - pad);
    for (char c : text) {
        if (c == '=') return base64_fault::bad_padding;
        if (values[static_cast<unsigned char>(c)] == invalid) return base64_fault::bad_character;
    }
    // Padding only at the end, at most two, and only where it completes a group of four.
    if (pad > 2 || (pad != 0 && in.size() % 4 != 0) || text.size() % 4 == 1) return base64_fault::bad_padding;
    const std::size_t bytes = text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
    if (bytes > out.size()) return base64_fault::too_long;
    std::uint32_t acc = 0;
    int bits = 0;
    std::size_t o = 0;
    for (char c : text) {
        acc = (acc << 6 | values[static_cast<unsigned char>(c)]) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = static_cast<std::uint8_t>(acc >> bits);
        }
    }
    size = o;
    return base64_fault::none;
}

} // namespace sipfast::auth
