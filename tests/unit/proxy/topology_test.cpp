// SPDX-License-Identifier: Apache-2.0
// Topology hiding ([topology] hide): what each side of a call sees of the other, over a whole call
// in both directions, driven by hand with a fake clock.
//
//   alice (198.18.0.9:5070) -- pa (198.18.0.50, record-routes) -- us (198.18.0.1) -- pb (198.18.0.30,
//   record-routes) -- bob (198.18.0.20:5062)
//
// The outside (alice's side) must see no address of the inside (pb, bob) and the inside none of the
// outside, in any header; the call still completes.
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
using test::crlf;
using test::parsed;

constexpr std::uint64_t ms = test::pipeline_driver::ms;

const std::vector<std::string> outside_hosts = {"198.18.0.9", "198.18.0.50"};
const std::vector<std::string> inside_hosts = {"198.18.0.20", "198.18.0.30"};

struct topo_fixture : test::pipeline_driver {
    net_address pa = addr("198.18.0.50:5060");
    net_address pb = addr("198.18.0.30:5060");
    net_address bob = addr("198.18.0.20:5062");

    explicit topo_fixture(bool hide = true) : pipeline_driver(test::test_config(proxy_mode::stateful)) {
        config.hide_topology = hide;
        config.transactions_per_shard = 64;
        p = std::make_unique<pipeline>(config, 0);
    }
    std::size_t feed(const std::string& datagram, net_address from) { return feed_at(datagram, from, &config.listen[0]); }
    std::string sent_to(const net_address& to) const {
        for (std::size_t i = 0; i < out.size(); ++i)
            if (out[i].destination == to) return sent(i);
        return {};
    }
};

// What alice's INVITE is when it reaches us through pa: pa's Via and Record-Route on top.
std::string invite_from_pa() {
    return crlf("INVITE sip:bob@example.com SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa1;rport\n"
                "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1;rport=5070;received=198.18.0.9\n"
                "Max-Forwards: 69\n"
                "Record-Route: <sip:198.18.0.50;lr>\n"
                "From: Alice <sip:alice@example.com>;tag=a1\n"
                "To: Bob <sip:bob@example.com>\n"
                "Call-ID: topo-call-1\n"
                "CSeq: 1 INVITE\n"
                "Contact: <sip:alice@198.18.0.9:5070;transport=udp>;+sip.instance=\"<urn:uuid:1>\"\n"
                "Content-Length: 0\n\n");
}

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

// bob's answer through pb: every Via of what bob got below pb's, the Record-Routes bob got with pb's
// on top (as pb recorded itself), bob's Contact.
std::string bob_answer(const std::string& forwarded, int status, std::string_view reason, std::string_view extra = "") {
    const parsed f(forwarded);
    std::string vias;
    for (const sip::header& h : f.msg.headers)
        if (h.id == sip::header_id::via) vias += "Via: " + std::string(h.value) + "\n";
    std::vector<std::string> rr = test::values(f.msg, sip::header_id::record_route);
    std::string r = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\n" + vias;
    if (status > 100) {
        r += "Record-Route: <sip:198.18.0.30;lr>" + std::string(rr.empty() ? "" : ", " + join(rr)) + "\n";
        r += "Contact: <sip:bob@198.18.0.20:5062>\n";
    }
    r += "From: Alice <sip:alice@example.com>;tag=a1\n";
    r += std::string("To: Bob <sip:bob@example.com>") + (status > 100 ? ";tag=b1" : "") + "\n";
    r += "Call-ID: topo-call-1\nCSeq: " + std::string(f.msg.cseq.method == sip::method::invite ? "1 INVITE" : "2 BYE") + "\n";
    return crlf(r + std::string(extra) + "Content-Length: 0\n\n");
}

// What a node of the other side sends back to one of its requests: same Vias (ours alone), its tag.
std::string answer(const std::string& forwarded, int status, std::string_view reason) {
    return test::answer_to(forwarded, status, reason, "b1");
}

void expect_none_of(const std::string& m, const std::vector<std::string>& hosts, std::string_view what) {
    for (const std::string& h : hosts) EXPECT_EQ(m.find(h), std::string::npos) << what << " shows " << h << ":\n" << m;
}

std::vector<std::string> via_values(const std::string& m) { return test::values(parsed(m).msg, sip::header_id::via); }

// The call set up through us: what bob got and what alice got.
struct call {
    std::string invite_at_pb;  // the INVITE as it left us toward the inside
    std::string ok_at_pa;      // the 200 as it left us toward the outside
};

call set_up(topo_fixture& f) {
    call c;
    EXPECT_EQ(f.feed(invite_from_pa(), f.pa), 2u);  // 100 Trying up, the INVITE down
    EXPECT_EQ(parsed(f.sent_to(f.pa)).msg.status_code, 100);
    c.invite_at_pb = f.sent_to(f.bob);  // the static location sends it to bob; pb is on the way back
    EXPECT_FALSE(c.invite_at_pb.empty());
    EXPECT_EQ(f.feed(bob_answer(c.invite_at_pb, 180, "Ringing"), f.bob), 1u);
    const std::string ringing = f.sent_to(f.pa);
    EXPECT_EQ(parsed(ringing).msg.status_code, 180);
    if (f.config.hide_topology) expect_none_of(ringing, inside_hosts, "the 180 to the outside");
    EXPECT_EQ(f.feed(bob_answer(c.invite_at_pb, 200, "OK"), f.bob), 1u);
    c.ok_at_pa = f.sent_to(f.pa);
    EXPECT_EQ(parsed(c.ok_at_pa).msg.status_code, 200);
    return c;
}

TEST(TopologyHiding, TheInsideSeesOurViaRecordRouteAndContactAlone) {
    topo_fixture f;
    const call c = set_up(f);
    const parsed inv(c.invite_at_pb);
    ASSERT_TRUE(inv.result.ok());
    const std::vector<std::string> vias = test::values(inv.msg, sip::header_id::via);
    ASSERT_EQ(vias.size(), 1u);
    EXPECT_TRUE(vias[0].starts_with("SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKsf")) << vias[0];
    const std::vector<std::string> rr = test::values(inv.msg, sip::header_id::record_route);
    ASSERT_EQ(rr.size(), 1u);
    EXPECT_TRUE(rr[0].starts_with("<sip:198.18.0.1:5060;lr;sfd=")) << rr[0];
    EXPECT_NE(rr[0].find(";sfr="), std::string::npos) << "pa's Record-Route, sealed";
    ASSERT_TRUE(inv.msg.has_contact);
    EXPECT_EQ(inv.msg.first_contact.get()->addr.address.host, "198.18.0.1");
    EXPECT_TRUE(inv.msg.first_contact.get()->addr.address.user.starts_with("sfc."));
    EXPECT_TRUE(inv.msg.first_contact.get()->addr.params.has("+sip.instance"));  // the header's parameters stay
    EXPECT_EQ(inv.msg.request_uri_text, "sip:bob@198.18.0.20:5062");       // where it goes is no secret to bob
    expect_none_of(std::string(c.invite_at_pb.substr(c.invite_at_pb.find('\n'))), inside_hosts, "the INVITE's headers");
    expect_none_of(c.invite_at_pb, outside_hosts, "the INVITE to the inside");
}

TEST(TopologyHiding, TheOutsideGetsItsViasBackExactlyAndOurRouteAndContact) {
    topo_fixture f;
    const call c = set_up(f);
    // The Vias as a proxy that does not hide sends them back: pa's with received and rport filled.
    topo_fixture plain(false);
    const call p = set_up(plain);
    EXPECT_EQ(via_values(c.ok_at_pa), via_values(p.ok_at_pa));
    EXPECT_EQ(via_values(c.ok_at_pa),
              (std::vector<std::string>{"SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa1;received=198.18.0.50;rport=5060",
                                        "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1;rport=5070;received=198.18.0.9"}));
    const parsed ok(c.ok_at_pa);
    const std::vector<std::string> rr = test::values(ok.msg, sip::header_id::record_route);
    ASSERT_EQ(rr.size(), 2u) << c.ok_at_pa;  // ours (pb sealed in it), then pa's as it recorded itself
    EXPECT_TRUE(rr[0].starts_with("<sip:198.18.0.1:5060;lr;sfd=")) << rr[0];
    EXPECT_NE(rr[0].find(";sfr="), std::string::npos);
    EXPECT_EQ(rr[1], "<sip:198.18.0.50;lr>");
    EXPECT_EQ(ok.msg.first_contact.get()->addr.address.host, "198.18.0.1");
    EXPECT_TRUE(ok.msg.first_contact.get()->addr.address.user.starts_with("sfc."));
    expect_none_of(c.ok_at_pa, inside_hosts, "the 200 to the outside");
    // Without hiding the inside shows (the test would prove nothing otherwise).
    EXPECT_NE(p.ok_at_pa.find("198.18.0.30"), std::string::npos);
    EXPECT_NE(p.invite_at_pb.find("198.18.0.50"), std::string::npos);
}

TEST(TopologyHiding, ACallCompletesBothWays) {
    topo_fixture f;
    const call c = set_up(f);
    const parsed ok(c.ok_at_pa);
    const std::string bob_contact(ok.msg.first_contact.get()->addr.address.text);  // ours, standing for bob
    const std::string our_rr_for_alice = test::values(ok.msg, sip::header_id::record_route)[0];

    // alice's ACK, through pa (her route set: pa, us): to bob through pb, the real contact restored.
    const std::string ack = crlf("ACK " + bob_contact + " SIP/2.0\n"
                                 "Via: SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa2\n"
                                 "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKack1;rport\n"
                                 "Max-Forwards: 69\n"
                                 "Route: " + our_rr_for_alice + "\n"
                                 "From: Alice <sip:alice@example.com>;tag=a1\n"
                                 "To: Bob <sip:bob@example.com>;tag=b1\n"
                                 "Call-ID: topo-call-1\nCSeq: 1 ACK\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed(ack, f.pa), 1u);
    const std::string ack_out = f.sent_to(f.pb);
    ASSERT_FALSE(ack_out.empty()) << f.sent(0);
    const parsed a(ack_out);
    EXPECT_EQ(a.msg.method, sip::method::ack);
    EXPECT_EQ(a.msg.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_EQ(test::values(a.msg, sip::header_id::route), (std::vector<std::string>{"<sip:198.18.0.30;lr>"}));
    EXPECT_EQ(test::values(a.msg, sip::header_id::via).size(), 1u);
    expect_none_of(ack_out, outside_hosts, "the ACK to the inside");

    // bob hangs up, through pb (his route set: pb, us): to alice through pa.
    const parsed inv(c.invite_at_pb);
    const std::string alice_contact(inv.msg.first_contact.get()->addr.address.text);  // ours, standing for alice
    const std::string our_rr_for_bob = test::values(inv.msg, sip::header_id::record_route)[0];
    const std::string bye = crlf("BYE " + alice_contact + " SIP/2.0\n"
                                 "Via: SIP/2.0/UDP 198.18.0.30:5060;branch=z9hG4bKpb2\n"
                                 "Via: SIP/2.0/UDP 198.18.0.20:5062;branch=z9hG4bKbye1;rport=5062\n"
                                 "Max-Forwards: 69\n"
                                 "Route: " + our_rr_for_bob + "\n"
                                 "From: Bob <sip:bob@example.com>;tag=b1\n"
                                 "To: Alice <sip:alice@example.com>;tag=a1\n"
                                 "Call-ID: topo-call-1\nCSeq: 1 BYE\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed(bye, f.pb), 1u);
    const std::string bye_out = f.sent_to(f.pa);
    ASSERT_FALSE(bye_out.empty()) << f.sent(0);
    const parsed b(bye_out);
    EXPECT_EQ(b.msg.method, sip::method::bye);
    EXPECT_EQ(b.msg.request_uri_text, "sip:alice@198.18.0.9:5070;transport=udp");
    EXPECT_EQ(test::values(b.msg, sip::header_id::route), (std::vector<std::string>{"<sip:198.18.0.50;lr>"}));
    ASSERT_EQ(test::values(b.msg, sip::header_id::via).size(), 1u);
    expect_none_of(bye_out, inside_hosts, "the BYE to the outside");

    // alice's 200 comes back through pa with our Via alone; pb gets its Vias back.
    ASSERT_EQ(f.feed(answer(bye_out, 200, "OK"), f.pa), 1u);
    const std::string bye_ok = f.sent_to(f.pb);
    ASSERT_FALSE(bye_ok.empty()) << f.sent(0);
    EXPECT_EQ(parsed(bye_ok).msg.status_code, 200);
    EXPECT_EQ(via_values(bye_ok), (std::vector<std::string>{"SIP/2.0/UDP 198.18.0.30:5060;branch=z9hG4bKpb2",
                                                             "SIP/2.0/UDP 198.18.0.20:5062;branch=z9hG4bKbye1;rport=5062"}));
    expect_none_of(bye_ok, outside_hosts, "the 200 to the inside");
    EXPECT_EQ(f.p->stats().dialogs_created, 1u);
}

TEST(TopologyHiding, TheCallerHangsUpThroughTheInsideRouteSet) {
    topo_fixture f;
    const call c = set_up(f);
    const parsed ok(c.ok_at_pa);
    const std::string bye = crlf("BYE " + std::string(ok.msg.first_contact.get()->addr.address.text) + " SIP/2.0\n"
                                 "Via: SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa3\n"
                                 "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKbye2;rport\n"
                                 "Max-Forwards: 69\n"
                                 "Route: " + test::values(ok.msg, sip::header_id::record_route)[0] + "\n"
                                 "From: Alice <sip:alice@example.com>;tag=a1\n"
                                 "To: Bob <sip:bob@example.com>;tag=b1\n"
                                 "Call-ID: topo-call-1\nCSeq: 2 BYE\n"
                                 "Contact: <sip:alice@198.18.0.9:5070>\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed(bye, f.pa), 1u);
    const std::string bye_out = f.sent_to(f.pb);
    ASSERT_FALSE(bye_out.empty()) << f.sent(0);
    const parsed b(bye_out);
    EXPECT_EQ(b.msg.request_uri_text, "sip:bob@198.18.0.20:5062");
    EXPECT_EQ(test::values(b.msg, sip::header_id::route), (std::vector<std::string>{"<sip:198.18.0.30;lr>"}));
    expect_none_of(bye_out, outside_hosts, "the BYE to the inside");
    ASSERT_EQ(f.feed(answer(bye_out, 200, "OK"), f.pb), 1u);
    const std::string bye_ok = f.sent_to(f.pa);
    EXPECT_EQ(via_values(bye_ok),
              (std::vector<std::string>{"SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa3",
                                        "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKbye2;rport"}));
    expect_none_of(bye_ok, inside_hosts, "the 200 to the outside");
}

TEST(TopologyHiding, AnAckReusingTheInvitesBranchStillGoesOn) {
    // The INVITE's transaction outlives its 2xx (Timer L); an ACK that matches it (a client that
    // reuses the INVITE's branch) is end to end all the same (RFC 6026 §7.1), not absorbed.
    topo_fixture f;
    const call c = set_up(f);
    const parsed ok(c.ok_at_pa);
    const std::string ack = crlf("ACK " + std::string(ok.msg.first_contact.get()->addr.address.text) + " SIP/2.0\n"
                                 "Via: SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa1;rport\n"
                                 "Max-Forwards: 69\n"
                                 "Route: " + test::values(ok.msg, sip::header_id::record_route)[0] + "\n"
                                 "From: Alice <sip:alice@example.com>;tag=a1\nTo: Bob <sip:bob@example.com>;tag=b1\n"
                                 "Call-ID: topo-call-1\nCSeq: 1 ACK\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed(ack, f.pa), 1u);
    EXPECT_EQ(parsed(f.sent_to(f.pb)).msg.method, sip::method::ack);
}

TEST(TopologyHiding, AForgedSealedRouteIsRefused) {
    topo_fixture f;
    const call c = set_up(f);
    const parsed ok(c.ok_at_pa);
    std::string rr = test::values(ok.msg, sip::header_id::record_route)[0];
    const std::size_t at = rr.find(";sfr=") + 6;
    rr[at] = rr[at] == 'A' ? 'B' : 'A';
    const std::string bye = crlf("BYE " + std::string(ok.msg.first_contact.get()->addr.address.text) + " SIP/2.0\n"
                                 "Via: SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa4\n"
                                 "Max-Forwards: 69\nRoute: " + rr + "\n"
                                 "From: Alice <sip:alice@example.com>;tag=a1\nTo: Bob <sip:bob@example.com>;tag=b1\n"
                                 "Call-ID: topo-call-1\nCSeq: 2 BYE\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed(bye, f.pa), 1u);
    EXPECT_EQ(parsed(f.sent_to(f.pa)).msg.status_code, 403);
}

TEST(TopologyHiding, OurOwnAnswersCarryTheCallersVias) {
    // Nobody answers: the caller's 408 is built from the INVITE as forwarded (our Via alone) and the
    // Vias the transaction kept.
    topo_fixture f;
    ASSERT_EQ(f.feed(invite_from_pa(), f.pa), 2u);
    f.tick(40'000 * ms);  // Timer B
    const std::string timeout = f.sent_to(f.pa);
    ASSERT_FALSE(timeout.empty());
    EXPECT_EQ(parsed(timeout).msg.status_code, 408);
    EXPECT_EQ(via_values(timeout).size(), 2u);
    EXPECT_EQ(via_values(timeout)[0], "SIP/2.0/UDP 198.18.0.50:5060;branch=z9hG4bKpa1;received=198.18.0.50;rport=5060");
    expect_none_of(timeout, inside_hosts, "our 408");
}

TEST(TopologyHiding, AnErrorAnswerGoesUpWithItsViasAndNothingOfTheInside) {
    topo_fixture f;
    ASSERT_EQ(f.feed(invite_from_pa(), f.pa), 2u);
    const std::string inv = f.sent_to(f.bob);
    ASSERT_EQ(f.feed(bob_answer(inv, 486, "Busy Here", "Warning: 399 198.18.0.20 \"busy\"\n"), f.bob), 2u);  // ACK, 486
    EXPECT_EQ(parsed(f.sent_to(f.bob)).msg.method, sip::method::ack);
    const std::string busy = f.sent_to(f.pa);
    EXPECT_EQ(parsed(busy).msg.status_code, 486);
    EXPECT_EQ(via_values(busy).size(), 2u);
    EXPECT_EQ(test::values(parsed(busy).msg, sip::header_id::record_route).size(), 2u);
    // Via, Record-Route and Contact are hidden; other headers are the operator's to strip.
    const std::string headers_hidden = busy.substr(0, busy.find("Warning:"));
    expect_none_of(headers_hidden, inside_hosts, "the 486 to the outside");
}

TEST(TopologyHiding, RetransmittedTwoHundredsFindTheirWayUpUntilTimerL) {
    topo_fixture f;
    const call c = set_up(f);
    // bob did not hear the ACK and sends his 200 again: the INVITE's transaction is still there to
    // give it its Vias (RFC 6026).
    f.tick(f.now + 2'000 * ms);
    ASSERT_EQ(f.feed(bob_answer(c.invite_at_pb, 200, "OK"), f.bob), 1u);
    const std::string again = f.sent_to(f.pa);
    EXPECT_EQ(again, c.ok_at_pa);
    EXPECT_EQ(f.p->transactions(), 1u);
    f.tick(f.now + 40'000 * ms);  // Timer L (64*T1) has fired
    EXPECT_EQ(f.p->transactions(), 0u);
    EXPECT_EQ(f.p->stats().transactions_active, 0u);
    EXPECT_EQ(f.feed(bob_answer(c.invite_at_pb, 200, "OK"), f.bob), 0u);  // nowhere to go: dropped
}

std::string cancel_from_pa() {
    std::string cancel = invite_from_pa();
    cancel.replace(0, 6, "CANCEL");
    cancel.replace(cancel.find("CSeq: 1 INVITE"), 14, "CSeq: 1 CANCEL");
    return cancel;
}

TEST(TopologyHiding, TheCallersCancelEndsTheCallAndThe487GoesUpWithItsVias) {
    topo_fixture f;
    ASSERT_EQ(f.feed(invite_from_pa(), f.pa), 2u);
    const std::string inv = f.sent_to(f.bob);
    ASSERT_EQ(f.feed(bob_answer(inv, 180, "Ringing"), f.bob), 1u);
    ASSERT_EQ(f.feed(cancel_from_pa(), f.pa), 2u);  // 200 to the CANCEL, and ours to bob
    EXPECT_EQ(parsed(f.sent_to(f.pa)).msg.status_code, 200);
    const std::string our_cancel = f.sent_to(f.bob);
    EXPECT_EQ(parsed(our_cancel).msg.method, sip::method::cancel);
    EXPECT_EQ(via_values(our_cancel).size(), 1u);
    expect_none_of(our_cancel, outside_hosts, "our CANCEL");
    EXPECT_EQ(f.feed(answer(our_cancel, 200, "OK"), f.bob), 0u);
    ASSERT_EQ(f.feed(bob_answer(inv, 487, "Request Terminated"), f.bob), 2u);  // ACK down, 487 up
    const std::string terminated = f.sent_to(f.pa);
    EXPECT_EQ(parsed(terminated).msg.status_code, 487);
    EXPECT_EQ(via_values(terminated).size(), 2u);
    expect_none_of(terminated, inside_hosts, "the 487 to the outside");
    f.tick(f.now + 60'000 * ms);
    EXPECT_EQ(f.p->transactions(), 0u);
}

TEST(TopologyHiding, ACancelThatMatchesNothingHereStillFindsItsWayBack) {
    topo_fixture f;
    ASSERT_EQ(f.feed(cancel_from_pa(), f.pa), 1u);
    const std::string out = f.sent_to(f.bob);
    ASSERT_EQ(via_values(out).size(), 1u);
    ASSERT_EQ(f.feed(answer(out, 481, "Call/Transaction Does Not Exist"), f.bob), 1u);
    const std::string back = f.sent_to(f.pa);
    EXPECT_EQ(parsed(back).msg.status_code, 481);
    EXPECT_EQ(via_values(back).size(), 2u);
}

TEST(TopologyHiding, ATcpCallerAndAUdpCalleeEachGetOurSideFacingThem) {
    // RFC 5658: two Record-Routes of ours, one per side; each side's Contact of ours names the
    // transport it reaches us by, and the callee's BYE leaves by TCP for the caller's real Contact.
    topo_fixture f;
    f.config.listen.push_back({sip::transport::tcp, addr("198.18.0.1:5060")});
    f.p = std::make_unique<pipeline>(f.config, 0);
    const net_address ue = addr("198.18.0.9:40123");  // the caller's connection
    const std::string invite = crlf("INVITE sip:bob@example.com SIP/2.0\n"
                                    "Via: SIP/2.0/TCP 198.18.0.9:5060;branch=z9hG4bKt1\n"
                                    "Max-Forwards: 70\n"
                                    "From: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>\n"
                                    "Call-ID: topo-tcp-1\nCSeq: 1 INVITE\n"
                                    "Contact: <sip:alice@198.18.0.9:5060;transport=tcp>\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed_at(invite, ue, &f.config.listen[1]), 2u);
    const std::string inv = f.sent_to(f.bob);
    const parsed i(inv);
    EXPECT_EQ(test::values(i.msg, sip::header_id::via).size(), 1u);
    const std::vector<std::string> rr = test::values(i.msg, sip::header_id::record_route);
    ASSERT_EQ(rr.size(), 2u);
    EXPECT_TRUE(rr[0].starts_with("<sip:198.18.0.1:5060;lr;sfd=")) << rr[0];
    EXPECT_TRUE(rr[1].starts_with("<sip:198.18.0.1:5060;transport=tcp;lr;sfd=")) << rr[1];
    EXPECT_EQ(i.msg.first_contact.get()->addr.address.params.find("transport").name, "");  // bob reaches us over UDP
    expect_none_of(inv, outside_hosts, "the INVITE to the inside");

    const std::string extra = "Record-Route: " + rr[0] + ", " + rr[1] + "\nContact: <sip:bob@198.18.0.20:5062>\n";
    ASSERT_EQ(f.feed(test::answer_to(inv, 200, "OK", "b1", extra), f.bob), 1u);
    EXPECT_EQ(f.out[0].transport, sip::transport::tcp);
    EXPECT_EQ(f.out[0].destination, ue);
    const std::string ok = f.sent(0);
    EXPECT_EQ(via_values(ok), (std::vector<std::string>{"SIP/2.0/TCP 198.18.0.9:5060;branch=z9hG4bKt1;received=198.18.0.9;rport=40123"}));
    EXPECT_EQ(parsed(ok).msg.first_contact.get()->addr.address.params.find("transport").value, "tcp");
    EXPECT_EQ(test::values(parsed(ok).msg, sip::header_id::record_route).size(), 2u);
    expect_none_of(ok, inside_hosts, "the 200 to the outside");

    // bob hangs up along both of our Routes, to the caller's Contact of ours: it leaves by TCP.
    const std::string bye = crlf("BYE " + std::string(i.msg.first_contact.get()->addr.address.text) + " SIP/2.0\n"
                                 "Via: SIP/2.0/UDP 198.18.0.20:5062;branch=z9hG4bKb9\n"
                                 "Max-Forwards: 70\nRoute: " + rr[0] + ", " + rr[1] + "\n"
                                 "From: <sip:bob@example.com>;tag=b1\nTo: <sip:alice@example.com>;tag=a1\n"
                                 "Call-ID: topo-tcp-1\nCSeq: 1 BYE\nContent-Length: 0\n\n");
    ASSERT_EQ(f.feed(bye, f.bob), 1u);
    EXPECT_EQ(f.out[0].transport, sip::transport::tcp);
    EXPECT_EQ(f.out[0].destination, addr("198.18.0.9:5060"));
    EXPECT_TRUE(f.sent(0).starts_with("BYE sip:alice@198.18.0.9:5060;transport=tcp SIP/2.0")) << f.sent(0);
    expect_none_of(f.sent(0), inside_hosts, "the BYE to the outside");
}

} // namespace
} // namespace sipfast::proxy
