// SPDX-License-Identifier: Apache-2.0
// The sixteen-byte spans and searches against the byte-at-a-time definition, for every start
// position and every length, including the overlapping tail load.
#include "span.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sipfast::sip::lex {
namespace {

template <std::uint16_t Bits>
std::size_t reference_span(std::string_view s, std::size_t i) {
    while (i < s.size() && is(s[i], Bits)) ++i;
    return i;
}

std::size_t reference_find(std::string_view s, std::size_t i, char a, char b, char c) {
    while (i < s.size() && s[i] != a && s[i] != b && s[i] != c) ++i;
    return i;
}

TEST(Span, AgreesWithTheByteAtATimeDefinition) {
    std::mt19937 rng(7);
    const std::string alphabet = "abcXYZ019-._~%:;,<>\"\\ \t\r\n@[]=?&+$/\x80\xff";
    for (int round = 0; round < 400; ++round) {
        std::string s(rng() % 70, 'a');
        for (char& c : s) {
            // Long runs of one class with occasional breaks, so spans cross 16-byte edges.
            c = (rng() % 6 == 0) ? alphabet[rng() % alphabet.size()] : static_cast<char>('a' + rng() % 26);
        }
        for (std::size_t i = 0; i <= s.size(); ++i) {
            ASSERT_EQ(span<c_token>(s, i), reference_span<c_token>(s, i)) << s << " @" << i;
            ASSERT_EQ(span<c_host>(s, i), reference_span<c_host>(s, i)) << s << " @" << i;
            ASSERT_EQ(span<c_gen_value>(s, i), reference_span<c_gen_value>(s, i)) << s << " @" << i;
            ASSERT_EQ(span<c_word>(s, i), reference_span<c_word>(s, i)) << s << " @" << i;
            ASSERT_EQ(find_any(s, i, '<', ';', ','), reference_find(s, i, '<', ';', ',')) << s << " @" << i;
        }
    }
}

TEST(Span, EscapesAndQuotedStrings) {
    EXPECT_EQ(span_escaped<c_user>("al%41ice@host", 0), 8u);
    EXPECT_EQ(span_escaped<c_user>("al%4@host", 0), 2u);
    EXPECT_EQ(quoted_end_fast(R"("a\"b" rest)", 0), 5u);
    EXPECT_EQ(quoted_end_fast(R"("unterminated \" quote)", 0), std::string_view::npos);
    const std::string long_quote = "\"" + std::string(40, 'x') + "\\\"" + std::string(20, 'y') + "\"";
    EXPECT_EQ(quoted_end_fast(long_quote, 0), long_quote.size() - 1);
}

} // namespace
} // namespace sipfast::sip::lex
