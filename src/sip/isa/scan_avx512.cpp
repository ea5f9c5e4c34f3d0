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

struct classifier {
    // Spelled out: an implicit constructor would be compiled without the target of this file.
    [[gnu::always_inline]] classifier() noexcept
        : lf_c(_mm512_set1_epi8('\n')),
          cr_c(_mm512_set1_epi8('\r')),
          colon_c(_mm512_set1_epi8(':')),
          ht_c(_mm512_set1_epi8('\t')),
          del_c(_mm512_set1_epi8(0x7f)),
          ctl_max(_mm512_set1_epi8(0x1f)) {}

    __m512i lf_c;
    __m512i cr_c;
    __m512i colon_c;
    __m512i ht_c;
    __m512i del_c;
    __m512i ctl_max;

    [[gnu::always_inline]] block_masks operator()(const char* p) const noexcept {
        const __m512i v = _mm512_loadu_si512(p);
        const std::uint64_t lf = _mm512_cmpeq_epi8_mask(v, lf_c);
        const std::uint64_t cr = _mm512_cmpeq_epi8_mask(v, cr_c);
        const std::uint64_t ht = _mm512_cmpeq_epi8_mask(v, ht_c);
        const std::uint64_t ctl = _mm512_cmple_epu8_mask(v, ctl_max);
        const std::uint64_t del = _mm512_cmpeq_epi8_mask(v, del_c);
        return block_masks{lf, cr, (ctl & ~(lf | cr | ht)) | del};
    }

    static constexpr std::size_t colon_width = 64;
    [[gnu::always_inline]] std::uint64_t colons(const char* p) const noexcept {
        return _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(p), colon_c);
    }
};

} // namespace

void scan_entry(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    scan<classifier>(buf, len, out);
}

} // namespace sipfast::sip::avx512

SIPFAST_TARGET_END
