// SPDX-License-Identifier: Apache-2.0
// The scanner algorithm, written once and compiled per ISA. Private.
//
// Included by each scan_<isa>.cpp after it has opened namespace sipfast::sip::<isa> and enabled its
// target. It must not define anything outside that namespace, and it calls nothing inline from
// shared headers but compiler builtins, so no function compiled for a wider ISA can be picked by
// the linker for a narrower one. The ISA supplies a classifier (below).
//
// Stage 1 (classify) turns 64 bytes into bit masks of LF, CR and forbidden bytes. Stage 2 walks
// the LF bits with count-trailing-zeros: each LF closes a line, and a line that starts with SP/HT
// continues the previous header. A header line's first ':' splits name from value; names are
// short, so one load at the line's start finds it, and only header lines pay for it. The walk runs
// block by block right after classification, so the header section is read once and the scan stops
// at the empty line without touching the body.

struct block_masks {
    std::uint64_t lf;
    std::uint64_t cr;
    std::uint64_t bad;  // NUL, other controls except HT/CR/LF, DEL
};

// Defined by the ISA after this file (internal linkage, so it inlines into scan()): holds the
// vector constants, built once per scan rather than once per block, and
//     block_masks operator()(const char* p) const   // p[0..63] readable
//     static constexpr std::size_t colon_width      // 0: no wide search for ':'
//     std::uint64_t colons(const char* p) const     // bit i: p[i] is ':'; p[0..colon_width) readable
struct classifier;

inline std::uint64_t bits_below(unsigned i) noexcept {  // bits 0..i-1 set, i <= 64
    return i >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << i) - 1;
}

// The error path: the first byte before `end` that may not appear in a header section, as the
// parse_error naming it, or none. A control character (NUL and DEL too) escaped by a backslash
// inside a quoted string is a quoted-pair (RFC 3261 §25.1: "\" then any byte but CR and LF) and
// allowed; bare, it is refused. A quoted string ends with its line (folding aside).
inline parse_error first_bad_byte(const char* buf, std::size_t end, std::size_t& at) noexcept {
    bool quoted = false;
    for (std::size_t i = 0; i < end; ++i) {
        const auto c = static_cast<unsigned char>(buf[i]);
        if (quoted && c == '\\' && i + 1 < end && buf[i + 1] != '\r' && buf[i + 1] != '\n') {
            ++i;  // the escaped byte, whatever it is
            continue;
        }
        if (c == '"') quoted = !quoted;
        if (c == 0) { at = i; return parse_error::nul_byte; }
        if (c == '\r') {
            if (i + 1 < end && buf[i + 1] == '\n') continue;
            if (i + 1 == end) return parse_error::none;  // may be completed by more bytes
            at = i;
            return parse_error::bare_cr;
        }
        if (c == '\n' && !(i + 1 < end && (buf[i + 1] == ' ' || buf[i + 1] == '\t'))) quoted = false;
        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
            at = i;
            return parse_error::control_character;
        }
    }
    return parse_error::none;
}

inline void fail(detail::scan_output& out, const char* buf, parse_error e,
                 std::size_t at) noexcept {
    // A forbidden byte before the fault explains it better than the fault itself does.
    std::size_t bad_at = 0;
    const parse_error bad = first_bad_byte(buf, at, bad_at);
    out.status = detail::scan_status::error;
    out.error = bad != parse_error::none ? bad : e;
    out.error_offset = bad != parse_error::none ? bad_at : at;
}

// The first ':' at or after `from`, or a position at or past `end` (the line's end) when the line
// has none. buf[0..len) is readable.
template <class Classifier>
inline std::size_t find_colon(const Classifier& classify, const char* buf, std::size_t len, std::size_t from,
                              std::size_t end) noexcept {
    std::size_t k = from;
    if constexpr (Classifier::colon_width != 0) {
        if (len - from >= Classifier::colon_width) {
            if (const std::uint64_t c = classify.colons(buf + from)) [[likely]]
                return from + static_cast<std::size_t>(__builtin_ctzll(c));
            k = from + Classifier::colon_width;
        }
    }
    while (k < end && buf[k] != ':') ++k;  // a long name, the buffer's last bytes, or the reference
    return k;
}

template <class Classifier>
inline void scan(const char* buf, std::size_t len, detail::scan_output& out) noexcept {
    const Classifier classify;
    // Kept in registers and written back on every return: through `out`, each store to a slot
    // could be a store to out.count, and the compiler reloads them for every line.
    header* const slots = out.slots;
    const std::size_t capacity = out.capacity;
    struct written_back {
        detail::scan_output& out;
        std::size_t n;
        ~written_back() { out.count = n; }
    } count{out, 0};
    std::size_t line_start = 0;
    std::uint64_t cr_carry = 0;    // 1 when the previous block ended in CR
    std::uint64_t bad_before = 0;  // nonzero when an earlier block held a forbidden byte or bare CR

    for (std::size_t b = 0; b < len; b += 64) {
        block_masks m;
        const std::size_t left = len - b;
        if (left >= 64) {
            m = classify(buf + b);
        } else {
            // Copy the tail so no load reaches past the caller's buffer.
            alignas(64) char tail[64];
            __builtin_memset(tail, ' ', sizeof tail);
            __builtin_memcpy(tail, buf + b, left);
            m = classify(tail);
            const std::uint64_t valid = bits_below(static_cast<unsigned>(left));
            m.lf &= valid;
            m.cr &= valid;
            m.bad &= valid;
        }
        // Forbidden bytes, and bytes after a CR that are not LF (a CR must be followed by LF; one
        // last in the block is settled by the next). Only whether there are any before the empty
        // line matters here: first_bad_byte finds which, and lets quoted-pairs pass.
        std::uint64_t bad = m.bad | (((m.cr << 1) | cr_carry) & ~m.lf);
        cr_carry = m.cr >> 63;
        if (left < 64) bad &= bits_below(static_cast<unsigned>(left));  // a CR last: more may come

        std::uint64_t lf = m.lf;
        while (lf) {
            const unsigned j = static_cast<unsigned>(__builtin_ctzll(lf));
            lf &= lf - 1;
            const std::size_t pos = b + j;
            std::size_t end = pos;
            if (end > line_start && buf[end - 1] == '\r') --end;

            if (end == line_start) {  // the empty line
                out.headers_end = pos + 1;
                if ((bad_before | (bad & ((std::uint64_t{1} << j) - 1))) != 0) {  // j < 64
                    std::size_t at = 0;
                    const parse_error e = first_bad_byte(buf, pos, at);
                    if (e != parse_error::none) {
                        out.status = detail::scan_status::error;
                        out.error = e;
                        out.error_offset = at;
                        return;
                    }
                }
                out.status = detail::scan_status::complete;
                return;
            }
            if (line_start == 0) {  // the start line: every later line starts past an LF
                out.start_line_end = end;
            } else if (buf[line_start] == ' ' || buf[line_start] == '\t') {
                if (count.n == 0) {
                    fail(out, buf, parse_error::continuation_before_header, line_start);
                    return;
                }
                header& h = slots[count.n - 1];
                h.value = std::string_view(h.value.data(),
                                           static_cast<std::size_t>(buf + end - h.value.data()));
            } else {
                const std::size_t colon = find_colon(classify, buf, len, line_start, end);
                if (colon >= end) {
                    fail(out, buf, parse_error::header_without_colon, line_start);
                    return;
                }
                if (count.n == capacity) {
                    fail(out, buf, parse_error::too_many_headers, line_start);
                    return;
                }
                header& h = slots[count.n++];
                h.name = std::string_view(buf + line_start, colon - line_start);
                // The usual one space after the colon is skipped here, where the byte is at hand
                // (buf[end] is CR or LF, so an empty value stays empty). h.id is the parser's to set.
                const std::size_t value = colon + 1 + (buf[colon + 1] == ' ' ? 1 : 0);
                h.value = std::string_view(buf + value, end - value);
            }
            line_start = pos + 1;
        }
        bad_before |= bad;
    }
    // No empty line in the buffer.
    std::size_t bad_at = 0;
    const parse_error bad = first_bad_byte(buf, len, bad_at);
    if (bad != parse_error::none) {
        out.status = detail::scan_status::error;
        out.error = bad;
        out.error_offset = bad_at;
        return;
    }
    out.status = detail::scan_status::incomplete;
}
