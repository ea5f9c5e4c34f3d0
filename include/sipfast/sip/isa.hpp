// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>
#include <string_view>

namespace sipfast::sip {

namespace detail {
struct scan_output;
}

/// One scanner implementation of the structural index (CR, LF and ':' positions in 64-byte blocks).
/// All give identical results; they differ in the instructions they use.
struct implementation {
    std::string_view name;         ///< "scalar", "sse42", "avx2", "avx512"
    std::string_view description;
    /// detail: the scanner entry point; not API.
    void (*scan)(const char* buf, std::size_t len, detail::scan_output& out) noexcept;
    /// Whether the running CPU has the instructions this implementation needs.
    bool (*supported)() noexcept;
};

/// Every implementation compiled in, best first; scalar is always last and always supported.
[[nodiscard]] std::span<const implementation* const> implementations() noexcept;

/// The implementation named `name`, or nullptr when none is compiled in by that name.
[[nodiscard]] const implementation* find_implementation(std::string_view name) noexcept;

/// The implementation parse() uses by default: chosen once, on first call, as the best supported
/// one, or the one named by the environment variable SIPFAST_ISA (scalar|sse42|avx2|avx512) when it
/// is set, compiled in and supported. An unusable SIPFAST_ISA falls back to the best and is
/// reported by active_implementation_note().
[[nodiscard]] const implementation& active_implementation() noexcept;

/// Empty, or why SIPFAST_ISA was not honoured (for the startup log).
[[nodiscard]] std::string_view active_implementation_note() noexcept;

} // namespace sipfast::sip
