// SPDX-License-Identifier: Apache-2.0
// Hex text to bytes and back, for the test sets the auth tests are written in.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sipfast::auth::test {

template <std::size_t N>
std::array<std::uint8_t, N> from_hex(std::string_view h) {
    std::array<std::uint8_t, N> r{};
    EXPECT_EQ(h.size(), 2 * N) << h;
    auto nibble = [](char c) -> unsigned {
        if (c >= '0' && c <= '9') return static_cast<unsigned>(c - '0');
        return static_cast<unsigned>(c - 'a' + 10);
    };
    for (std::size_t i = 0; i < N && 2 * i + 1 < h.size(); ++i)
        r[i] = static_cast<std::uint8_t>(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
    return r;
}

inline std::string to_hex(std::span<const std::uint8_t> a) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string s;
    for (std::uint8_t b : a) {
        s += digits[b >> 4];
        s += digits[b & 15];
    }
    return s;
}

} // namespace sipfast::auth::test
