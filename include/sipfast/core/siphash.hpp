// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sipfast::core {

/// A 128-bit key for siphash.
using siphash_key = std::array<std::uint64_t, 2>;

/// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed pseudo-random function of short inputs, fast
/// enough for every message (tens of nanoseconds), so a value we hand out (a branch) cannot be made
/// by anyone without the key. Fed in pieces; finish() once.
class siphash {
public:
    explicit siphash(const siphash_key& k) noexcept;

    siphash& update(std::string_view bytes) noexcept;
    siphash& update(std::uint64_t v) noexcept;
    [[nodiscard]] std::uint64_t finish() noexcept;

private:
    void compress(std::uint64_t m) noexcept;

    std::uint64_t v0_, v1_, v2_, v3_;
    std::uint64_t tail_ = 0;   // bytes not yet in a whole word, little-endian
    std::size_t tail_len_ = 0;
    std::uint64_t total_ = 0;  // bytes fed
};

/// A key from the kernel's random source, for secrets that live as long as the process.
[[nodiscard]] siphash_key random_siphash_key();

} // namespace sipfast::core
