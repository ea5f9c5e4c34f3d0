// SPDX-License-Identifier: Apache-2.0
// AVX-512BW scanner: one 64-byte load per block, compares straight into 64-bit masks. Compiled for
// AVX-512 by a target pragma so the rest of the program stays baseline.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <immintrin.h>

#include "isa/scan.hpp"

SIPFAST_TARGET_BEGIN("avx512f,avx512bw,avx2,bmi,bmi2,lzcnt,popcnt")

namespace sipfast::sip::avx512 {
namespace {

#include "isa/scan_generic.hpp"

[[gnu::always_inline]] inline block_masks classify(const char* p) noexcept {
    const __m512i v = _mm512_loadu_si512(p);
    const std::uint64_t lf = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
    const std::uint64_t cr = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
    const std::uint64_t ht = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\t'));
    const std::uint64_t ctl = _mm512_cmple_epu8_mask(v, _mm512_set1_epi8(0x1f));
    const std::uint64_t del = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(0x7f));
    return block_masks{lf, cr, _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(':')),
                       (ctl & ~(lf | cr | ht)) | del};
}

} // namespace

void scan_entry(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    scan(buf, len, out);
}

} // namespace sipfast::sip::avx512

SIPFAST_TARGET_END
