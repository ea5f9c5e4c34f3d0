// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/uri.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sipfast::sip {
namespace {

TEST(UriParse, SipUriWithEverything) {
    uri u;
    ASSERT_EQ(parse_uri("sip:alice:secret@atlanta.com:5061;transport=tcp;lr?subject=project&priority=urgent", u),
              parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::sip);
    EXPECT_EQ(u.user, "alice");
    EXPECT_EQ(u.password, "secret");
    EXPECT_EQ(u.host, "atlanta.com");
    EXPECT_EQ(u.host_type, host_kind::hostname);
    EXPECT_TRUE(u.has_port);
    EXPECT_EQ(u.port, 5061);
    EXPECT_EQ(u.params.find("transport").value, "tcp");
    EXPECT_TRUE(u.params.has("lr"));
    EXPECT_FALSE(u.params.find("lr").has_value);
    EXPECT_EQ(u.headers, "subject=project&priority=urgent");
}

TEST(UriParse, UserMayHoldSemicolonsAndEscapes) {
    uri u;
    ASSERT_EQ(parse_uri("sip:alice;day=tuesday@atlanta.com", u), parse_error::none);
    EXPECT_EQ(u.user, "alice;day=tuesday");
    EXPECT_EQ(u.host, "atlanta.com");
    ASSERT_EQ(parse_uri("sips:%61lice@atlanta.com", u), parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::sips);
    EXPECT_EQ(u.user, "%61lice");
    ASSERT_EQ(parse_uri("sip:+1-212-555-1212:1234@gateway.com;user=phone", u), parse_error::none);
    EXPECT_EQ(u.user, "+1-212-555-1212");
    EXPECT_EQ(u.password, "1234");
    EXPECT_EQ(u.params.find("USER").value, "phone");  // names compare case-insensitively
}

// The user ends at the first ':', the password at the '@'; without an '@' there is no userinfo and
// the colon is the port's.
TEST(UriParse, UserinfoSplitsAtTheFirstColon) {
    uri u;
    ASSERT_EQ(parse_uri("sip:alice:@atlanta.com", u), parse_error::none);
    EXPECT_EQ(u.user, "alice");
    EXPECT_TRUE(u.password.empty());
    ASSERT_EQ(parse_uri("sip:a%3Ab:p%40ss&=+$,@h", u), parse_error::none);
    EXPECT_EQ(u.user, "a%3Ab");
    EXPECT_EQ(u.password, "p%40ss&=+$,");
    EXPECT_EQ(u.host, "h");
    EXPECT_EQ(parse_uri("sip::secret@atlanta.com", u), parse_error::invalid_uri);     // no user
    EXPECT_EQ(parse_uri("sip:alice:se:cret@atlanta.com", u), parse_error::invalid_uri);  // ':' in the password
    EXPECT_EQ(parse_uri("sip:alice:se;cret@atlanta.com", u), parse_error::invalid_uri);  // ';' in the password
    ASSERT_EQ(parse_uri("sip:atlanta.com:5060;lr", u), parse_error::none);
    EXPECT_TRUE(u.user.empty());
    EXPECT_EQ(u.host, "atlanta.com");
    EXPECT_EQ(u.port, 5060);
    EXPECT_EQ(parse_uri("sip:alice:secret", u), parse_error::invalid_port);  // no '@': a port, and not one
}

TEST(UriParse, RejectsBadEscapesAndHosts) {
    uri u;
    EXPECT_EQ(parse_uri("sip:al%6@atlanta.com", u), parse_error::invalid_uri);
    EXPECT_EQ(parse_uri("sip:al%zzice@atlanta.com", u), parse_error::invalid_uri);
    EXPECT_EQ(parse_uri("sip:alice@", u), parse_error::invalid_host);
    EXPECT_EQ(parse_uri("sip:alice@atl anta.com", u), parse_error::invalid_host);
    EXPECT_EQ(parse_uri("sip:alice@host:99999", u), parse_error::invalid_port);
    EXPECT_EQ(parse_uri("sip:alice@host:", u), parse_error::invalid_port);
    EXPECT_EQ(parse_uri("sip:alice@[2001:db8::1", u), parse_error::invalid_host);
    EXPECT_EQ(parse_uri("sip:alice@host;lr=", u), parse_error::invalid_param);
    EXPECT_EQ(parse_uri("sip:alice@host?a=<b>", u), parse_error::invalid_uri);
    EXPECT_EQ(parse_uri("sip:", u), parse_error::invalid_uri);
    EXPECT_EQ(parse_uri("alice@host", u), parse_error::invalid_uri);
    EXPECT_EQ(parse_uri(":x", u), parse_error::invalid_uri);
}

TEST(UriParse, Ipv4AndIpv6Hosts) {
    uri u;
    ASSERT_EQ(parse_uri("sip:10.0.0.1:5060", u), parse_error::none);
    EXPECT_EQ(u.host_type, host_kind::ipv4);
    EXPECT_EQ(u.user, "");
    ASSERT_EQ(parse_uri("sip:bob@[2001:db8::10]:5070;transport=udp", u), parse_error::none);
    EXPECT_EQ(u.host, "[2001:db8::10]");
    EXPECT_EQ(u.host_type, host_kind::ipv6);
    EXPECT_EQ(u.port, 5070);
    ASSERT_EQ(parse_uri("sip:[::ffff:192.0.2.1]", u), parse_error::none);
    EXPECT_EQ(u.host_type, host_kind::ipv6);
    EXPECT_FALSE(u.has_port);
    // 256 is not an octet, so this is read as a hostname, which it also is not (label "256" is fine,
    // but the rule is that it parses, as a name).
    ASSERT_EQ(parse_uri("sip:1.2.3.256", u), parse_error::none);
    EXPECT_EQ(u.host_type, host_kind::hostname);
}

TEST(UriParse, Ipv4NeedsFourOctetsUpTo255) {
    struct row {
        const char* text;
        host_kind kind;
        std::string_view host;
    };
    const row rows[] = {
        {"sip:1.2.3.4:5060", host_kind::ipv4, "1.2.3.4"},
        {"sip:255.255.255.255", host_kind::ipv4, "255.255.255.255"},
        {"sip:001.002.003.004;lr", host_kind::ipv4, "001.002.003.004"},
        {"sip:1.2.3.4.5", host_kind::hostname, "1.2.3.4.5"},
        {"sip:256.1.1.1", host_kind::hostname, "256.1.1.1"},
        {"sip:1.2.3", host_kind::hostname, "1.2.3"},
        {"sip:1.2.3.4a", host_kind::hostname, "1.2.3.4a"},
        {"sip:1234.1.1.1", host_kind::hostname, "1234.1.1.1"},
        {"sip:1.2.3.4-x.example.com", host_kind::hostname, "1.2.3.4-x.example.com"},
    };
    for (const row& r : rows) {
        uri u;
        ASSERT_EQ(parse_uri(r.text, u), parse_error::none) << r.text;
        EXPECT_EQ(u.host_type, r.kind) << r.text;
        EXPECT_EQ(u.host, r.host) << r.text;
    }
    uri u;
    EXPECT_EQ(parse_uri("sip:1.2.3.", u), parse_error::none);  // a hostname may end in '.'
    EXPECT_EQ(parse_uri("sip:-1.2.3.4", u), parse_error::invalid_host);
    EXPECT_EQ(parse_uri("sip:.example.com", u), parse_error::invalid_host);
    EXPECT_EQ(parse_uri("sip:example-.com-", u), parse_error::invalid_host);
}

TEST(UriParse, TelUriWithPhoneContext) {
    uri u;
    ASSERT_EQ(parse_uri("tel:1012;phone-context=ims.mnc001.mcc001.3gppnetwork.org", u), parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::tel);
    EXPECT_EQ(u.user, "1012");
    EXPECT_EQ(u.params.find("phone-context").value, "ims.mnc001.mcc001.3gppnetwork.org");
    ASSERT_EQ(parse_uri("tel:+1-201-555-0123", u), parse_error::none);
    EXPECT_EQ(u.user, "+1-201-555-0123");
    EXPECT_EQ(parse_uri("tel:12 34", u), parse_error::invalid_uri);
}

TEST(UriParse, OtherSchemesAreOpaque) {
    uri u;
    ASSERT_EQ(parse_uri("urn:service:sos", u), parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::other);
    EXPECT_EQ(u.scheme_text, "urn");
    EXPECT_EQ(u.opaque, "service:sos");
    ASSERT_EQ(parse_uri("mailto:alice@example.com", u), parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::other);
    EXPECT_EQ(parse_uri("http://a b", u), parse_error::invalid_uri);
}

TEST(UriParse, SchemeIsCaseInsensitive) {
    uri u;
    ASSERT_EQ(parse_uri("SIP:Alice@Example.COM", u), parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::sip);
    ASSERT_EQ(parse_uri("TEL:911", u), parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::tel);
}

// "sip:" is read as one word; each of its bytes still counts, in either case for the letters.
TEST(UriParse, EveryByteOfTheSipSchemeCounts) {
    const std::string good = "sip:alice@example.com";
    for (std::size_t at = 0; at < 4; ++at)
        for (int b = 0; b < 256; ++b) {
            std::string t = good;
            t[at] = static_cast<char>(b);
            const bool same = t[at] == good[at] || (at < 3 && b == (good[at] & ~0x20));
            uri u;
            const parse_error e = parse_uri(t, u);
            if (same) {
                ASSERT_EQ(e, parse_error::none) << t;
                EXPECT_EQ(u.scheme, uri_scheme::sip) << t;
                EXPECT_EQ(u.scheme_text, t.substr(0, 3));
                EXPECT_EQ(u.user, "alice");
                EXPECT_EQ(u.host, "example.com");
            } else {
                ASSERT_TRUE(e != parse_error::none || u.scheme != uri_scheme::sip) << "byte " << at << " = " << b;
            }
        }
    uri u;
    EXPECT_EQ(parse_uri("sip:", u), parse_error::invalid_uri);
    ASSERT_EQ(parse_uri("SIPS:a@b", u), parse_error::none);
    EXPECT_EQ(u.scheme, uri_scheme::sips);
}

} // namespace
} // namespace sipfast::sip
