// SPDX-License-Identifier: Apache-2.0
#include "sipfast/core/text_writer.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <string>

namespace sipfast::core {
namespace {

// What printf makes of `v` with %.*f or %.*g: the reference for floats.
std::string printf_of(bool fixed, int precision, double v) {
    std::array<char, 512> buf{};
    const int n = fixed ? std::snprintf(buf.data(), buf.size(), "%.*f", precision, v)
                        : std::snprintf(buf.data(), buf.size(), "%.*g", precision, v);
    return {buf.data(), static_cast<std::size_t>(n)};
}

TEST(TextWriter, OverflowStopsWritingAndSticks) {
    text<8> t;
    t.put("abcd").put("efghi");
    EXPECT_FALSE(t.ok());
    EXPECT_EQ(t.view(), "abcd");
    // Something that would fit on its own is not written after the overflow: no gap in the text.
    t.put("x").put('y').number(1).hex(1, 1).fixed(1.0, 0).general(1.0, 1).put_clipped("z");
    EXPECT_FALSE(t.ok());
    EXPECT_EQ(t.view(), "abcd");
    EXPECT_EQ(t.size(), 4u);
}

TEST(TextWriter, EveryKindOfWriteOverflowsWhole) {
    // A write that does not fit leaves nothing of itself behind.
    const auto overflows = [](auto write) {
        text<4> t;
        t.put("ab");
        write(t);
        EXPECT_FALSE(t.ok());
        EXPECT_EQ(t.view(), "ab");
    };
    overflows([](text_writer& w) { w.put("abc"); });
    overflows([](text_writer& w) { w.number(123); });
    overflows([](text_writer& w) { w.number(-12); });
    overflows([](text_writer& w) { w.number(5, 3); });
    overflows([](text_writer& w) { w.number(-5, 2); });
    overflows([](text_writer& w) { w.hex(0, 3); });
    overflows([](text_writer& w) { w.fixed(1.5, 1); });
    overflows([](text_writer& w) { w.general(1e-9, 9); });
}

TEST(TextWriter, ExactFitIsOk) {
    text<4> t;
    t.put("ab").put('c').number(7);
    EXPECT_TRUE(t.ok());
    EXPECT_EQ(t.view(), "abc7");
    t.put("");  // nothing more to write is not an overflow
    EXPECT_TRUE(t.ok());
    t.put('x');
    EXPECT_FALSE(t.ok());
    EXPECT_EQ(t.view(), "abc7");

    text<20> max;
    max.number(std::numeric_limits<std::uint64_t>::max());
    EXPECT_TRUE(max.ok());
    EXPECT_EQ(max.view(), "18446744073709551615");
    text<19> short_by_one;
    short_by_one.number(std::numeric_limits<std::uint64_t>::max());
    EXPECT_FALSE(short_by_one.ok());
    EXPECT_EQ(short_by_one.view(), "");

    text<16> hex;
    hex.hex(0x0123456789abcdefULL, 16);
    EXPECT_TRUE(hex.ok());
    EXPECT_EQ(hex.view(), "0123456789abcdef");
}

TEST(TextWriter, WritesIntoTheCallersBuffer) {
    std::array<char, 16> buf{};
    text_writer w(buf);
    w.put("SIP/2.0 ").number(200);
    EXPECT_EQ(w.view(), "SIP/2.0 200");
    EXPECT_EQ(w.view().data(), buf.data());
    text_writer none(std::span<char>{});
    none.put("");
    EXPECT_TRUE(none.ok());
    none.put('a');
    EXPECT_FALSE(none.ok());
}

// What one write makes in a writer with room for it.
template <class F>
std::string written(F&& write) {
    text<64> t;
    write(t);
    EXPECT_TRUE(t.ok());
    return std::string(t.view());
}

template <class T>
std::string number_of(T v) {
    return written([&](text_writer& w) { w.number(v); });
}

TEST(TextWriter, NumbersOfEveryWidth) {
    EXPECT_EQ(number_of(0), "0");
    EXPECT_EQ(number_of(-1), "-1");
    EXPECT_EQ(number_of(-42), "-42");
    EXPECT_EQ(number_of(std::numeric_limits<std::int8_t>::min()), "-128");
    EXPECT_EQ(number_of(std::numeric_limits<std::int8_t>::max()), "127");
    EXPECT_EQ(number_of(std::numeric_limits<std::uint8_t>::max()), "255");
    EXPECT_EQ(number_of(std::numeric_limits<std::int16_t>::min()), "-32768");
    EXPECT_EQ(number_of(std::numeric_limits<std::uint16_t>::max()), "65535");
    EXPECT_EQ(number_of(std::numeric_limits<std::int32_t>::min()), "-2147483648");
    EXPECT_EQ(number_of(std::numeric_limits<std::uint32_t>::max()), "4294967295");
    EXPECT_EQ(number_of(std::numeric_limits<std::int64_t>::min()), "-9223372036854775808");
    EXPECT_EQ(number_of(std::numeric_limits<std::int64_t>::max()), "9223372036854775807");
    EXPECT_EQ(number_of(std::numeric_limits<std::uint64_t>::max()), "18446744073709551615");
    // Every power of ten and the number just below it: each count of digits.
    std::uint64_t p = 1;
    for (int digits = 1; digits <= 20; ++digits) {
        EXPECT_EQ(number_of(p), "1" + std::string(static_cast<std::size_t>(digits - 1), '0'));
        if (p > 1) {
            EXPECT_EQ(number_of(p - 1), std::string(static_cast<std::size_t>(digits - 1), '9'));
        }
        if (digits < 20) p *= 10;
    }
}

TEST(TextWriter, ZeroPaddedWidth) {
    const auto padded = [](auto v, std::size_t width) { return written([&](text_writer& w) { w.number(v, width); }); };
    EXPECT_EQ(padded(7, 3), "007");
    EXPECT_EQ(padded(200, 3), "200");
    EXPECT_EQ(padded(12345, 3), "12345");  // wider than asked: never cut
    EXPECT_EQ(padded(0, 0), "0");
    EXPECT_EQ(padded(0, 2), "00");
    EXPECT_EQ(padded(-5, 3), "-005");  // the sign first, then the digits
    EXPECT_EQ(padded(std::numeric_limits<std::uint64_t>::max(), 25), "0000018446744073709551615");
    text<3> exact;
    exact.number(9, 3);
    EXPECT_TRUE(exact.ok());
    EXPECT_EQ(exact.view(), "009");
}

TEST(TextWriter, HexPadsAndKeepsTheLowDigits) {
    const auto hex = [](std::uint64_t v, std::size_t digits) { return written([&](text_writer& w) { w.hex(v, digits); }); };
    EXPECT_EQ(hex(0xabc, 6), "000abc");
    EXPECT_EQ(hex(0, 4), "0000");
    EXPECT_EQ(hex(0x123456789abcdef0ULL, 4), "def0");
    EXPECT_EQ(hex(0x123456789abcdef0ULL, 10), "789abcdef0");
    EXPECT_EQ(hex(std::numeric_limits<std::uint64_t>::max(), 16), "ffffffffffffffff");
    EXPECT_EQ(hex(1, 20), "00000000000000000001");
    EXPECT_EQ(hex(0xff, 0), "");
    // Eight and sixteen digits take the vector path: every nibble value in every position, after
    // text already written, and a buffer that ends right after the digits.
    std::uint64_t v = 0x0123456789abcdefULL;
    for (int i = 0; i < 200; ++i, v = v * 6364136223846793005ULL + 1442695040888963407ULL) {
        char want[17];
        std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(v));
        EXPECT_EQ(hex(v, 16), want);
        EXPECT_EQ(hex(v, 8), std::string_view(want + 8, 8));
        text<10> at_end;
        at_end.put("x;").hex(v, 8);
        EXPECT_TRUE(at_end.ok());
        EXPECT_EQ(at_end.view(), "x;" + std::string(want + 8, 8));
        text<17> sixteen;
        sixteen.put('.').hex(v, 16);
        EXPECT_EQ(sixteen.view(), "." + std::string(want));
    }
}

TEST(TextWriter, FixedRoundsAsPrintf) {
    const auto fixed = [](double v, int decimals) { return written([&](text_writer& w) { w.fixed(v, decimals); }); };
    EXPECT_EQ(fixed(12.5, 1), "12.5");
    EXPECT_EQ(fixed(12.345, 1), "12.3");
    EXPECT_EQ(fixed(9.96, 1), "10.0");
    EXPECT_EQ(fixed(0.125, 2), "0.12");  // exactly half: to even, as printf
    EXPECT_EQ(fixed(0.375, 2), "0.38");
    EXPECT_EQ(fixed(1.005, 2), "1.00");  // 1.005 is a little below in binary
    EXPECT_EQ(fixed(2.5, 0), "2");
    EXPECT_EQ(fixed(3.5, 0), "4");
    EXPECT_EQ(fixed(-0.04, 1), "-0.0");
    EXPECT_EQ(fixed(1234567.0, 3), "1234567.000");
    for (double v : {0.0, 0.05, 0.15, 0.25, 1.0 / 3, 2.0 / 3, 99.995, 123456.789, -7.25, 1e-7, 4.5e15})
        for (int d : {0, 1, 2, 3, 6}) EXPECT_EQ(fixed(v, d), printf_of(true, d, v)) << v << " " << d;
}

TEST(TextWriter, GeneralIsPrintfPercentG) {
    const auto general = [](double v, int digits) { return written([&](text_writer& w) { w.general(v, digits); }); };
    EXPECT_EQ(general(0.000512, 9), "0.000512");
    EXPECT_EQ(general(1e-9, 9), "1e-09");
    EXPECT_EQ(general(100.0, 9), "100");
    EXPECT_EQ(general(1.0 / 3, 9), "0.333333333");
    EXPECT_EQ(general(123456789012.0, 9), "1.23456789e+11");
    EXPECT_EQ(general(0.0, 9), "0");
    for (double v : {0.1, 0.5, 2.5e-5, 1e-4, 1e-5, 123456789.0, 1234567890.0, 1e15, -2.5e300, 6.02214076e23, 0.3})
        for (int d : {1, 6, 9, 17}) EXPECT_EQ(general(v, d), printf_of(false, d, v)) << v << " " << d;
}

TEST(TextWriter, PutClippedKeepsWhatFits) {
    text<5> t;
    t.put_clipped("abc").put_clipped("defg");
    EXPECT_FALSE(t.ok());
    EXPECT_EQ(t.view(), "abcde");
    text<5> exact;
    exact.put_clipped("abcde");
    EXPECT_TRUE(exact.ok());
    EXPECT_EQ(exact.view(), "abcde");
    exact.put_clipped("");
    EXPECT_TRUE(exact.ok());
}

TEST(TextWriter, DecimalDigits) {
    EXPECT_EQ(decimal(0).view(), "0");
    EXPECT_EQ(decimal(5060).view(), "5060");
    EXPECT_EQ(decimal(-17).view(), "-17");
    EXPECT_EQ(decimal(std::numeric_limits<std::uint64_t>::max()).view(), "18446744073709551615");
    EXPECT_EQ(decimal(std::numeric_limits<std::int64_t>::min()).view(), "-9223372036854775808");
    const decimal port(std::uint16_t{65535});
    const std::string_view as_view = port;  // converts where a string_view is wanted
    EXPECT_EQ(as_view, "65535");
}

} // namespace
} // namespace sipfast::core
