// SPDX-License-Identifier: Apache-2.0
// The reference scanner: one byte at a time through a class table. Every other ISA must agree
// with it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "isa/scan.hpp"

namespace sipfast::sip::scalar {

namespace {

// Bit 0 LF, 1 CR, 2 forbidden.
constexpr unsigned char byte_class(unsigned c) {
    if (c == '\n') return 1;
    if (c == '\r') return 2;
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 4;
    return 0;
}

struct class_table {
    unsigned char v[256];
};

constexpr class_table make_table() {
    class_table t{};
    for (unsigned c = 0; c < 256; ++c) t.v[c] = byte_class(c);
    return t;
}

constexpr class_table table = make_table();

#include "isa/scan_generic.hpp"

struct classifier {
    block_masks operator()(const char* p) const noexcept;
    static constexpr std::size_t colon_width = 0;  // the walk looks for ':' byte by byte
};

block_masks classifier::operator()(const char* p) const noexcept {
    block_masks m{0, 0, 0};
    for (unsigned i = 0; i < 64; ++i) {
        const unsigned k = table.v[static_cast<unsigned char>(p[i])];
        const std::uint64_t bit = std::uint64_t{1} << i;
        if (k & 1) m.lf |= bit;
        if (k & 2) m.cr |= bit;
        if (k & 4) m.bad |= bit;
    }
    return m;
}

} // namespace

void scan_entry(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    scan<classifier>(buf, len, out);
}

} // namespace sipfast::sip::scalar
