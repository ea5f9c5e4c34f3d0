// SPDX-License-Identifier: Apache-2.0
// SSE4.2 scanner: four 16-byte compares per block. Compiled for SSE4.2 by a target pragma so the
// rest of the program stays baseline.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <immintrin.h>

#include "isa/scan.hpp"

SIPFAST_TARGET_BEGIN("sse4.2,popcnt")

namespace sipfast::sip::sse42 {
namespace {

#include "isa/scan_generic.hpp"

struct classifier {
    // Spelled out: an implicit constructor would be compiled without the target of this file.
    [[gnu::always_inline]] classifier() noexcept
        : lf_c(_mm_set1_epi8('\n')),
          cr_c(_mm_set1_epi8('\r')),
          colon_c(_mm_set1_epi8(':')),
          ht_c(_mm_set1_epi8('\t')),
          del_c(_mm_set1_epi8(0x7f)),
          ctl_max(_mm_set1_epi8(0x1f)) {}

    __m128i lf_c;
    __m128i cr_c;
    __m128i colon_c;
    __m128i ht_c;
    __m128i del_c;
    __m128i ctl_max;

    [[gnu::always_inline]] block_masks operator()(const char* p) const noexcept {
        block_masks m{0, 0, 0};
        for (unsigned i = 0; i < 4; ++i) {
            const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
            const __m128i lf = _mm_cmpeq_epi8(v, lf_c);
            const __m128i cr = _mm_cmpeq_epi8(v, cr_c);
            const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, ctl_max), v);  // v <= 0x1f
            const __m128i allowed = _mm_or_si128(_mm_or_si128(lf, cr), _mm_cmpeq_epi8(v, ht_c));
            const __m128i bad = _mm_or_si128(_mm_andnot_si128(allowed, ctl), _mm_cmpeq_epi8(v, del_c));
            const auto mask = [](__m128i x) { return std::uint64_t{static_cast<std::uint16_t>(_mm_movemask_epi8(x))}; };
            m.lf |= mask(lf) << (16 * i);
            m.cr |= mask(cr) << (16 * i);
            m.bad |= mask(bad) << (16 * i);
        }
        return m;
    }

    static constexpr std::size_t colon_width = 16;
    [[gnu::always_inline]] std::uint64_t colons(const char* p) const noexcept {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        return static_cast<std::uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, colon_c)));
    }
};

} // namespace

void scan_entry(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    scan<classifier>(buf, len, out);
}

} // namespace sipfast::sip::sse42

SIPFAST_TARGET_END
