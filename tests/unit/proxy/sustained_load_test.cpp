// SPDX-License-Identifier: Apache-2.0
// The embedded default's transaction memory under sustained load: calls for longer than Timer J
// keeps a BYE's transaction (32 s), on a simulated clock, so every slot and stored copy the load
// needs at its steady state is in use at once.
#include <gtest/gtest.h>

#include <string>

#include "proxy_test_util.hpp"
#include "sipfast/sip/header_id.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::crlf;
using test::parsed;


// The callee's answer to what the proxy forwarded: every Via, From, To with the callee's tag,
// Call-ID, CSeq, and a Contact.
std::string answer(const std::string& forwarded, int status) {
    parsed f(forwarded);
    std::string r = "SIP/2.0 " + std::to_string(status) + (status == 180 ? " Ringing" : " OK") + "\r\n";
    for (const sip::header& h : f.msg.headers) {
        if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
            h.id == sip::header_id::cseq || h.id == sip::header_id::record_route)
            r += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
        if (h.id == sip::header_id::to)
            r += "To: " + std::string(h.value) + (f.msg.to.tag.empty() ? ";tag=b" : "") + "\r\n";
    }
    return r + "Contact: <sip:bob@198.18.0.20:5062>\r\nContent-Length: 0\r\n\r\n";
}

std::string request(std::string_view method, std::string_view ruri, unsigned call, unsigned cseq, bool in_dialog) {
    const std::string id = std::to_string(call);
    return crlf(std::string(method) + " " + std::string(ruri) + " SIP/2.0\n"
                "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bK-" + id + "-" + std::to_string(cseq) + ";rport\n"
                "Max-Forwards: 70\n" + (in_dialog ? "Route: <sip:198.18.0.1:5060;lr>\n" : "") +
                "From: Alice <sip:alice@example.com>;tag=a" + id + "\n"
                "To: Bob <sip:bob@example.com>" + (in_dialog ? ";tag=b" : "") + "\n"
                "Call-ID: " + id + "@198.18.0.9\n"
                "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\n"
                "Contact: <sip:alice@198.18.0.9:5070>\n"
                "Content-Length: 0\n\n");
}

// `rate` calls a second for 40 s through the default's memory budget, with topology hiding or not.
void carry(unsigned rate, bool hide) {
    // proxy_config's defaults are the embedded default's (etc/sipfast.toml names no table size).
    test::pipeline_driver d(test::test_config(proxy_mode::stateful));
    d.config.memory_per_shard = proxy_config{}.memory_per_shard;  // the default's budget, not the tests' small one
    d.config.hide_topology = hide;
    d.p = std::make_unique<pipeline>(d.config, 0);
    const net_address uac = test::addr("198.18.0.9:5070");
    const net_address uas = test::addr("198.18.0.20:5062");
    const listen_point* at = &d.config.listen[0];
    // Each answer the callee gets is checked to be the forwarded request it answers.
    const auto forwarded_to = [&](const net_address& to) {
        for (std::size_t i = 0; i < d.out.size(); ++i)
            if (d.out[i].destination == to) return d.sent(i);
        return std::string();
    };
    const auto status_to_uac = [&] {
        int s = 0;
        for (std::size_t i = 0; i < d.out.size(); ++i)
            if (d.out[i].destination == uac) s = parsed(d.sent(i)).msg.status_code;
        return s;
    };
    constexpr unsigned seconds = 40;  // past Timer J (32 s): BYE transactions now expire as fast as they come
    unsigned completed = 0;
    std::size_t peak = 0;
    for (unsigned call = 0; call < rate * seconds; ++call) {
        d.now = std::uint64_t{call} * (1'000'000'000 / rate);
        if (call % 5 == 0) d.p->on_tick(d.now, d.out);
        d.feed_at(request("INVITE", "sip:bob@example.com", call, 1, false), uac, at);
        const std::string invite = forwarded_to(uas);
        ASSERT_FALSE(invite.empty()) << "call " << call << " was refused: " << d.sent();
        d.feed_at(answer(invite, 180), uas, at);
        d.feed_at(answer(invite, 200), uas, at);
        ASSERT_EQ(status_to_uac(), 200) << "call " << call;
        d.feed_at(request("ACK", "sip:bob@198.18.0.20:5062", call, 1, true), uac, at);
        ASSERT_FALSE(forwarded_to(uas).empty()) << "call " << call;
        d.feed_at(request("BYE", "sip:bob@198.18.0.20:5062", call, 2, true), uac, at);
        const std::string bye = forwarded_to(uas);
        ASSERT_FALSE(bye.empty()) << "call " << call << " BYE was refused: " << d.sent();
        d.feed_at(answer(bye, 200), uas, at);
        ASSERT_EQ(status_to_uac(), 200) << "call " << call;
        ++completed;
        peak = std::max(peak, d.p->transactions());
    }
    EXPECT_EQ(completed, rate * seconds);
    EXPECT_EQ(d.p->stats().dropped(drop_cause::table_full), 0u);
    // At the steady state a BYE's transaction lives 32 s: 160 000 at once, each keeping only its 200.
    // Hiding keeps the INVITE's as long (Timer L), and each keeps its Vias too.
    EXPECT_GE(peak, rate * (hide ? 64 : 32) * 9 / 10);
    EXPECT_LE(d.p->stored_bytes(), peak * 512 + (1 << 20));
    std::fprintf(stderr, "peak %zu transactions of %zu slots, %zu bytes stored\n", peak, d.p->transaction_capacity(),
                 d.p->stored_bytes());
}

TEST(SustainedLoad, TheDefaultCarries5000CallsASecondPastTimerJ) { carry(5000, false); }

// docs/configuration.md, [topology]: about half as many with topology hiding (the INVITE's slot is
// kept 32 s too); its ACK reuses the INVITE's branch and must go on all the same.
TEST(SustainedLoad, WithTopologyHidingTheDefaultCarries2500CallsASecond) { carry(2500, true); }

} // namespace
} // namespace sipfast::proxy
