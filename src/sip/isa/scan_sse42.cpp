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

[[gnu::always_inline]] inline std::uint64_t mask16(__m128i v) noexcept {
    return static_cast<std::uint16_t>(_mm_movemask_epi8(v));
}

[[gnu::always_inline]] inline block_masks classify(const char* p) noexcept {
    const __m128i lf_c = _mm_set1_epi8('\n');
    const __m128i cr_c = _mm_set1_epi8('\r');
    const __m128i colon_c = _mm_set1_epi8(':');
    const __m128i ht_c = _mm_set1_epi8('\t');
    const __m128i del_c = _mm_set1_epi8(0x7f);
    const __m128i ctl_max = _mm_set1_epi8(0x1f);
    block_masks m{0, 0, 0, 0};
    for (unsigned i = 0; i < 4; ++i) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * i));
        const __m128i lf = _mm_cmpeq_epi8(v, lf_c);
        const __m128i cr = _mm_cmpeq_epi8(v, cr_c);
        const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, ctl_max), v);  // v <= 0x1f
        const __m128i allowed = _mm_or_si128(_mm_or_si128(lf, cr), _mm_cmpeq_epi8(v, ht_c));
        const __m128i bad = _mm_or_si128(_mm_andnot_si128(allowed, ctl), _mm_cmpeq_epi8(v, del_c));
        m.lf |= mask16(lf) << (16 * i);
        m.cr |= mask16(cr) << (16 * i);
        m.colon |= mask16(_mm_cmpeq_epi8(v, colon_c)) << (16 * i);
        m.bad |= mask16(bad) << (16 * i);
    }
    return m;
}

} // namespace

void scan_entry(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    scan(buf, len, out);
}

} // namespace sipfast::sip::sse42

SIPFAST_TARGET_END
