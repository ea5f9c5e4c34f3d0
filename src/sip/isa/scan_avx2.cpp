// SPDX-License-Identifier: Apache-2.0
// AVX2 scanner: two 32-byte compares per block. Compiled for AVX2 by a target pragma so the rest of
// the program stays baseline.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <immintrin.h>

#include "isa/scan.hpp"

SIPFAST_TARGET_BEGIN("avx2,bmi,bmi2,lzcnt,popcnt")

namespace sipfast::sip::avx2 {
namespace {

#include "isa/scan_generic.hpp"

[[gnu::always_inline]] inline std::uint64_t mask32(__m256i v) noexcept {
    return static_cast<std::uint32_t>(_mm256_movemask_epi8(v));
}

[[gnu::always_inline]] inline block_masks classify(const char* p) noexcept {
    const __m256i lf_c = _mm256_set1_epi8('\n');
    const __m256i cr_c = _mm256_set1_epi8('\r');
    const __m256i colon_c = _mm256_set1_epi8(':');
    const __m256i ht_c = _mm256_set1_epi8('\t');
    const __m256i del_c = _mm256_set1_epi8(0x7f);
    const __m256i ctl_max = _mm256_set1_epi8(0x1f);
    block_masks m{0, 0, 0, 0};
    for (unsigned i = 0; i < 2; ++i) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * i));
        const __m256i lf = _mm256_cmpeq_epi8(v, lf_c);
        const __m256i cr = _mm256_cmpeq_epi8(v, cr_c);
        const __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, ctl_max), v);  // v <= 0x1f
        const __m256i allowed = _mm256_or_si256(_mm256_or_si256(lf, cr), _mm256_cmpeq_epi8(v, ht_c));
        const __m256i bad =
            _mm256_or_si256(_mm256_andnot_si256(allowed, ctl), _mm256_cmpeq_epi8(v, del_c));
        m.lf |= mask32(lf) << (32 * i);
        m.cr |= mask32(cr) << (32 * i);
        m.colon |= mask32(_mm256_cmpeq_epi8(v, colon_c)) << (32 * i);
        m.bad |= mask32(bad) << (32 * i);
    }
    return m;
}

} // namespace

void scan_entry(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    scan(buf, len, out);
}

} // namespace sipfast::sip::avx2

SIPFAST_TARGET_END
