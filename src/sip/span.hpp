// SPDX-License-Identifier: Apache-2.0
// Runs of a character class and searches for a byte, sixteen bytes at a time. The decoders spend
// most of their time walking branch values, tags, hosts and parameters; a 16-byte step keeps them
// from paying a table lookup per byte. Loads stay inside the view. Private.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#if defined(__SSSE3__)
#include <immintrin.h>
#endif

#include "lex.hpp"

namespace sipfast::sip::lex {

#if defined(__SSSE3__)
// Class membership by two 16-entry lookups (simdjson's and Hyperscan's "shufti"): the low nibble
// selects which high nibbles (0..7, one bit each) are members, so lo[c & 15] & hi[c >> 4] is non-zero
// exactly for members. Bytes >= 0x80 have no bit in hi, so they are never members.
struct nibble_tables {
    alignas(16) unsigned char lo[16];
    alignas(16) unsigned char hi[16];
};

template <std::uint16_t Bits>
constexpr nibble_tables make_nibbles() {
    nibble_tables t{};
    for (unsigned h = 0; h < 8; ++h) t.hi[h] = static_cast<unsigned char>(1u << h);
    for (unsigned c = 0; c < 128; ++c)
        if (classes[c] & Bits) t.lo[c & 15] = static_cast<unsigned char>(t.lo[c & 15] | (1u << (c >> 4)));
    return t;
}

template <std::uint16_t Bits>
inline constexpr nibble_tables nibbles = make_nibbles<Bits>();

// Bit i set where byte i of p[0..15] is not in the class.
template <std::uint16_t Bits>
inline unsigned outside16(const char* p) noexcept {
    const __m128i lo = _mm_load_si128(reinterpret_cast<const __m128i*>(nibbles<Bits>.lo));
    const __m128i hi = _mm_load_si128(reinterpret_cast<const __m128i*>(nibbles<Bits>.hi));
    const __m128i low4 = _mm_set1_epi8(0x0f);
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i l = _mm_shuffle_epi8(lo, _mm_and_si128(v, low4));
    const __m128i h = _mm_shuffle_epi8(hi, _mm_and_si128(_mm_srli_epi16(v, 4), low4));
    const __m128i none = _mm_cmpeq_epi8(_mm_and_si128(l, h), _mm_setzero_si128());
    return static_cast<unsigned>(_mm_movemask_epi8(none));
}
#endif

/// Index past the run of class-`Bits` characters starting at s[i].
template <std::uint16_t Bits>
inline std::size_t span(std::string_view s, std::size_t i) noexcept {
#if defined(__SSSE3__)
    const std::size_t n = s.size();
    if (n >= 16) {
        while (i + 16 <= n) {
            const unsigned m = outside16<Bits>(s.data() + i);
            if (m) return i + static_cast<std::size_t>(__builtin_ctz(m));
            i += 16;
        }
        if (i == n) return n;
        // The tail: the view's last sixteen bytes, shifted so bit 0 is byte i. Still inside the view.
        const unsigned m = outside16<Bits>(s.data() + n - 16) >> (16 - (n - i));
        return m ? i + static_cast<std::size_t>(__builtin_ctz(m)) : n;
    }
#endif
    while (i < s.size() && is(s[i], Bits)) ++i;
    return i;
}

/// Index past the run of class-`Bits` characters and %HH escapes starting at s[i].
template <std::uint16_t Bits>
inline std::size_t span_escaped(std::string_view s, std::size_t i) noexcept {
    for (;;) {
        i = span<Bits>(s, i);
        if (i + 2 < s.size() && s[i] == '%' && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            i += 3;
            continue;
        }
        return i;
    }
}

/// Index of the first byte equal to a, b, c or d at or after s[i], or s.size(). Always inlined:
/// callers pass constant bytes, whose broadcasts then come from constants, and the call cost more
/// than searching a short value did (the program is no larger for it).
[[gnu::always_inline]] inline std::size_t find_any(std::string_view s, std::size_t i, char a, char b, char c, char d) noexcept {
#if defined(__SSSE3__)
    const __m128i va = _mm_set1_epi8(a);
    const __m128i vb = _mm_set1_epi8(b);
    const __m128i vc = _mm_set1_epi8(c);
    const __m128i vd = _mm_set1_epi8(d);
    const auto hits = [&](const char* p) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
                                         _mm_or_si128(_mm_cmpeq_epi8(v, vc), _mm_cmpeq_epi8(v, vd)));
        return static_cast<unsigned>(_mm_movemask_epi8(hit));
    };
    const std::size_t n = s.size();
    if (n >= 16) {
        while (i + 16 <= n) {
            const unsigned m = hits(s.data() + i);
            if (m) return i + static_cast<std::size_t>(__builtin_ctz(m));
            i += 16;
        }
        if (i >= n) return n;
        const unsigned m = hits(s.data() + n - 16) >> (16 - (n - i));  // the tail, as in span()
        return m ? i + static_cast<std::size_t>(__builtin_ctz(m)) : n;
    }
#endif
    while (i < s.size() && s[i] != a && s[i] != b && s[i] != c && s[i] != d) ++i;
    return i;
}

/// Index of the first byte equal to a, b or c at or after s[i], or s.size().
inline std::size_t find_any(std::string_view s, std::size_t i, char a, char b, char c) noexcept {
    return find_any(s, i, a, b, c, c);
}

/// Index of the first byte equal to a or b at or after s[i], or s.size().
inline std::size_t find_either(std::string_view s, std::size_t i, char a, char b) noexcept {
    return find_any(s, i, a, b, b);
}

/// Index of the closing '"' of a quoted string opening at s[open], honouring quoted-pair
/// escapes (RFC 3261 §25.1); npos when unterminated.
inline std::size_t quoted_end_fast(std::string_view s, std::size_t open) noexcept {
    std::size_t i = open + 1;
    for (;;) {
        i = find_either(s, i, '"', '\\');
        if (i >= s.size()) return std::string_view::npos;
        if (s[i] == '"') return i;
        i += 2;  // quoted-pair
    }
}

} // namespace sipfast::sip::lex
