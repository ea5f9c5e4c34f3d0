// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/siphash.hpp"

#include <bit>
#include <cstring>
#include <random>

namespace sipfast::core {

namespace {

void round(std::uint64_t& v0, std::uint64_t& v1, std::uint64_t& v2, std::uint64_t& v3) noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
}

// The k <= 8 bytes at p as a little-endian word, reading no byte outside them: for 4..8 bytes two
// overlapping 4-byte loads, for 1..3 three single bytes (the first, the middle and the last).
std::uint64_t load_partial(const char* p, std::size_t k) noexcept {
    const auto le = [](std::uint32_t v) { return std::endian::native == std::endian::big ? __builtin_bswap32(v) : v; };
    if (k >= 4) {
        std::uint32_t lo;
        std::uint32_t hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + k - 4, 4);
        return le(lo) | (std::uint64_t{le(hi)} << (8 * (k - 4)));
    }
    if (k == 0) return 0;
    const auto byte = [&](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i); };
    return byte(0) | byte(k / 2) | byte(k - 1);
}

} // namespace

siphash::siphash(const siphash_key& k) noexcept
    : v0_(k[0] ^ 0x736f6d6570736575ULL), v1_(k[1] ^ 0x646f72616e646f6dULL), v2_(k[0] ^ 0x6c7967656e657261ULL),
      v3_(k[1] ^ 0x7465646279746573ULL) {}

void siphash::compress(std::uint64_t m) noexcept {
    v3_ ^= m;
    round(v0_, v1_, v2_, v3_);
    round(v0_, v1_, v2_, v3_);
    v0_ ^= m;
}

siphash& siphash::update(std::string_view bytes) noexcept {
    const char* p = bytes.data();
    std::size_t n = bytes.size();
    total_ += n;
    // The marks hash many short pieces (a tag, a Call-ID, a length), so a piece rarely starts on
    // a word: the bytes that complete the pending word are taken in one partial load, not one by
    // one (a byte at a time, these updates were a tenth of the forwarding path).
    if (tail_len_ != 0) {
        const std::size_t take = n < 8 - tail_len_ ? n : 8 - tail_len_;
        tail_ |= load_partial(p, take) << (8 * tail_len_);
        tail_len_ += take;
        p += take;
        n -= take;
        if (tail_len_ < 8) return *this;
        compress(tail_);
        tail_ = 0;
        tail_len_ = 0;
    }
    for (; n >= 8; p += 8, n -= 8) {
        std::uint64_t m;
        std::memcpy(&m, p, 8);
        if constexpr (std::endian::native == std::endian::big) m = __builtin_bswap64(m);
        compress(m);
    }
    tail_ = load_partial(p, n);
    tail_len_ = n;
    return *this;
}

siphash& siphash::update(std::uint64_t v) noexcept {
    if (tail_len_ == 0) {
        compress(v);
        total_ += 8;
        return *this;
    }
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
    return update(std::string_view(bytes, 8));
}

std::uint64_t siphash::finish() noexcept {
    compress(tail_ | (total_ << 56));
    v2_ ^= 0xff;
    for (int i = 0; i < 4; ++i) round(v0_, v1_, v2_, v3_);
    return v0_ ^ v1_ ^ v2_ ^ v3_;
}

siphash_key random_siphash_key() {
    std::random_device source;  // getrandom(2) on Linux
    siphash_key k{};
    for (std::uint64_t& w : k) w = (std::uint64_t{source()} << 32) | source();
    return k;
}

} // namespace sipfast::core
