// SPDX-License-Identifier: Apache-2.0
// What a scanner hands the parser. Private.
#pragma once

#include <cstddef>
#include <cstdint>

#include "sipfast/sip/message.hpp"
#include "sipfast/sip/parse_error.hpp"

// Compiles the functions between BEGIN and END for a wider ISA than the rest of the program, with
// GCC's target pragma or clang's attribute push (clang ignores the GCC form).
#define SIPFAST_STRINGIFY_(x) #x
#define SIPFAST_STRINGIFY(x) SIPFAST_STRINGIFY_(x)
#if defined(__clang__)
#define SIPFAST_TARGET_BEGIN(T) \
    _Pragma(SIPFAST_STRINGIFY(clang attribute push(__attribute__((target(T))), apply_to = function)))
#define SIPFAST_TARGET_END _Pragma("clang attribute pop")
#else
#define SIPFAST_TARGET_BEGIN(T) _Pragma("GCC push_options") _Pragma(SIPFAST_STRINGIFY(GCC target(T)))
#define SIPFAST_TARGET_END _Pragma("GCC pop_options")
#endif

namespace sipfast::sip::detail {

enum class scan_status : std::uint8_t { complete, incomplete, error };

/// Filled by a scanner: the start line, one slot per header line (raw name before the colon, value
/// after it and after the one space that usually follows the colon, folded continuation lines
/// appended), and where the header section ends. Names and values are not trimmed further or
/// classified yet; that is the same for every ISA and done once by the parser.
struct scan_output {
    header* slots = nullptr;
    std::size_t capacity = 0;
    std::size_t count = 0;
    std::size_t start_line_end = 0;  ///< end of the start line, CR excluded
    std::size_t headers_end = 0;     ///< offset just past the empty line
    scan_status status = scan_status::error;
    parse_error error = parse_error::none;
    std::size_t error_offset = 0;
};

} // namespace sipfast::sip::detail
