// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/name_addr.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipfast::sip {
namespace {

TEST(NameAddrParse, QuotedDisplayNameWithEscapes) {
    name_addr a;
    ASSERT_EQ(parse_name_addr(R"("Bob \"the\" <Builder>" <sip:bob@biloxi.com>;tag=a6c85cf)", a), parse_error::none);
    EXPECT_EQ(a.display_name, R"("Bob \"the\" <Builder>")");
    EXPECT_EQ(a.address.text, "sip:bob@biloxi.com");
    EXPECT_EQ(a.tag, "a6c85cf");
    EXPECT_TRUE(a.angle_brackets);
}

TEST(NameAddrParse, TokenDisplayNameAndNoSpaceBeforeAngle) {
    name_addr a;
    ASSERT_EQ(parse_name_addr("Bob Smith<sip:bob@biloxi.com>", a), parse_error::none);
    EXPECT_EQ(a.display_name, "Bob Smith");
    ASSERT_EQ(parse_name_addr(R"("1012"<tel:1012;phone-context=ims.example>)", a), parse_error::none);
    EXPECT_EQ(a.display_name, R"("1012")");
    EXPECT_EQ(a.address.scheme, uri_scheme::tel);
    EXPECT_EQ(a.address.params.find("phone-context").value, "ims.example");
    EXPECT_TRUE(a.tag.empty());
}

TEST(NameAddrParse, AngleBracketsWithoutADisplayName) {
    name_addr a;
    ASSERT_EQ(parse_name_addr(" <sip:bob@biloxi.com;transport=udp>;tag=9;lr", a), parse_error::none);
    EXPECT_TRUE(a.display_name.empty());
    EXPECT_TRUE(a.angle_brackets);
    EXPECT_EQ(a.address.text, "sip:bob@biloxi.com;transport=udp");
    EXPECT_EQ(a.address.params.find("transport").value, "udp");
    EXPECT_EQ(a.tag, "9");
    EXPECT_TRUE(a.params.has("lr"));
    std::string_view tag;
    ASSERT_EQ(find_tag("<sip:bob@biloxi.com;tag=x>;tag=9", tag), parse_error::none);
    EXPECT_EQ(tag, "9");  // the URI's own tag parameter is not the header's
}

TEST(NameAddrParse, AddrSpecParamsBelongToTheHeader) {
    name_addr a;
    ASSERT_EQ(parse_name_addr("sip:alice@atlanta.com;tag=1928301774", a), parse_error::none);
    EXPECT_EQ(a.address.text, "sip:alice@atlanta.com");
    EXPECT_TRUE(a.address.params.empty());
    EXPECT_EQ(a.tag, "1928301774");
    EXPECT_FALSE(a.angle_brackets);
}

TEST(NameAddrParse, QuotedParamHoldingAngles) {
    name_addr a;
    ASSERT_EQ(parse_name_addr(R"(<sip:1012@182.0.3.112:5060>;+sip.instance="<urn:gsma:imei:86130905-267370-0>";audio)", a),
              parse_error::none);
    EXPECT_EQ(a.params.find("+sip.instance").value, R"("<urn:gsma:imei:86130905-267370-0>")");
    EXPECT_TRUE(a.params.has("audio"));
    ASSERT_EQ(parse_name_addr(R"(sip:a@b;+sip.instance="<urn:x>")", a), parse_error::none);
    EXPECT_EQ(a.address.text, "sip:a@b");
}

// param_list skips to ';' and '"' sixteen bytes at a time: a ';' inside a quoted value (escaped
// quotes and all) is not a boundary, on either side of a 16-byte step.
TEST(NameAddrParse, ParamsSplitOnlyAtSemicolonsOutsideQuotes) {
    for (std::size_t pad = 0; pad < 40; ++pad) {
        const std::string value = "<sip:a@h>;x=" + std::string(pad + 1, 'p') + ";q=\"a;b \\\";c\";Tag = t1 ;lr;y=" +
                                  std::string(pad + 1, 'y');
        name_addr na;
        ASSERT_EQ(parse_name_addr(value, na), parse_error::none) << value;
        EXPECT_EQ(na.params.find("q").value, "\"a;b \\\";c\"") << pad;
        EXPECT_EQ(na.params.find("tag").value, "t1") << pad;
        EXPECT_TRUE(na.params.has("lr")) << pad;
        EXPECT_FALSE(na.params.find("lr").has_value) << pad;
        EXPECT_EQ(na.params.find("y").value, std::string(pad + 1, 'y')) << pad;
        EXPECT_FALSE(na.params.has("c")) << pad;
        std::size_t n = 0;
        na.params.for_each([&](const param&) { return ++n, true; });
        EXPECT_EQ(n, 5u) << pad;
    }
    EXPECT_FALSE(param_list("a=\"open;b").has("b"));  // an unterminated quote runs to the end
}

TEST(NameAddrParse, RejectsBrokenValues) {
    name_addr a;
    EXPECT_EQ(parse_name_addr("", a), parse_error::empty_value);
    EXPECT_EQ(parse_name_addr(R"("Bob <sip:bob@biloxi.com>)", a), parse_error::unterminated_quote);
    EXPECT_EQ(parse_name_addr("<sip:bob@biloxi.com", a), parse_error::unterminated_angle);
    EXPECT_EQ(parse_name_addr("<sip:bob@biloxi.com> junk", a), parse_error::trailing_characters);
    EXPECT_EQ(parse_name_addr("B@b <sip:bob@biloxi.com>", a), parse_error::invalid_display_name);
    EXPECT_EQ(parse_name_addr(R"("Bob" sip:bob@biloxi.com)", a), parse_error::invalid_display_name);
    EXPECT_EQ(parse_name_addr("<sip:bob@biloxi.com>;tag", a), parse_error::none);
    EXPECT_EQ(parse_name_addr("<sip:bob@biloxi.com>;tag=\"x", a), parse_error::unterminated_quote);
    EXPECT_EQ(parse_name_addr("<sip:bob@biloxi.com>;=x", a), parse_error::invalid_param);
    EXPECT_EQ(parse_name_addr("<bob>", a), parse_error::invalid_uri);
}

TEST(ContactParse, StarExpiresAndQ) {
    contact c;
    ASSERT_EQ(parse_contact(" * ", c), parse_error::none);
    EXPECT_TRUE(c.star);
    ASSERT_EQ(parse_contact("<sip:alice@pc33.atlanta.com>;expires=3600;q=0.7", c), parse_error::none);
    EXPECT_FALSE(c.star);
    EXPECT_TRUE(c.has_expires);
    EXPECT_EQ(c.expires, 3600u);
    EXPECT_TRUE(c.has_q);
    EXPECT_EQ(c.q_milli, 700);
    ASSERT_EQ(parse_contact("<sip:a@b>;q=1.000", c), parse_error::none);
    EXPECT_EQ(c.q_milli, 1000);
    EXPECT_EQ(parse_contact("<sip:a@b>;q=1.5", c), parse_error::invalid_param);
    EXPECT_EQ(parse_contact("<sip:a@b>;q=0.1234", c), parse_error::invalid_param);
    EXPECT_EQ(parse_contact("<sip:a@b>;expires=soon", c), parse_error::invalid_param);
}

} // namespace
} // namespace sipfast::sip

namespace sipfast::sip {
namespace {

// find_tag reads what the transaction and dialog layers key on without decoding the address: on
// every value parse_name_addr accepts, it finds the same tag.
TEST(FindTag, AgreesWithTheFullDecodeOnEveryShape) {
    const char* values[] = {
        R"("Bob \"the\" <Builder>;tag=no" <sip:bob@biloxi.com;tag=no>;tag=a6c85cf)",
        "Bob Smith<sip:bob@biloxi.com> ;TAG = 77",
        "sip:alice@atlanta.com;tag=1928301774",
        "sip:alice@atlanta.com ;tag=19",
        R"(<sip:a@h>;x="q;tag=no";tag=yes)",
        "<sip:a@h>;tagx=no;tag",
        "<sip:a@h>;tag;tag=second",
        R"(<sip:a@h>;tag="quoted")",
        "<tel:+1-201-555-0123>",
        "<sip:a@h>;xtag=no",
        "<sip:a@h>;Tag=abc-123.x!%*_+`'~;lr",                     // the usual shape, any token
        "<sip:a@h>;tag=0123456789abcdef0123456789abcdef;tag=no",  // a tag longer than a 16-byte step
        "<sip:a@h>;TAG=first;tag=second",
    };
    for (const char* v : values) {
        name_addr full;
        ASSERT_EQ(parse_name_addr(v, full), parse_error::none) << v;
        std::string_view tag = "stale";
        EXPECT_EQ(find_tag(v, tag), parse_error::none) << v;
        EXPECT_EQ(tag, full.tag) << v;
    }
}

TEST(FindTag, RefusesWhatHidesTheTag) {
    std::string_view tag;
    EXPECT_EQ(find_tag(R"("Alice <sip:a@h>;tag=1)", tag), parse_error::unterminated_quote);
    EXPECT_EQ(find_tag("<sip:a@h;tag=1", tag), parse_error::unterminated_angle);
    EXPECT_EQ(find_tag(R"("Alice" sip:a@h;tag=1)", tag), parse_error::invalid_display_name);
    EXPECT_EQ(find_tag(R"(<sip:a@h>;x="open;tag=1)", tag), parse_error::unterminated_quote);
    EXPECT_EQ(find_tag("", tag), parse_error::empty_value);
    // What it need not read is left to the full decode.
    EXPECT_EQ(find_tag("<sip:a@>;tag=1", tag), parse_error::none);
    EXPECT_EQ(tag, "1");
}

} // namespace
} // namespace sipfast::sip
