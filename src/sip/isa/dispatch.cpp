// SPDX-License-Identifier: Apache-2.0
// Chooses the scanner once, from what the CPU has, unless SIPFAST_ISA names one.
#include <array>
#include <cstdlib>
#include <string_view>

#include "isa/scan.hpp"
#include "sipfast/sip/isa.hpp"

namespace sipfast::sip {

namespace scalar { void scan_entry(const char*, std::size_t, detail::scan_output&) noexcept; }
namespace sse42 { void scan_entry(const char*, std::size_t, detail::scan_output&) noexcept; }
namespace avx2 { void scan_entry(const char*, std::size_t, detail::scan_output&) noexcept; }
namespace avx512 { void scan_entry(const char*, std::size_t, detail::scan_output&) noexcept; }

namespace {

bool always() noexcept { return true; }
bool has_sse42() noexcept { return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("popcnt"); }
bool has_avx2() noexcept { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2"); }
bool has_avx512() noexcept {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && has_avx2();
}

constexpr implementation impl_avx512{"avx512", "AVX-512BW: 64-byte compares into masks",
                                     &avx512::scan_entry, &has_avx512};
constexpr implementation impl_avx2{"avx2", "AVX2: two 32-byte compares per block",
                                   &avx2::scan_entry, &has_avx2};
constexpr implementation impl_sse42{"sse42", "SSE4.2: four 16-byte compares per block",
                                    &sse42::scan_entry, &has_sse42};
constexpr implementation impl_scalar{"scalar", "portable: one byte at a time",
                                     &scalar::scan_entry, &always};

constexpr std::array<const implementation*, 4> all = {&impl_avx512, &impl_avx2, &impl_sse42,
                                                      &impl_scalar};

struct choice {
    const implementation* impl = &impl_scalar;
    std::string_view note;
};

choice choose() noexcept {
    choice c;
    for (const implementation* i : all) {
        if (i->supported()) {
            c.impl = i;
            break;
        }
    }
    const char* env = std::getenv("SIPFAST_ISA");
    if (env == nullptr || *env == '\0') return c;
    const implementation* forced = find_implementation(env);
    if (forced == nullptr) {
        c.note = "SIPFAST_ISA names no implementation (scalar, sse42, avx2, avx512); using the best";
    } else if (!forced->supported()) {
        c.note = "SIPFAST_ISA names an implementation this CPU cannot run; using the best";
    } else {
        c.impl = forced;
    }
    return c;
}

const choice& chosen() noexcept {
    static const choice c = choose();
    return c;
}

} // namespace

std::span<const implementation* const> implementations() noexcept { return all; }

const implementation* find_implementation(std::string_view name) noexcept {
    for (const implementation* i : all)
        if (i->name == name) return i;
    return nullptr;
}

const implementation& active_implementation() noexcept { return *chosen().impl; }

std::string_view active_implementation_note() noexcept { return chosen().note; }

} // namespace sipfast::sip
