// SPDX-License-Identifier: Apache-2.0
// URI equivalence, with RFC 3261 §19.1.4's own examples.
#include "sipfast/sip/uri_equal.hpp"

#include <gtest/gtest.h>

namespace sipfast::sip {
namespace {

bool equal(std::string_view a, std::string_view b) {
    uri x, y;
    EXPECT_EQ(parse_uri(a, x), parse_error::none) << a;
    EXPECT_EQ(parse_uri(b, y), parse_error::none) << b;
    const bool e = uri_equal(x, y);
    EXPECT_EQ(e, uri_equal(y, x)) << a << " vs " << b << ": not symmetric";
    return e;
}

TEST(UriEqual, TheRfcsEquivalentPairs) {
    EXPECT_TRUE(equal("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
    EXPECT_TRUE(equal("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
    EXPECT_TRUE(equal("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;newparam=5"));
    EXPECT_TRUE(equal("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                      "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
}

TEST(UriEqual, TheRfcsDifferentPairs) {
    EXPECT_FALSE(equal("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));  // user case
    EXPECT_FALSE(equal("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));                               // port
    EXPECT_FALSE(equal("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));                      // transport
    EXPECT_FALSE(equal("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;newparam=6"));
    EXPECT_FALSE(equal("sip:alice@atlanta.com", "sips:alice@atlanta.com"));
}

TEST(UriEqual, TelNumbersIgnoreVisualSeparators) {
    EXPECT_TRUE(equal("tel:+1-201-555-0123", "tel:+12015550123"));
    EXPECT_FALSE(equal("tel:+12015550123", "tel:+12015550124"));
    EXPECT_FALSE(equal("tel:1012;phone-context=example.com", "tel:1012"));
}

} // namespace
} // namespace sipfast::sip
