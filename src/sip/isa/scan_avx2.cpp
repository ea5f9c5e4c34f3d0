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

struct classifier {
    // Spelled out: an implicit constructor would be compiled without the target of this file.
    [[gnu::always_inline]] classifier() noexcept
        : lf_c(_mm256_set1_epi8('\n')),
          cr_c(_mm256_set1_epi8('\r')),
          colon_c(_mm256_set1_epi8(':')),
          ht_c(_mm256_set1_epi8('\t')),
          del_c(_mm256_set1_epi8(0x7f)),
          ctl_max(_mm256_set1_epi8(0x1f)) {}

    __m256i lf_c;
    __m256i cr_c;
    __m256i colon_c;
    __m256i ht_c;
    __m256i del_c;
    __m256i ctl_max;

    struct half {
        std::uint32_t lf, cr, bad;
    };

    [[gnu::always_inline]] half run(const char* p) const noexcept {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        const __m256i lf = _mm256_cmpeq_epi8(v, lf_c);
        const __m256i cr = _mm256_cmpeq_epi8(v, cr_c);
        const __m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(v, ctl_max), v);  // v <= 0x1f
        const __m256i allowed = _mm256_or_si256(_mm256_or_si256(lf, cr), _mm256_cmpeq_epi8(v, ht_c));
        const __m256i bad = _mm256_or_si256(_mm256_andnot_si256(allowed, ctl), _mm256_cmpeq_epi8(v, del_c));
        return half{static_cast<std::uint32_t>(_mm256_movemask_epi8(lf)),
                    static_cast<std::uint32_t>(_mm256_movemask_epi8(cr)),
                    static_cast<std::uint32_t>(_mm256_movemask_epi8(bad))};
    }

    [[gnu::always_inline]] block_masks operator()(const char* p) const noexcept {
        const half lo = run(p);
        const half hi = run(p + 32);
        const auto join = [](std::uint32_t l, std::uint32_t h) { return l | (std::uint64_t{h} << 32); };
        return block_masks{join(lo.lf, hi.lf), join(lo.cr, hi.cr), join(lo.bad, hi.bad)};
    }

    static constexpr std::size_t colon_width = 32;
    [[gnu::always_inline]] std::uint64_t colons(const char* p) const noexcept {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
        return static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, colon_c)));
    }
};

} // namespace

void scan_entry(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    scan<classifier>(buf, len, out);
}

} // namespace sipfast::sip::avx2

SIPFAST_TARGET_END
