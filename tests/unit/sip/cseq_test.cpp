// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/cseq.hpp"

#include <gtest/gtest.h>

namespace sipfast::sip {
namespace {

TEST(CSeqParse, NumberAndMethod) {
    cseq c;
    ASSERT_EQ(parse_cseq("4711 INVITE", c), parse_error::none);
    EXPECT_EQ(c.number, 4711u);
    EXPECT_EQ(c.method, method::invite);
    ASSERT_EQ(parse_cseq("0   NEWMETHOD", c), parse_error::none);
    EXPECT_EQ(c.method, method::other);
    EXPECT_EQ(c.method_text, "NEWMETHOD");
    ASSERT_EQ(parse_cseq("2147483647 ACK", c), parse_error::none);
    EXPECT_EQ(c.number, 2147483647u);
    ASSERT_EQ(parse_cseq("000000000000000000000000000042 BYE", c), parse_error::none);  // 1*DIGIT
    EXPECT_EQ(c.number, 42u);
}

TEST(CSeqParse, Faults) {
    cseq c;
    EXPECT_EQ(parse_cseq("", c), parse_error::empty_value);
    EXPECT_EQ(parse_cseq("INVITE", c), parse_error::invalid_number);
    EXPECT_EQ(parse_cseq("12INVITE", c), parse_error::invalid_number);
    EXPECT_EQ(parse_cseq("-1 INVITE", c), parse_error::invalid_number);
    EXPECT_EQ(parse_cseq("2147483648 INVITE", c), parse_error::number_out_of_range);
    EXPECT_EQ(parse_cseq("21474836470 INVITE", c), parse_error::number_out_of_range);
    EXPECT_EQ(parse_cseq("99999999999999999999999999999 INVITE", c), parse_error::number_out_of_range);
    EXPECT_EQ(parse_cseq("18446744073709551617 INVITE", c), parse_error::number_out_of_range);  // 2**64 + 1
    EXPECT_EQ(parse_cseq("1 IN VITE", c), parse_error::invalid_token);
    EXPECT_EQ(parse_cseq("1 INV@TE", c), parse_error::invalid_token);
}

TEST(UintParse, Bounds) {
    std::uint32_t v = 0;
    EXPECT_EQ(parse_uint("70", 255, v), parse_error::none);
    EXPECT_EQ(v, 70u);
    EXPECT_EQ(parse_uint("255", 255, v), parse_error::none);
    EXPECT_EQ(parse_uint("256", 255, v), parse_error::number_out_of_range);
    EXPECT_EQ(parse_uint("4294967295", 0xffffffffu, v), parse_error::none);
    EXPECT_EQ(parse_uint("4294967296", 0xffffffffu, v), parse_error::number_out_of_range);
    EXPECT_EQ(parse_uint("99999999999999999999999", 0xffffffffu, v), parse_error::number_out_of_range);
    EXPECT_EQ(parse_uint("1 2", 255, v), parse_error::invalid_number);
}

} // namespace
} // namespace sipfast::sip
