// SPDX-License-Identifier: Apache-2.0
// The one way sipfast writes text into memory it does not own: a fixed buffer, numbers through
// std::to_chars (no locale, no allocation), and one overflow flag instead of a check per call.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#if defined(__SSSE3__)
#include <immintrin.h>
#endif

namespace sipfast::core {

/// Appends into a caller's buffer. Once something does not fit, nothing more is written and
/// `ok()` stays false: a message cut short is never sent as if it were whole.
class text_writer {
public:
    explicit text_writer(std::span<char> out) noexcept : out_(out) {}

    text_writer& put(std::string_view s) noexcept {
        if (s.empty()) return *this;
        if (!ok_ || s.size() > out_.size() - used_) {
            ok_ = false;
            return *this;
        }
        std::memcpy(out_.data() + used_, s.data(), s.size());
        used_ += s.size();
        return *this;
    }
    text_writer& put(char c) noexcept { return put(std::string_view(&c, 1)); }
    /// As much of `s` as fits, for text that may be cut short rather than lost (a log line, a
    /// reason phrase); `ok()` turns false when some was cut.
    text_writer& put_clipped(std::string_view s) noexcept {
        const std::size_t k = ok_ ? std::min(s.size(), out_.size() - used_) : 0;
        if (k != 0) std::memcpy(out_.data() + used_, s.data(), k);
        used_ += k;
        if (k != s.size()) ok_ = false;
        return *this;
    }

    /// Decimal, as few digits as the value needs.
    template <std::integral T>
    text_writer& number(T v) noexcept {
        return to_chars_([&](char* b, char* e) { return std::to_chars(b, e, v); });
    }
    /// Decimal with at least `width` digits, zero-padded after the sign (a status code, a time of day).
    template <std::integral T>
    text_writer& number(T v, std::size_t width) noexcept {
        std::array<char, 24> d{};
        const auto r = std::to_chars(d.data(), d.data() + d.size(), v);
        std::string_view digits(d.data(), static_cast<std::size_t>(r.ptr - d.data()));
        const bool negative = digits.front() == '-';
        if (negative) digits.remove_prefix(1);
        const std::size_t zeros = width > digits.size() ? width - digits.size() : 0;
        if (!ok_ || static_cast<std::size_t>(negative) + zeros + digits.size() > out_.size() - used_) {
            ok_ = false;
            return *this;
        }
        if (negative) out_[used_++] = '-';
        std::memset(out_.data() + used_, '0', zeros);
        used_ += zeros;
        return put(digits);
    }
    /// Lower-case hex, exactly `digits` digits (the low ones), zero-padded.
    text_writer& hex(std::uint64_t v, std::size_t digits) noexcept {
        if (!ok_ || digits > out_.size() - used_) {
            ok_ = false;
            return *this;
        }
#if defined(__SSSE3__)
        // Branches, dialog marks and sealed route sets are written as 8- and 16-digit words on
        // every message: all sixteen nibbles at once through one table shuffle.
        if (digits == 16 || digits == 8) {
            const __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(__builtin_bswap64(v)));  // first digit first
            const __m128i low4 = _mm_set1_epi8(0x0f);
            const __m128i nibbles = _mm_unpacklo_epi8(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4), _mm_and_si128(bytes, low4));
            const __m128i text = _mm_shuffle_epi8(_mm_setr_epi8('0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'), nibbles);
            if (digits == 16) _mm_storeu_si128(reinterpret_cast<__m128i*>(out_.data() + used_), text);
            else _mm_storel_epi64(reinterpret_cast<__m128i*>(out_.data() + used_), _mm_srli_si128(text, 8));  // the low eight
            used_ += digits;
            return *this;
        }
#endif
        constexpr char alphabet[] = "0123456789abcdef";
        for (std::size_t i = digits; i-- > 0;) {
            out_[used_ + i] = alphabet[v & 15];
            v >>= 4;
        }
        used_ += digits;
        return *this;
    }
    /// Fixed notation with `decimals` places ("12.5").
    text_writer& fixed(double v, int decimals) noexcept {
        return to_chars_([&](char* b, char* e) { return std::to_chars(b, e, v, std::chars_format::fixed, decimals); });
    }
    /// Shortest form with up to `digits` significant digits, as printf's %g ("0.000512", "1e-09").
    text_writer& general(double v, int digits) noexcept {
        return to_chars_([&](char* b, char* e) { return std::to_chars(b, e, v, std::chars_format::general, digits); });
    }

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    [[nodiscard]] std::size_t size() const noexcept { return used_; }
    [[nodiscard]] std::string_view view() const noexcept { return {out_.data(), used_}; }

private:
    template <class F>
    text_writer& to_chars_(F&& write) noexcept {
        if (!ok_) return *this;
        const auto r = write(out_.data() + used_, out_.data() + out_.size());
        if (r.ec != std::errc{}) {
            ok_ = false;
            return *this;
        }
        used_ = static_cast<std::size_t>(r.ptr - out_.data());
        return *this;
    }

    std::span<char> out_;
    std::size_t used_ = 0;
    bool ok_ = true;
};

/// A text_writer with its buffer inside: `core::text<160> line; line.put("p50 ").fixed(us, 1);`.
template <std::size_t N>
class text : public text_writer {
public:
    text() noexcept : text_writer(buf_) {}
    text(const text&) = delete;
    text& operator=(const text&) = delete;

private:
    std::array<char, N> buf_{};
};

/// The decimal digits of `v`, valid as long as the returned object lives.
struct decimal {
    template <std::integral T>
    explicit decimal(T v) noexcept {
        const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
        len = static_cast<std::uint8_t>(r.ptr - buf.data());
    }
    [[nodiscard]] std::string_view view() const noexcept { return {buf.data(), len}; }
    operator std::string_view() const noexcept { return view(); }  // NOLINT: reads as the number it is

    std::array<char, 24> buf{};
    std::uint8_t len = 0;
};

} // namespace sipfast::core
