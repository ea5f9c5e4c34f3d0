// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/pipeline.hpp"

#include <gtest/gtest.h>

#include <string>

#include "sipfast/sip/parser.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::crlf;
using test::parsed;

using test::addr;

struct fixture {
    proxy_config config = test::test_config(proxy_mode::stateless);
    outbox out{1 << 16, 64};
    std::unique_ptr<pipeline> p;
    net_address uac = addr("198.18.0.9:5070");

    fixture() {
        config.routes.push_back({"carrier.example.net", "", addr("198.18.0.30:5060"), sip::transport::udp});
        p = std::make_unique<pipeline>(config, 3);
    }

    // Feeds one datagram; returns the number of messages it produced.
    std::size_t feed(const std::string& datagram, net_address from) {
        out.clear();
        p->on_packet(inbound{datagram, from, &config.listen[0]}, 0, out);
        return out.size();
    }
    std::string sent(std::size_t i = 0) const {
        const auto b = out.bytes(out[i]);
        return std::string(b.data(), b.size());
    }
};

std::string invite(std::string_view ruri, std::string_view extra = "", std::string_view branch = "z9hG4bKuac1") {
    return crlf("INVITE " + std::string(ruri) + " SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=" + std::string(branch) + ";rport\n"
                "Max-Forwards: 70\n" + std::string(extra) +
                "From: Alice <sip:alice@example.com>;tag=a1\n"
                "To: Bob <sip:bob@example.com>\n"
                "Call-ID: call-1@198.18.0.9\n"
                "CSeq: 1 INVITE\n"
                "Contact: <sip:alice@198.18.0.9:5070>\n"
                "Content-Length: 0\n\n");
}

TEST(Pipeline, ForwardsToTheLocationOfOurDomain) {
    fixture f;
    ASSERT_EQ(f.feed(invite("sip:bob@example.com"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
    parsed fwd(f.sent());
    ASSERT_TRUE(fwd.result.ok()) << f.sent();
    const sip::message& m = fwd.msg;
    EXPECT_EQ(m.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_EQ(m.max_forwards, 69u);
    ASSERT_NE(m.find(sip::header_id::record_route), nullptr);
    EXPECT_EQ(m.find(sip::header_id::record_route)->value, test::marked("<sip:198.18.0.1:5060;lr>", m.call_id));
    EXPECT_EQ(m.top_via.host, "198.18.0.1");
    EXPECT_EQ(m.top_via.port, 5060);
    EXPECT_EQ(m.top_via.branch.substr(0, 13), "z9hG4bKsf0003");
    std::vector<std::string> vias;
    m.for_each_value(sip::header_id::via, [&](std::string_view v) {
        vias.emplace_back(v);
        return true;
    });
    ASSERT_EQ(vias.size(), 2u);
    EXPECT_EQ(vias[1], "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1;received=198.18.0.9;rport=5070");
    EXPECT_EQ(f.p->stats().requests_forwarded(), 1u);
}

TEST(Pipeline, RetransmissionsAndCancelTakeTheSameBranch) {
    fixture f;
    ASSERT_EQ(f.feed(invite("sip:bob@example.com"), f.uac), 1u);
    const std::string first = std::string(parsed(f.sent()).msg.top_via.branch);
    ASSERT_EQ(f.feed(invite("sip:bob@example.com"), f.uac), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.top_via.branch, first);
    std::string cancel = invite("sip:bob@example.com");
    cancel.replace(0, 6, "CANCEL");
    cancel.replace(cancel.find("CSeq: 1 INVITE"), 14, "CSeq: 1 CANCEL");
    ASSERT_EQ(f.feed(cancel, f.uac), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.top_via.branch, first);
    ASSERT_EQ(f.feed(invite("sip:bob@example.com", "", "z9hG4bKother"), f.uac), 1u);
    EXPECT_NE(parsed(f.sent()).msg.top_via.branch, first);
}

TEST(Pipeline, TheAckOfAFailureTakesTheInvitesBranch) {
    // §17.1.1.3: the ACK of a non-2xx answer belongs to the INVITE's transaction downstream, so a
    // stateless proxy must give it the INVITE's branch although it now carries the To tag.
    for (const std::string_view uac_branch : {"z9hG4bKuac1", "rfc2543-branch"}) {
        fixture f;
        ASSERT_EQ(f.feed(invite("sip:bob@example.com", "", uac_branch), f.uac), 1u);
        const std::string invite_branch = std::string(parsed(f.sent()).msg.top_via.branch);
        std::string ack = invite("sip:bob@example.com", "", uac_branch);
        ack.replace(0, 6, "ACK");
        ack.replace(ack.find("CSeq: 1 INVITE"), 14, "CSeq: 1 ACK");
        ack.replace(ack.find("To: Bob <sip:bob@example.com>"), 29, "To: Bob <sip:bob@example.com>;tag=b1");
        ASSERT_EQ(f.feed(ack, f.uac), 1u) << uac_branch;
        EXPECT_EQ(parsed(f.sent()).msg.top_via.branch, invite_branch) << uac_branch;
    }
}

TEST(Pipeline, ResponsesFollowTheNextVia) {
    fixture f;
    ASSERT_EQ(f.feed(invite("sip:bob@example.com"), f.uac), 1u);
    parsed fwd(f.sent());
    // The callee answers 180 with the Vias it received.
    std::string ringing = "SIP/2.0 180 Ringing\r\n";
    for (const sip::header& h : fwd.msg.headers)
        if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
            h.id == sip::header_id::cseq || h.id == sip::header_id::record_route)
            ringing += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
    ringing += "To: Bob <sip:bob@example.com>;tag=b1\r\nContent-Length: 0\r\n\r\n";
    ASSERT_EQ(f.feed(ringing, addr("198.18.0.20:5062")), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.9:5070"));  // received + rport
    parsed back(f.sent());
    ASSERT_TRUE(back.result.ok());
    EXPECT_EQ(back.msg.status_code, 180);
    EXPECT_EQ(back.msg.count(sip::header_id::via), 1u);
    EXPECT_EQ(back.msg.top_via.branch, "z9hG4bKuac1");
    EXPECT_EQ(f.p->stats().responses_forwarded(), 1u);

    // The same Vias as one comma-separated line, with whitespace around the comma: the next Via
    // is found after the top value the parser decoded.
    std::vector<std::string> vias;
    for (const sip::header& h : fwd.msg.headers)
        if (h.id == sip::header_id::via) vias.emplace_back(h.value);
    ASSERT_EQ(vias.size(), 2u);
    std::string joined = ringing;
    joined.erase(joined.find("Via: " + vias[1]), 5 + vias[1].size() + 2);
    joined.replace(joined.find(vias[0]), vias[0].size(), vias[0] + " \t,\r\n  " + vias[1]);
    ASSERT_EQ(f.feed(joined, addr("198.18.0.20:5062")), 1u) << joined;
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.9:5070"));
    parsed back_joined(f.sent());
    ASSERT_TRUE(back_joined.result.ok());
    EXPECT_EQ(back_joined.msg.count(sip::header_id::via), 1u);
    EXPECT_EQ(back_joined.msg.top_via.branch, "z9hG4bKuac1");

    // A response whose top Via is somebody else's is dropped.
    std::string stray = ringing;
    stray.replace(stray.find("198.18.0.1:5060;branch"), 15, "198.18.0.77:506");
    EXPECT_EQ(f.feed(stray, addr("198.18.0.20:5062")), 0u);
    EXPECT_EQ(f.p->stats().dropped(drop_cause::not_ours), 1u);
}

TEST(Pipeline, AnotherLocationServiceCanAnswer) {
    // What the registrar will plug in: the pipeline asks the service it is given.
    struct one_binding final : location_service {
        location_entry e{"dave", "example.com", "sip:dave@198.18.0.44:5090", {}};
        one_binding() { EXPECT_TRUE(parse_ip_port("198.18.0.44:5090", 0, e.contact_address)); }
        const location_entry* lookup(std::string_view user, std::string_view, bool) const noexcept override {
            return user == "dave" ? &e : nullptr;
        }
    } service;
    fixture f;
    pipeline p(f.config, 0, 0, 1, &service);
    f.out.clear();
    const std::string req = invite("sip:dave@example.com");
    p.on_packet(inbound{req, f.uac, &f.config.listen[0]}, 0, f.out);
    ASSERT_EQ(f.out.size(), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.44:5090"));
    f.out.clear();
    const std::string bob = invite("sip:bob@example.com");  // the config's entry is not consulted
    p.on_packet(inbound{bob, f.uac, &f.config.listen[0]}, 0, f.out);
    ASSERT_EQ(f.out.size(), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.status_code, 404);
}

TEST(Pipeline, StaticRoutesAndTheRequestUriItself) {
    fixture f;
    ASSERT_EQ(f.feed(invite("sip:+15551234@carrier.example.net"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.30:5060"));
    ASSERT_EQ(f.feed(invite("sip:carol@198.18.0.40:5080"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.40:5080"));
    EXPECT_EQ(parsed(f.sent()).msg.request_uri_text, "sip:carol@198.18.0.40:5080");
}

TEST(Pipeline, OurDomainWithNoBindingFollowsARouteNamingIt) {
    fixture f;
    // No route for example.com: a user without a binding is 404, a REGISTER for the domain too.
    ASSERT_EQ(f.feed(invite("sip:zoe@example.com"), f.uac), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.status_code, 404);
    // With one (the registrar), both go there; bob, who has a binding, still goes to it. A route
    // for any domain does not take our domain's traffic.
    f.config.routes.insert(f.config.routes.begin(), {"", "", addr("198.18.0.99:5060"), sip::transport::udp});
    f.config.routes.push_back({"example.com", "", addr("198.18.0.31:5060"), sip::transport::udp});
    std::string reg = invite("sip:example.com");
    reg.replace(0, 6, "REGISTER");
    reg.replace(reg.find("CSeq: 1 INVITE"), 14, "CSeq: 1 REGISTER");
    ASSERT_EQ(f.feed(reg, f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.31:5060"));
    EXPECT_EQ(parsed(f.sent()).msg.request_uri_text, "sip:example.com");
    ASSERT_EQ(f.feed(invite("sip:zoe@example.com"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.31:5060"));
    ASSERT_EQ(f.feed(invite("sip:bob@example.com"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
}

TEST(Pipeline, AnAddressDomainIsOursOnlyOnOurPorts) {
    fixture f;
    f.config.domains.push_back("198.18.0.20");
    // An in-dialog request to the callee's Contact on the proxy's own host but another port is not
    // for our location service: it goes to the Contact.
    ASSERT_EQ(f.feed(invite("sip:198.18.0.20:5062", "Route: <sip:198.18.0.1:5060;lr>\n"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
    EXPECT_EQ(parsed(f.sent()).msg.method, sip::method::invite);
}

TEST(Pipeline, OurRouteIsPoppedAndTheNextOneFollowed) {
    fixture f;
    ASSERT_EQ(f.feed(invite("sip:bob@198.18.0.20:5062", "Route: <sip:198.18.0.1:5060;lr>, <sip:198.18.0.50;lr>\n"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.50:5060"));
    parsed fwd(f.sent());
    ASSERT_TRUE(fwd.result.ok());
    EXPECT_EQ(fwd.msg.top_route.address.text, "sip:198.18.0.50;lr");
    EXPECT_EQ(fwd.msg.count(sip::header_id::route), 1u);
    // In-dialog request with only our Route: popped, sent to the Request-URI.
    ASSERT_EQ(f.feed(invite("sip:bob@198.18.0.20:5062", "Route: <sip:198.18.0.1:5060;lr>\n"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
    EXPECT_FALSE(parsed(f.sent()).msg.has(sip::header_id::route));
}

TEST(Pipeline, StrictRouterRequestUriIsReplacedByTheLastRoute) {
    // RFC 3261 §16.4: an RFC 2543 strict router sends our Record-Route URI as the Request-URI and
    // the remote target as the last Route value.
    fixture f;
    std::string strict = invite("sip:198.18.0.1:5060;lr", "Route: <sip:bob@198.18.0.20:5062>\n");
    ASSERT_EQ(f.feed(strict, f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
    parsed fwd(f.sent());
    ASSERT_TRUE(fwd.result.ok()) << f.sent();
    EXPECT_EQ(fwd.msg.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_FALSE(fwd.msg.has(sip::header_id::route));
    // With two values in the header, only the last one leaves.
    std::string two = invite("sip:198.18.0.1:5060;lr", "Route: <sip:198.18.0.50;lr>, <sip:bob@198.18.0.20:5062>\n");
    ASSERT_EQ(f.feed(two, f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.50:5060"));  // the rest of the route set leads
    parsed fwd2(f.sent());
    ASSERT_TRUE(fwd2.result.ok()) << f.sent();
    EXPECT_EQ(fwd2.msg.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_EQ(fwd2.msg.find(sip::header_id::route)->value, "<sip:198.18.0.50;lr>");
}

struct refusal {
    const char* note;
    std::string request;
    int status;
};

// RFC 3261 §16.3 step 1: what the proxy does not use need not be well-formed, and is forwarded as
// it came. From and To are decoded only when a stage reads them (registrar, authentication).
TEST(Pipeline, AFromAndContactItNeverReadsAreForwardedAsTheyCame) {
    std::string text = invite("sip:bob@example.com");
    text.replace(text.find("From: Alice <sip:alice@example.com>;tag=a1"), 42, "From: Alice <sip:alice@>;tag=a1");
    text.replace(text.find("Contact: <sip:alice@198.18.0.9:5070>"), 36, "Contact: <sip:alice@198.18.0.9:99999>");
    fixture f;
    ASSERT_EQ(f.feed(text, f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));
    EXPECT_NE(f.sent().find("\r\nFrom: Alice <sip:alice@>;tag=a1\r\n"), std::string::npos) << f.sent();
    EXPECT_NE(f.sent().find("\r\nContact: <sip:alice@198.18.0.9:99999>\r\n"), std::string::npos) << f.sent();
}

TEST(Pipeline, RefusesWithTheRightStatus) {
    std::string mf0 = invite("sip:bob@example.com");
    mf0.replace(mf0.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
    std::string bad_cseq = invite("sip:bob@example.com");
    bad_cseq.replace(bad_cseq.find("CSeq: 1 INVITE"), 14, "CSeq: x INVITE");
    const refusal rows[] = {
        {"unknown user in our domain", invite("sip:nobody@example.com"), 404},
        {"Max-Forwards 0", mf0, 483},
        {"scheme we cannot route", invite("mailto:bob@example.com"), 416},
        {"Proxy-Require", invite("sip:bob@example.com", "Proxy-Require: foo\n"), 420},
        {"undecodable CSeq", bad_cseq, 400},
        {"name we cannot resolve", invite("sip:bob@unresolved.example.org"), 503},
    };
    for (const refusal& r : rows) {
        fixture f;
        ASSERT_EQ(f.feed(r.request, f.uac), 1u) << r.note;
        EXPECT_EQ(f.out[0].destination, f.uac) << r.note;
        parsed answer(f.sent());
        if (r.status == 400) {
            // The answer echoes the request's CSeq as received, so it is as undecodable as the request.
            EXPECT_EQ(answer.msg.start_line, "SIP/2.0 400 Invalid CSeq header: not a number");
            EXPECT_NE(f.sent().find("\r\nCSeq: x INVITE\r\n"), std::string::npos);
            continue;
        }
        ASSERT_TRUE(answer.result.ok()) << r.note << "\n" << f.sent();
        EXPECT_EQ(answer.msg.status_code, r.status) << r.note;
        EXPECT_EQ(answer.msg.call_id, "call-1@198.18.0.9") << r.note;
        EXPECT_FALSE(answer.msg.to.tag.empty()) << r.note;
        EXPECT_EQ(answer.msg.top_via.branch, "z9hG4bKuac1") << r.note;
    }
    fixture f;
    ASSERT_EQ(f.feed(rows[3].request, f.uac), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.find(sip::header_id::unsupported)->value, "foo");
}

TEST(Pipeline, ProxyRequireNamingOnlyOurExtensionsPasses) {
    fixture f;
    f.config.extensions = {"precondition"};
    ASSERT_EQ(f.feed(invite("sip:bob@example.com", "Proxy-Require: Precondition\n"), f.uac), 1u);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.20:5062"));  // forwarded, Proxy-Require kept for the next hop
    EXPECT_NE(f.sent().find("\r\nProxy-Require: Precondition\r\n"), std::string::npos);
    ASSERT_EQ(f.feed(invite("sip:bob@example.com", "Proxy-Require: precondition, foo\nProxy-Require: bar\n"), f.uac), 1u);
    parsed answer(f.sent());
    EXPECT_EQ(answer.msg.status_code, 420);
    EXPECT_EQ(answer.msg.find(sip::header_id::unsupported)->value, "foo, bar");
    // A list longer than a reason can hold is still answered, its Unsupported cut short.
    std::string many = "Proxy-Require: ";
    for (int i = 0; i < 200; ++i) many += "extension-number-" + std::to_string(i) + (i < 199 ? ", " : "\n");
    ASSERT_EQ(f.feed(invite("sip:bob@example.com", many), f.uac), 1u);
    parsed long_answer(f.sent());
    EXPECT_EQ(long_answer.msg.status_code, 420);
    EXPECT_EQ(long_answer.msg.find(sip::header_id::unsupported)->value.substr(0, 40),
              "extension-number-0, extension-number-1, ");
}

TEST(Pipeline, OurOwnAnswersFillInReceivedAndRport) {
    fixture f;
    // RFC 3581 §4: rport asked for (the test INVITE has ";rport") is filled in with the source.
    ASSERT_EQ(f.feed(invite("sip:nobody@example.com"), addr("198.18.0.99:6000")), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.find(sip::header_id::via)->value,
              "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1;received=198.18.0.99;rport=6000");
    // Without rport: received only, when the sent-by is not where it came from (RFC 3261 §18.2.1).
    std::string no_rport = invite("sip:nobody@example.com");
    no_rport.erase(no_rport.find(";rport"), 6);
    ASSERT_EQ(f.feed(no_rport, addr("198.18.0.99:6000")), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.find(sip::header_id::via)->value,
              "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1;received=198.18.0.99");
    ASSERT_EQ(f.feed(no_rport, f.uac), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.find(sip::header_id::via)->value, "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1");
    // A received already there (another proxy's, or the client's own) stays the only one: rport
    // alone is filled in, as on the forward path.
    std::string received = invite("sip:nobody@example.com");
    received.insert(received.find(";branch="), ";received=10.9.9.9");
    ASSERT_EQ(f.feed(received, addr("198.18.0.99:6000")), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.find(sip::header_id::via)->value,
              "SIP/2.0/UDP 198.18.0.9:5070;received=10.9.9.9;branch=z9hG4bKuac1;rport=6000");
}

TEST(Pipeline, AckIsNeverAnswered) {
    fixture f;
    std::string ack = invite("sip:nobody@example.com");
    ack.replace(0, 6, "ACK");
    ack.replace(ack.find("CSeq: 1 INVITE"), 14, "CSeq: 1 ACK");
    EXPECT_EQ(f.feed(ack, f.uac), 0u);
}

TEST(Pipeline, OptionsToTheProxyItself) {
    fixture f;
    std::string options = crlf("OPTIONS sip:198.18.0.1:5060 SIP/2.0\n"
                               "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKo1\n"
                               "From: <sip:alice@example.com>;tag=a1\nTo: <sip:198.18.0.1>\n"
                               "Call-ID: o1\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed(options, f.uac), 1u);
    parsed answer(f.sent());
    EXPECT_EQ(answer.msg.status_code, 200);
    EXPECT_NE(answer.msg.find(sip::header_id::allow), nullptr);
}

TEST(Pipeline, MissingMaxForwardsIsAddedAndALoopIsCaught) {
    fixture f;
    // carol is registered at a port of our host that some other element listens on, which sends
    // what it gets straight back to us: a loop.
    std::string no_mf = invite("sip:carol@198.18.0.1:5060");
    no_mf.erase(no_mf.find("Max-Forwards: 70\r\n"), 18);
    f.config.locations.push_back({"carol", "198.18.0.1", "sip:carol@198.18.0.1:5070", addr("198.18.0.1:5070")});
    ASSERT_EQ(f.feed(no_mf, f.uac), 1u);
    const std::string forwarded = f.sent();
    EXPECT_EQ(parsed(forwarded).msg.max_forwards, 70u);
    // Back once, with its Request-URI changed by us: a spiral (§16.3 step 4), forwarded again.
    ASSERT_EQ(f.feed(forwarded, addr("198.18.0.1:5070")), 1u);
    const std::string again = f.sent();
    ASSERT_EQ(parsed(again).msg.method, sip::method::invite);
    // Back unchanged but for the Via we added: 482.
    ASSERT_EQ(f.feed(again, addr("198.18.0.1:5070")), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.status_code, 482);
    // Sent to ourselves straight away, it never leaves: our own listen address is not a destination.
    f.config.locations.back() = {"carol", "198.18.0.1", "sip:carol@198.18.0.1:5060", addr("198.18.0.1:5060")};
    ASSERT_EQ(f.feed(invite("sip:carol@198.18.0.1:5060"), f.uac), 1u);
    EXPECT_EQ(parsed(f.sent()).msg.status_code, 403);
}

} // namespace
} // namespace sipfast::proxy
