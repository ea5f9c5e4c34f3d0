// SPDX-License-Identifier: Apache-2.0
#include "sipfast/sip/via.hpp"

#include <gtest/gtest.h>

namespace sipfast::sip {
namespace {

TEST(ViaParse, KeepsRportWithoutValue) {
    via v;
    ASSERT_EQ(parse_via("SIP/2.0/TCP 182.0.3.112:5060;branch=z9hG4bKX9dcbT3QIWzL-OaaaW2Y;rport", v),
              parse_error::none);
    EXPECT_EQ(v.protocol_name, "SIP");
    EXPECT_EQ(v.protocol_version, "2.0");
    EXPECT_EQ(v.transport, transport::tcp);
    EXPECT_EQ(v.host, "182.0.3.112");
    EXPECT_EQ(v.host_type, host_kind::ipv4);
    EXPECT_EQ(v.port, 5060);
    EXPECT_EQ(v.branch, "z9hG4bKX9dcbT3QIWzL-OaaaW2Y");
    EXPECT_EQ(v.rport, rport_state::empty);
}

TEST(ViaParse, ReadsReceivedRportMaddrTtl) {
    via v;
    ASSERT_EQ(parse_via("SIP/2.0/UDP pc33.atlanta.com;rport=5066;received=192.0.2.1;maddr=224.2.0.1;ttl=16;branch=z9hG4bK776asdhds", v),
              parse_error::none);
    EXPECT_EQ(v.host_type, host_kind::hostname);
    EXPECT_FALSE(v.has_port);
    EXPECT_EQ(v.rport, rport_state::value);
    EXPECT_EQ(v.rport_value, 5066);
    EXPECT_EQ(v.received, "192.0.2.1");
    EXPECT_EQ(v.maddr, "224.2.0.1");
    EXPECT_TRUE(v.has_ttl);
    EXPECT_EQ(v.ttl, 16);
    EXPECT_EQ(v.branch, "z9hG4bK776asdhds");
}

TEST(ViaParse, Ipv6SentByAndReceived) {
    via v;
    ASSERT_EQ(parse_via("SIP/2.0/UDP [2001:db8::9:1]:5070;branch=z9hG4bKas3;received=[2001:db8::9:255]", v),
              parse_error::none);
    EXPECT_EQ(v.host, "[2001:db8::9:1]");
    EXPECT_EQ(v.host_type, host_kind::ipv6);
    EXPECT_EQ(v.port, 5070);
    EXPECT_EQ(v.received, "[2001:db8::9:255]");
    ASSERT_EQ(parse_via("SIP/2.0/TCP [::1];branch=z9hG4bK1", v), parse_error::none);
    EXPECT_EQ(v.host, "[::1]");
    EXPECT_FALSE(v.has_port);
}

TEST(ViaParse, AllowsLinearWhitespaceAroundSeparators) {
    via v;
    // RFC 4475 §3.1.1.1 style: LWS around '/' and ':' and folded onto a new line.
    ASSERT_EQ(parse_via("SIP / 2.0 / UDP\r\n  host.example.com : 5060 ;branch=z9hG4bK1", v), parse_error::none);
    EXPECT_EQ(v.transport, transport::udp);
    EXPECT_EQ(v.host, "host.example.com");
    EXPECT_EQ(v.port, 5060);
    EXPECT_EQ(v.branch, "z9hG4bK1");
}

// "SIP/2.0/" is matched at once; any other spelling takes the grammar, to the same fields.
TEST(ViaParse, TheUsualShapeAndTheGrammarAgree) {
    for (const char* text : {"SIP/2.0/TCP h:5061;branch=z9hG4bK2", "SIP/2.0/ TCP h:5061;branch=z9hG4bK2",
                             "sip/2.0/tcp h:5061;branch=z9hG4bK2", "SIP /2.0/TCP h:5061;branch=z9hG4bK2"}) {
        via v;
        ASSERT_EQ(parse_via(text, v), parse_error::none) << text;
        EXPECT_TRUE(iequals(v.protocol_name, "SIP")) << text;
        EXPECT_EQ(v.protocol_version, "2.0") << text;
        EXPECT_EQ(v.transport, transport::tcp) << text;
        EXPECT_EQ(v.port, 5061) << text;
        EXPECT_EQ(v.branch, "z9hG4bK2") << text;
    }
}

// "UDP " and the other three-letter transports followed by one space are read at once; every
// other spelling of the transport and its LWS takes the grammar, to the same fields.
TEST(ViaParse, TheUsualTransportAndTheGrammarAgree) {
    struct row {
        const char* text;
        transport kind;
        std::string_view spelled;
    };
    for (const row& r : {row{"SIP/2.0/UDP h:5060", transport::udp, "UDP"}, row{"SIP/2.0/udp  h:5060", transport::udp, "udp"},
                         row{"SIP/2.0/UDP\th:5060", transport::udp, "UDP"}, row{"SIP/2.0/WSS h:5060", transport::wss, "WSS"},
                         row{"SIP/2.0/UDPX h:5060", transport::unknown, "UDPX"}, row{"SIP/2.0/UD h:5060", transport::unknown, "UD"},
                         row{"SIP/2.0/SCTP h:5060", transport::sctp, "SCTP"}, row{"SIP/2.0/U-P h:5060", transport::unknown, "U-P"}}) {
        via v;
        ASSERT_EQ(parse_via(r.text, v), parse_error::none) << r.text;
        EXPECT_EQ(v.transport, r.kind) << r.text;
        EXPECT_EQ(v.transport_text, r.spelled) << r.text;
        EXPECT_EQ(v.host, "h") << r.text;
        EXPECT_EQ(v.port, 5060) << r.text;
    }
    via v;
    EXPECT_EQ(parse_via("SIP/2.0/UDP ", v), parse_error::invalid_host);  // nothing after the space
}

TEST(ViaParse, RejectsMalformedParts) {
    via v;
    EXPECT_EQ(parse_via("", v), parse_error::empty_value);
    EXPECT_EQ(parse_via("SIP/2.0 host", v), parse_error::invalid_sent_protocol);
    EXPECT_EQ(parse_via("SIP/2.0/UDPhost", v), parse_error::invalid_sent_protocol);
    EXPECT_EQ(parse_via("SIP/2.0/UDP", v), parse_error::invalid_sent_protocol);
    EXPECT_EQ(parse_via("SIP/2.0/UDP host:abc", v), parse_error::invalid_port);
    EXPECT_EQ(parse_via("SIP/2.0/UDP host:70000", v), parse_error::invalid_port);
    EXPECT_EQ(parse_via("SIP/2.0/UDP host;rport=x", v), parse_error::invalid_param);
    EXPECT_EQ(parse_via("SIP/2.0/UDP host;ttl=300", v), parse_error::invalid_param);
    EXPECT_EQ(parse_via("SIP/2.0/UDP host;branch=\"abc", v), parse_error::unterminated_quote);
    EXPECT_EQ(parse_via("SIP/2.0/UDP ho$t", v), parse_error::invalid_host);
}

TEST(ViaParse, TransportsByName) {
    EXPECT_EQ(classify_transport("udp"), transport::udp);
    EXPECT_EQ(classify_transport("TLS"), transport::tls);
    EXPECT_EQ(classify_transport("SCTP"), transport::sctp);
    EXPECT_EQ(classify_transport("ws"), transport::ws);
    EXPECT_EQ(classify_transport("WSS"), transport::wss);
    EXPECT_EQ(classify_transport("QUIC"), transport::unknown);
}

} // namespace
} // namespace sipfast::sip
