// SPDX-License-Identifier: Apache-2.0
// The pipeline across transports: UDP and TCP sides recorded (RFC 5658), answers on the connection
// a request came by (RFC 3261 §18.2.2), large requests moved to TCP (§18.1.1), TS 24.229 local
// numbers, and what a transport we cannot use gets.
#include "sipfast/proxy/pipeline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sipfast/sip/parser.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::values;
using test::crlf;
using test::parsed;

constexpr std::uint64_t ms = test::pipeline_driver::ms;

// The test proxy, also listening on TCP 198.18.0.1:5060; carol is reached over TCP.
struct fixture : test::pipeline_driver {
    net_address ue = addr("198.18.0.9:40123");  // a TCP client's ephemeral port

    explicit fixture(proxy_mode mode = proxy_mode::stateless, bool tcp = true) : pipeline_driver(test::test_config(mode)) {
        if (tcp) config.listen.push_back({sip::transport::tcp, addr("198.18.0.1:5060")});
        config.locations.push_back({"carol", "example.com", "sip:carol@198.18.0.21:5064;transport=tcp",
                                    addr("198.18.0.21:5064"), sip::transport::tcp});
        config.locations.push_back({"1012", "example.com", "sip:1012@198.18.0.22:5060", addr("198.18.0.22:5060")});
        p = std::make_unique<pipeline>(config, 0);
    }
    const listen_point* udp() const { return &config.listen[0]; }
    const listen_point* tcp() const { return &config.listen[1]; }
    std::size_t feed(const std::string& text, net_address from, const listen_point* local) {
        return feed_at(text, from, local);
    }
};

std::string request(std::string_view method, std::string_view ruri, std::string_view via, std::string_view extra = "",
                    std::string_view body = "") {
    return crlf(std::string(method) + " " + std::string(ruri) + " SIP/2.0\n"
                "Via: " + std::string(via) + "\n"
                "Max-Forwards: 70\n" + std::string(extra) +
                "From: <sip:alice@example.com>;tag=a1\n"
                "To: <sip:bob@example.com>\n"
                "Call-ID: transport-1@198.18.0.9\n"
                "CSeq: 1 " + std::string(method) + "\n"
                "Content-Length: " + std::to_string(body.size()) + "\n\n") + std::string(body);
}

TEST(Transport, TcpCallerToUdpCalleeRecordsBothSides) {
    fixture f;
    ASSERT_EQ(f.feed(request("INVITE", "sip:bob@example.com", "SIP/2.0/TCP 198.18.0.9:5060;branch=z9hG4bKt1"), f.ue,
                     f.tcp()),
              1u);
    EXPECT_EQ(f.out[0].transport, sip::transport::udp);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
    parsed fwd(f.sent());
    ASSERT_TRUE(fwd.result.ok()) << f.sent();
    // The side facing the callee first: the callee's route set starts there, the caller's ends there.
    EXPECT_EQ(values(fwd.msg, sip::header_id::record_route),
              (std::vector<std::string>{test::marked("<sip:198.18.0.1:5060;lr>", fwd.msg.call_id),
                                        test::marked("<sip:198.18.0.1:5060;transport=tcp;lr>", fwd.msg.call_id)}));
    const auto vias = values(fwd.msg, sip::header_id::via);
    ASSERT_EQ(vias.size(), 2u);
    EXPECT_EQ(vias[0].substr(0, 31), "SIP/2.0/UDP 198.18.0.1:5060;bra");
    // No rport asked for, but the answer must find the connection: both are written.
    EXPECT_EQ(vias[1], "SIP/2.0/TCP 198.18.0.9:5060;branch=z9hG4bKt1;received=198.18.0.9;rport=40123");
}

TEST(Transport, UdpCallerToTcpCalleeLeavesByTcp) {
    fixture f;
    ASSERT_EQ(f.feed(request("INVITE", "sip:carol@example.com", "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKu1;rport"),
                     addr("198.18.0.9:5070"), f.udp()),
              1u);
    EXPECT_EQ(f.out[0].transport, sip::transport::tcp);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.21:5064"));
    parsed fwd(f.sent());
    ASSERT_TRUE(fwd.result.ok());
    EXPECT_EQ(fwd.msg.request_uri_text, "sip:carol@198.18.0.21:5064;transport=tcp");
    EXPECT_EQ(values(fwd.msg, sip::header_id::record_route),
              (std::vector<std::string>{test::marked("<sip:198.18.0.1:5060;transport=tcp;lr>", fwd.msg.call_id),
                                        test::marked("<sip:198.18.0.1:5060;lr>", fwd.msg.call_id)}));
    EXPECT_EQ(fwd.msg.top_via.transport, sip::transport::tcp);
}

TEST(Transport, InDialogRequestPopsBothOfOurRoutesAndLeavesByTheLastOnesTransport) {
    for (const char* routes : {"Route: <sip:198.18.0.1:5060;lr>\nRoute: <sip:198.18.0.1:5060;transport=tcp;lr>\n",
                               "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.1:5060;transport=tcp;lr>\n"}) {
        fixture f;
        // The callee (UDP) hangs up towards the caller's Contact, which names no transport.
        ASSERT_EQ(f.feed(request("BYE", "sip:alice@198.18.0.9:5060", "SIP/2.0/UDP 198.18.0.20:5062;branch=z9hG4bKb1",
                                 routes),
                         addr("198.18.0.20:5062"), f.udp()),
                  1u)
            << routes;
        EXPECT_EQ(f.out[0].transport, sip::transport::tcp);
        EXPECT_EQ(f.out[0].destination, addr("198.18.0.9:5060"));
        parsed fwd(f.sent());
        ASSERT_TRUE(fwd.result.ok());
        EXPECT_EQ(fwd.msg.find(sip::header_id::route), nullptr) << f.sent();
        EXPECT_EQ(fwd.msg.top_via.transport, sip::transport::tcp);
    }
}

TEST(Transport, OursThenAnotherProxyLeavesOnlyTheOther) {
    fixture f;
    ASSERT_EQ(f.feed(request("BYE", "sip:alice@198.18.0.9:5060", "SIP/2.0/UDP 198.18.0.20:5062;branch=z9hG4bKb2",
                             "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.1:5060;transport=tcp;lr>, "
                             "<sip:198.18.0.40;lr;transport=tcp>\n"),
                     addr("198.18.0.20:5062"), f.udp()),
              1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.40:5060"));
    EXPECT_EQ(f.out[0].transport, sip::transport::tcp);
    parsed fwd(f.sent());
    ASSERT_TRUE(fwd.result.ok());
    EXPECT_EQ(values(fwd.msg, sip::header_id::route), std::vector<std::string>{"<sip:198.18.0.40;lr;transport=tcp>"});
}

TEST(Transport, MoreEditsThanTheEditorHoldsAreRefusedNotForwardedHalfDone) {
    fixture f;
    std::string routes;
    for (int i = 0; i < 40; ++i) routes += "Route: <sip:198.18.0.1:5060;lr>\n";
    ASSERT_EQ(f.feed(request("BYE", "sip:alice@198.18.0.9:5060", "SIP/2.0/UDP 198.18.0.20:5062;branch=z9hG4bKr1", routes),
                     addr("198.18.0.20:5062"), f.udp()),
              1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
    EXPECT_EQ(f.sent().substr(0, 43), "SIP/2.0 500 Request Too Complex To Forward\r");
}

TEST(Transport, RequestsTooLargeForUdpGoOverTcp) {
    const std::string sdp(1400, 'x');
    {
        fixture f;
        ASSERT_EQ(f.feed(request("MESSAGE", "sip:bob@example.com", "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKm1", "", sdp),
                         addr("198.18.0.9:5070"), f.udp()),
                  1u);
        EXPECT_EQ(f.out[0].transport, sip::transport::tcp);
        parsed fwd(f.sent());
        ASSERT_TRUE(fwd.result.ok());
        EXPECT_EQ(fwd.msg.top_via.transport, sip::transport::tcp);
        EXPECT_EQ(fwd.msg.body, sdp);
    }
    {
        fixture f(proxy_mode::stateless, false);  // no TCP to move to: it goes over UDP as it is
        ASSERT_EQ(f.feed(request("MESSAGE", "sip:bob@example.com", "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKm1", "", sdp),
                         addr("198.18.0.9:5070"), f.udp()),
                  1u);
        EXPECT_EQ(f.out[0].transport, sip::transport::udp);
    }
    {
        fixture f;  // one larger than the TCP path carries stays on UDP rather than being lost
        const std::string huge(5000, 'x');
        ASSERT_EQ(f.feed(request("MESSAGE", "sip:bob@example.com", "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKm1", "", huge),
                         addr("198.18.0.9:5070"), f.udp()),
                  1u);
        EXPECT_EQ(f.out[0].transport, sip::transport::udp);
    }
    {
        fixture f;  // a small one stays on UDP
        ASSERT_EQ(f.feed(request("MESSAGE", "sip:bob@example.com", "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKm1", "", "hi"),
                         addr("198.18.0.9:5070"), f.udp()),
                  1u);
        EXPECT_EQ(f.out[0].transport, sip::transport::udp);
    }
}

TEST(Transport, LocalNumberWithOurPhoneContextGoesThroughLocation) {
    fixture f;
    ASSERT_EQ(f.feed(request("INVITE", "tel:1012;phone-context=example.com",
                             "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKtel"),
                     addr("198.18.0.9:5070"), f.udp()),
              1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.22:5060"));
    parsed fwd(f.sent());
    ASSERT_TRUE(fwd.result.ok());
    EXPECT_EQ(fwd.msg.request_uri_text, "sip:1012@198.18.0.22:5060");
    // Another context is not ours to resolve.
    ASSERT_EQ(f.feed(request("INVITE", "tel:1013;phone-context=other.example",
                             "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKtel2"),
                     addr("198.18.0.9:5070"), f.udp()),
              1u);
    EXPECT_EQ(f.sent().substr(0, 39), "SIP/2.0 503 Destination Not Resolvable\r");
    ASSERT_EQ(f.feed(request("INVITE", "tel:1099;phone-context=example.com",
                             "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKtel3"),
                     addr("198.18.0.9:5070"), f.udp()),
              1u);
    EXPECT_EQ(f.sent().substr(0, 21), "SIP/2.0 404 Not Found");
}

TEST(Transport, TransportsWeCannotUseAre503) {
    {
        fixture f(proxy_mode::stateless, false);  // carol is TCP, we have no TCP
        ASSERT_EQ(f.feed(request("INVITE", "sip:carol@example.com", "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKn1"),
                         addr("198.18.0.9:5070"), f.udp()),
                  1u);
        EXPECT_EQ(f.sent().substr(0, 36), "SIP/2.0 503 Transport Not Supported\r");
        EXPECT_EQ(f.out[0].destination, addr("198.18.0.9:5070"));
    }
    {
        fixture f;
        ASSERT_EQ(f.feed(request("INVITE", "sip:x@198.18.0.50;transport=sctp", "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKn2"),
                         addr("198.18.0.9:5070"), f.udp()),
                  1u);
        EXPECT_EQ(f.sent().substr(0, 36), "SIP/2.0 503 Transport Not Supported\r");
    }
}

TEST(Transport, StatefulAnswersGoBackOnTheConnectionAndAreNotRetransmitted) {
    fixture f(proxy_mode::stateful);
    // The Via names port 5060; the connection is from 40123: answers go to the connection.
    ASSERT_EQ(f.feed(request("INVITE", "sip:bob@example.com", "SIP/2.0/TCP 198.18.0.9:5060;branch=z9hG4bKs1"), f.ue,
                     f.tcp()),
              2u);
    EXPECT_EQ(f.out[0].destination, f.ue);
    EXPECT_EQ(f.out[0].transport, sip::transport::tcp);
    EXPECT_EQ(f.sent(0).substr(0, 19), "SIP/2.0 100 Trying\r");
    parsed fwd(f.sent(1));
    ASSERT_TRUE(fwd.result.ok());
    const std::string busy = crlf("SIP/2.0 486 Busy Here\nVia: " + values(fwd.msg, sip::header_id::via)[0] +
                                  "\nVia: " + values(fwd.msg, sip::header_id::via)[1] +
                                  "\nFrom: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>;tag=b1\n"
                                  "Call-ID: transport-1@198.18.0.9\nCSeq: 1 INVITE\nContent-Length: 0\n\n");
    f.feed(busy, addr("198.18.0.20:5062"), f.udp());
    bool answered = false;
    for (std::size_t i = 0; i < f.out.size(); ++i)
        answered = answered || (f.out[i].destination == f.ue && f.sent(i).substr(0, 21) == "SIP/2.0 486 Busy Here");
    EXPECT_TRUE(answered);
    // Timer G does not run over a reliable transport: nothing is sent again while we wait for the ACK.
    EXPECT_EQ(f.tick(3000 * ms), 0u);
}

} // namespace
} // namespace sipfast::proxy
