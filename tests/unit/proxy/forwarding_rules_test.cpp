// SPDX-License-Identifier: Apache-2.0
// The proxy's forwarding rules (RFC 3261 §16.3 step 3, §16.6, §18.2.1, RFC 3581) pinned on what
// goes out on the wire, with traffic shaped like the field's: a caller behind NAT whose Via says
// 10.0.0.5:5060 while its packets come from 198.18.0.9:40000, Max-Forwards on the edge (1 and 0),
// every dialog-forming method, initial and in-dialog requests, in both modes.
//
// Each one-line mutation below was applied to src/proxy/pipeline.cpp by hand (never committed),
// the tests rebuilt and run: the tests named fail on it. (The older pipeline, stateful and transport
// tests pass on every one of them but the rport case of (e).)
//   (a) `m.max_forwards == 0` -> `<= 1`
//         MaxForwards.OneIsForwardedAsZeroAndZeroIsRefused, MaxForwards.AnAckIsForwardedAtOne...,
//         OptionsToUs.AnsweredWithAllowWhateverTheMaxForwards, RecordRoute.OnlyInitialDialogForming...
//   (b) `if (options_for_us) return refuse(200, "OK", allow_lines);` under Max-Forwards 0 deleted
//         OptionsToUs.AnsweredWithAllowWhateverTheMaxForwards
//   (c) `initial = true`, or `!initial` dropped from the Record-Route condition
//         RecordRoute.OnlyInitialDialogFormingRequests
//   (d) `dialog_forming = m.method == sip::method::invite` (or `= true`)
//         RecordRoute.OnlyInitialDialogFormingRequests
//   (e) `differs = false` (received never added), `= true` (always), `= same_ip(...)` (inverted)
//         ViaReceived.FilledInWhenTheSentByIsNotTheSource (never, inverted: also
//         ResponseRouting.BackThroughTheNatTheRequestCameThrough); the empty rport filled in without
//         received: both, and Pipeline.ForwardsToTheLocationOfOurDomain
//   (f) `parse_ip(next.host, ...)` (received ignored), rport value ignored for the port
//         ResponseRouting.ByTheNextViasReceivedAndRport, ResponseRouting.BackThroughTheNat...
//   (g) is in transaction_matching_test.cpp.
//   (h) answer_address() returning `in.source` (the sent-by port ignored), or the sent-by port taken
//       with rport too
//         OwnAnswers.OverUdpToTheSourceAtTheSentByPortUnlessRport
#include "sipfast/proxy/pipeline.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sipfast/sip/parser.hpp"
#include "sipfast/txn/branch.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;
using test::values;
using test::crlf;
using test::parsed;

constexpr proxy_mode both_modes[] = {proxy_mode::stateless, proxy_mode::stateful};
const char* name(proxy_mode m) { return m == proxy_mode::stateless ? "stateless" : "stateful"; }

// The caller behind NAT: its Via names its private address, its packets come from the NAT's.
constexpr std::string_view nat_via = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport";
net_address at(std::string_view ip_port) {  // for constants, outside any test
    net_address a;
    (void)parse_ip_port(ip_port, 5060, a);
    return a;
}
const net_address nat_source = at("198.18.0.9:40000");
const net_address bob = at("198.18.0.20:5062");  // bob@example.com in test_config

// One request as a UA would send it; the defaults make an initial INVITE to bob@example.com.
struct req {
    std::string_view method = "INVITE";
    std::string_view ruri = "sip:bob@example.com";
    std::string_view via = nat_via;
    std::string_view max_forwards = "70";  // "" leaves the header out
    std::string_view to_tag = "";          // "" for an initial request
    std::string_view extra = "";           // more header lines, each ending in "\n"
};

std::string text(const req& r) {
    return test::request_text({.method = r.method, .ruri = r.ruri, .via = r.via, .max_forwards = r.max_forwards,
                               .to_tag = r.to_tag, .extra = r.extra, .call_id = "nat-1@10.0.0.5",
                               .contact = "<sip:alice@10.0.0.5:5060>"});
}

// An in-dialog request: to bob's Contact, through the route set our Record-Route made, To tagged.
req in_dialog(std::string_view method) {
    return req{.method = method, .ruri = "sip:bob@198.18.0.20:5062", .to_tag = "b1",
               .extra = "Route: <sip:198.18.0.1:5060;lr>\n"};
}

struct wire {
    net_address to;
    std::string text;
};

// The test proxy (198.18.0.1:5060, bob at 198.18.0.20:5062) in one mode.
struct proxy_under_test : test::pipeline_driver {
    explicit proxy_under_test(proxy_mode mode) : pipeline_driver(test::test_config(mode)) {
        config.transactions_per_shard = 64;  // hundreds of these are made: small tables
        config.dialogs_per_shard = 64;
        p = std::make_unique<pipeline>(config, 0);
    }
    std::size_t feed(const std::string& datagram, net_address from) { return feed_at(datagram, from, &config.listen[0]); }
    // What went out, split into requests and responses.
    std::vector<wire> sent_where(bool requests) const {
        std::vector<wire> v;
        for (std::size_t i = 0; i < out.size(); ++i) {
            parsed m(sent(i));
            EXPECT_TRUE(m.result.ok()) << sent(i);
            if (m.msg.is_request() == requests) v.push_back({out[i].destination, sent(i)});
        }
        return v;
    }
    std::vector<wire> requests() const { return sent_where(true); }
    std::vector<wire> responses() const { return sent_where(false); }
};

// The callee's answer to what the proxy forwarded: its Vias, From, Call-ID, CSeq; To with a tag.
std::string answer(const std::string& forwarded, int status, std::string_view reason) {
    parsed f(forwarded);
    std::string r = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    for (const sip::header& h : f.msg.headers)
        if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
            h.id == sip::header_id::cseq || h.id == sip::header_id::record_route)
            r += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
    r += "To: Bob <sip:bob@example.com>;tag=b1\r\nContent-Length: 0\r\n\r\n";
    return r;
}

// ---- (a) §16.3 step 3 / §16.6 step 3: Max-Forwards ---------------------------------------------

TEST(MaxForwards, OneIsForwardedAsZeroAndZeroIsRefused) {
    struct row {
        std::string_view max_forwards;
        int forwarded_as;  // -1: refused with 483
    };
    constexpr row rows[] = {{"0", -1}, {"1", 0}, {"2", 1}, {"70", 69}, {"", 70}};
    std::vector<req> requests;
    for (std::string_view m : {"INVITE", "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "OPTIONS", "INFO"})
        requests.push_back(req{.method = m});
    for (std::string_view m : {"INVITE", "BYE", "NOTIFY", "UPDATE"}) requests.push_back(in_dialog(m));
    for (const proxy_mode mode : both_modes) {
        for (const req& base : requests) {
            for (const row& r : rows) {
                req q = base;
                q.max_forwards = r.max_forwards;
                SCOPED_TRACE(std::string(name(mode)) + " " + std::string(q.method) + (q.to_tag.empty() ? "" : " in dialog") +
                             ", Max-Forwards '" + std::string(r.max_forwards) + "'");
                proxy_under_test proxy(mode);
                proxy.feed(text(q), nat_source);
                const std::vector<wire> fwd = proxy.requests();
                const std::vector<wire> back = proxy.responses();
                if (r.forwarded_as < 0) {
                    EXPECT_TRUE(fwd.empty());
                    ASSERT_EQ(back.size(), 1u);
                    EXPECT_EQ(back[0].to, nat_source);  // rport: where it came from
                    EXPECT_EQ(parsed(back[0].text).msg.status_code, 483);
                    continue;
                }
                ASSERT_EQ(fwd.size(), 1u);
                EXPECT_EQ(fwd[0].to, bob);
                parsed m(fwd[0].text);
                ASSERT_TRUE(m.msg.has_max_forwards);
                EXPECT_EQ(m.msg.max_forwards, static_cast<std::uint32_t>(r.forwarded_as));
                EXPECT_EQ(values(m.msg, sip::header_id::max_forwards),
                          std::vector<std::string>{std::to_string(r.forwarded_as)});
                for (const wire& w : back) EXPECT_EQ(parsed(w.text).msg.status_code, 100);  // stateful INVITE
            }
        }
    }
}

TEST(MaxForwards, AnAckIsForwardedAtOneAndDroppedSilentlyAtZero) {
    for (const proxy_mode mode : both_modes) {
        SCOPED_TRACE(name(mode));
        proxy_under_test proxy(mode);
        req ack = in_dialog("ACK");
        ack.max_forwards = "1";
        ASSERT_EQ(proxy.feed(text(ack), nat_source), 1u);
        ASSERT_EQ(proxy.requests().size(), 1u);
        EXPECT_EQ(proxy.requests()[0].to, bob);
        EXPECT_EQ(parsed(proxy.sent()).msg.max_forwards, 0u);
        ack.max_forwards = "0";
        EXPECT_EQ(proxy.feed(text(ack), nat_source), 0u);  // an ACK is never answered (§17.2.3)
    }
}

// ---- (b) §11 and §16.3 step 3: OPTIONS to the proxy itself -------------------------------------

TEST(OptionsToUs, AnsweredWithAllowWhateverTheMaxForwards) {
    struct row {
        std::string_view ruri;
        std::string_view max_forwards;
        int status;  // 0: forwarded
    };
    constexpr row rows[] = {
        {"sip:198.18.0.1:5060", "0", 200},
        {"sip:198.18.0.1", "0", 200},  // no port: 5060, ours
        {"sip:198.18.0.1:5060", "1", 200},
        {"sip:198.18.0.1:5060", "70", 200},
        {"sip:198.18.0.1:5060", "", 200},
        {"sip:bob@198.18.0.1:5060", "0", 483},  // a user part: not for us but for bob
        {"sip:bob@example.com", "0", 483},
        {"sip:198.18.0.1:5070", "0", 483},      // another port: another endpoint
        {"sip:bob@example.com", "1", 0},
    };
    for (const proxy_mode mode : both_modes) {
        for (const row& r : rows) {
            SCOPED_TRACE(std::string(name(mode)) + " OPTIONS " + std::string(r.ruri) + ", Max-Forwards '" +
                         std::string(r.max_forwards) + "'");
            proxy_under_test proxy(mode);
            ASSERT_EQ(proxy.feed(text(req{.method = "OPTIONS", .ruri = r.ruri, .max_forwards = r.max_forwards}), nat_source),
                      1u);
            if (r.status == 0) {
                ASSERT_EQ(proxy.requests().size(), 1u);
                EXPECT_EQ(proxy.out[0].destination, bob);
                continue;
            }
            ASSERT_EQ(proxy.responses().size(), 1u);
            EXPECT_EQ(proxy.out[0].destination, nat_source);
            parsed answer(proxy.sent());
            ASSERT_TRUE(answer.result.ok());
            EXPECT_EQ(answer.msg.status_code, r.status);
            if (r.status != 200) continue;
            const sip::header* allow = answer.msg.find(sip::header_id::allow);
            ASSERT_NE(allow, nullptr);
            for (std::string_view m : {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "SUBSCRIBE", "NOTIFY", "REFER"})
                EXPECT_NE(allow->value.find(m), std::string_view::npos) << m;
        }
    }
}

// ---- (c), (d) §16.6 step 4: Record-Route -------------------------------------------------------

TEST(RecordRoute, OnlyInitialDialogFormingRequests) {
    struct row {
        req request;
        bool record_routed;
    };
    const row rows[] = {
        {req{.method = "INVITE"}, true},
        {req{.method = "SUBSCRIBE"}, true},
        {req{.method = "NOTIFY"}, true},
        {req{.method = "REFER"}, true},
        {req{.method = "MESSAGE"}, false},
        {req{.method = "OPTIONS"}, false},
        {req{.method = "INFO"}, false},
        {req{.method = "INVITE", .max_forwards = "1"}, true},
        {in_dialog("INVITE"), false},
        {in_dialog("SUBSCRIBE"), false},
        {in_dialog("NOTIFY"), false},
        {in_dialog("REFER"), false},
        {in_dialog("BYE"), false},
        {in_dialog("MESSAGE"), false},
        {in_dialog("UPDATE"), false},
        // In dialog with no Route (a UA that ignored our Record-Route): still not record-routed.
        {req{.method = "INVITE", .ruri = "sip:bob@198.18.0.20:5062", .to_tag = "b1"}, false},
        {req{.method = "NOTIFY", .ruri = "sip:bob@198.18.0.20:5062", .to_tag = "b1"}, false},
    };
    for (const proxy_mode mode : both_modes) {
        for (const row& r : rows) {
            SCOPED_TRACE(std::string(name(mode)) + " " + std::string(r.request.method) +
                         (r.request.to_tag.empty() ? " initial" : " in dialog") +
                         (r.request.extra.empty() ? "" : " with our Route"));
            proxy_under_test proxy(mode);
            proxy.feed(text(r.request), nat_source);
            const std::vector<wire> fwd = proxy.requests();
            ASSERT_EQ(fwd.size(), 1u);
            EXPECT_EQ(fwd[0].to, bob);
            parsed m(fwd[0].text);
            ASSERT_TRUE(m.result.ok()) << fwd[0].text;
            EXPECT_EQ(m.msg.find(sip::header_id::route), nullptr);  // ours, popped
            if (r.record_routed)
                EXPECT_EQ(values(m.msg, sip::header_id::record_route),
                          std::vector<std::string>{test::marked("<sip:198.18.0.1:5060;lr>", m.msg.call_id)});
            else
                EXPECT_EQ(values(m.msg, sip::header_id::record_route), std::vector<std::string>{});
        }
    }
}

// ---- (e) RFC 3261 §18.2.1 and RFC 3581 §4: received and rport on the Via we forward -------------

TEST(ViaReceived, FilledInWhenTheSentByIsNotTheSource) {
    struct row {
        std::string_view via;
        net_address source;
        std::string_view forwarded;  // the caller's Via as it leaves (under ours)
    };
    const row rows[] = {
        // Behind NAT, no rport: received only.
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9"},
        {"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1", nat_source, "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1;received=198.18.0.9"},
        {"SIP/2.0/UDP uac.example.org:5060;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/UDP uac.example.org:5060;branch=z9hG4bKnat1;received=198.18.0.9"},
        // Behind NAT, rport asked for: both filled in, where the empty rport stood.
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
        {"SIP/2.0/UDP 10.0.0.5:5060;rport;branch=z9hG4bKnat1", nat_source,
         "SIP/2.0/UDP 10.0.0.5:5060;received=198.18.0.9;rport=40000;branch=z9hG4bKnat1"},
        // The sent-by host is the source: nothing added without rport, whatever the port.
        {"SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bKnat1", nat_source, "SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bKnat1"},
        {"SIP/2.0/UDP 198.18.0.9:40000;branch=z9hG4bKnat1", nat_source, "SIP/2.0/UDP 198.18.0.9:40000;branch=z9hG4bKnat1"},
        {"SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKnat1", addr("198.18.0.9:5060"), "SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKnat1"},
        // ... and with rport, RFC 3581 §4 says received goes in even then.
        {"SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bKnat1;rport", nat_source,
         "SIP/2.0/UDP 198.18.0.9:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000"},
    };
    for (const proxy_mode mode : both_modes) {
        for (const std::string_view method : {"INVITE", "MESSAGE"}) {
            for (const row& r : rows) {
                SCOPED_TRACE(std::string(name(mode)) + " " + std::string(method) + " Via: " + std::string(r.via));
                proxy_under_test proxy(mode);
                proxy.feed(text(req{.method = method, .via = r.via}), r.source);
                const std::vector<wire> fwd = proxy.requests();
                ASSERT_EQ(fwd.size(), 1u);
                EXPECT_EQ(fwd[0].to, bob);
                parsed m(fwd[0].text);
                const std::vector<std::string> vias = values(m.msg, sip::header_id::via);
                ASSERT_EQ(vias.size(), 2u);
                EXPECT_EQ(vias[0].substr(0, 42), "SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK");
                EXPECT_EQ(vias[1], r.forwarded);
            }
        }
    }
}

// ---- (f) RFC 3261 §18.2.2 / RFC 3581 §4: where a response goes ----------------------------------

TEST(ResponseRouting, ByTheNextViasReceivedAndRport) {
    // A response with our Via on top that matches no transaction of ours (in stateful mode too:
    // §16.7 forwards it statelessly) goes by the Via under ours, when our branch vouches for it.
    struct row {
        std::string_view next_via;
        net_address to;
    };
    const row rows[] = {
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;received=198.18.0.9;rport=40000", nat_source},
        {"SIP/2.0/UDP 10.0.0.5:5060;rport=40000;received=198.18.0.9;branch=z9hG4bKnat1", nat_source},
        {"SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKnat1;received=198.18.0.9", addr("198.18.0.9:5070")},
        {"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1;received=198.18.0.9", addr("198.18.0.9:5060")},
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1;rport=40000", nat_source},
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1", addr("198.18.0.9:5070")},
        {"SIP/2.0/UDP 198.18.0.9;branch=z9hG4bKnat1", addr("198.18.0.9:5060")},
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1;rport", addr("198.18.0.9:5070")},  // never filled in
    };
    // Our stateless branch for this call, as we would have made it forwarding its MESSAGE.
    const std::string our_via = "SIP/2.0/UDP 198.18.0.1:5060;branch=" +
                                std::string(txn::our_branch::stateless(0, 0x0123456789abcdef, {"nat-1@10.0.0.5", 1}, 0x42).text());
    for (const proxy_mode mode : both_modes) {
        for (const row& r : rows) {
            for (const bool one_line : {false, true}) {
                SCOPED_TRACE(std::string(name(mode)) + " next Via: " + std::string(r.next_via) +
                             (one_line ? " (in our Via's line)" : ""));
                const std::string vias = one_line ? "Via: " + std::string(our_via) + ", " + std::string(r.next_via) + "\n"
                                                  : "Via: " + std::string(our_via) + "\nVia: " + std::string(r.next_via) + "\n";
                const std::string response = crlf("SIP/2.0 200 OK\n" + vias +
                                                  "From: Alice <sip:alice@example.com>;tag=a1\n"
                                                  "To: Bob <sip:bob@example.com>;tag=b1\n"
                                                  "Call-ID: nat-1@10.0.0.5\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n");
                proxy_under_test proxy(mode);
                ASSERT_EQ(proxy.feed(response, bob), 1u);
                EXPECT_EQ(proxy.out[0].destination, r.to);
                // The same with another call's Call-ID: our branch does not vouch for it.
                std::string stray = response;
                stray.replace(stray.find("nat-1@"), 6, "nat-2@");
                EXPECT_EQ(proxy.feed(stray, bob), 0u);
                EXPECT_EQ(proxy.p->stats().dropped(drop_cause::unverified), 1u);
                parsed back(proxy.sent());
                EXPECT_EQ(back.msg.status_code, 200);
                EXPECT_EQ(values(back.msg, sip::header_id::via), std::vector<std::string>{std::string(r.next_via)});
            }
        }
    }
}

TEST(ResponseRouting, BackThroughTheNatTheRequestCameThrough) {
    // The whole path: the caller's request forwarded, the callee's answers coming back.
    struct row {
        std::string_view via;
        net_address to;
    };
    const row rows[] = {
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport", nat_source},                 // rport: the NAT's port
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1", addr("198.18.0.9:5060")},          // received, sent-by port
        {"SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKnat1", addr("198.18.0.9:5070")},
        {"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1", addr("198.18.0.9:5060")},
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1", addr("198.18.0.9:5070")},       // no NAT, another port
    };
    for (const proxy_mode mode : both_modes) {
        for (const std::string_view method : {"INVITE", "MESSAGE"}) {
            for (const row& r : rows) {
                SCOPED_TRACE(std::string(name(mode)) + " " + std::string(method) + " Via: " + std::string(r.via));
                proxy_under_test proxy(mode);
                proxy.feed(text(req{.method = method, .via = r.via}), nat_source);
                for (const wire& w : proxy.responses()) EXPECT_EQ(w.to, r.to) << w.text;  // a stateful 100
                const std::vector<wire> fwd = proxy.requests();
                ASSERT_EQ(fwd.size(), 1u);
                const std::string forwarded = fwd[0].text;
                for (const int status : {180, 200}) {
                    if (status == 180 && method != "INVITE") continue;
                    ASSERT_EQ(proxy.feed(answer(forwarded, status, status == 180 ? "Ringing" : "OK"), bob), 1u) << status;
                    EXPECT_EQ(proxy.out[0].destination, r.to) << status;
                    parsed back(proxy.sent());
                    EXPECT_EQ(back.msg.status_code, status);
                    ASSERT_EQ(values(back.msg, sip::header_id::via).size(), 1u);
                    EXPECT_EQ(back.msg.top_via.branch, "z9hG4bKnat1");
                }
            }
        }
    }
}

// ---- (h) RFC 3261 §18.2.2 / RFC 3581 §4: where the proxy's own answers go ------------------------

// What the proxy answers itself rather than forwarding.
struct own_answer {
    std::string_view note;
    req request;
    int status;
};

std::vector<own_answer> own_answers(std::string_view via) {
    return {
        {"unknown user of our domain", req{.ruri = "sip:zoe@example.com", .via = via}, 404},
        {"Max-Forwards 0", req{.via = via, .max_forwards = "0"}, 483},
        {"unsupported scheme", req{.ruri = "mailto:bob@example.com", .via = via}, 416},
        {"Proxy-Require", req{.via = via, .extra = "Proxy-Require: foo\n"}, 420},
        {"transport=sctp", req{.ruri = "sip:carol@198.18.0.40;transport=sctp", .via = via}, 503},
        {"OPTIONS to us", req{.method = "OPTIONS", .ruri = "sip:198.18.0.1:5060", .via = via}, 200},
        {"MESSAGE to an unknown user", req{.method = "MESSAGE", .ruri = "sip:zoe@example.com", .via = via}, 404},
        {"SUBSCRIBE at Max-Forwards 0", req{.method = "SUBSCRIBE", .via = via, .max_forwards = "0"}, 483},
    };
}

TEST(OwnAnswers, OverUdpToTheSourceAtTheSentByPortUnlessRport) {
    struct row {
        std::string_view via;
        net_address source;
        net_address to;
    };
    const row rows[] = {
        // rport asked for: the source address and port, the NAT's mapping.
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1;rport", nat_source, nat_source},
        {"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1;rport", nat_source, nat_source},
        {"SIP/2.0/UDP 198.18.0.9:5070;rport;branch=z9hG4bKnat1", nat_source, nat_source},
        // No rport: the source address (received), at the port of the sent-by, 5060 when it has none.
        {"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKnat1", nat_source, addr("198.18.0.9:5060")},
        {"SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKnat1", nat_source, addr("198.18.0.9:5070")},
        {"SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnat1", nat_source, addr("198.18.0.9:5060")},
        {"SIP/2.0/UDP uac.example.org:5080;branch=z9hG4bKnat1", nat_source, addr("198.18.0.9:5080")},
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1", nat_source, addr("198.18.0.9:5070")},
        {"SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKnat1", addr("198.18.0.9:5070"), addr("198.18.0.9:5070")},
    };
    for (const proxy_mode mode : both_modes) {
        // One proxy for every row: it keeps no state for what it answers itself.
        proxy_under_test proxy(mode);
        for (const row& r : rows) {
            for (const own_answer& a : own_answers(r.via)) {
                SCOPED_TRACE(std::string(name(mode)) + " " + std::string(a.note) + ", Via: " + std::string(r.via));
                ASSERT_EQ(proxy.feed(text(a.request), r.source), 1u);
                ASSERT_EQ(proxy.responses().size(), 1u);
                EXPECT_EQ(proxy.out[0].destination, r.to);
                EXPECT_EQ(proxy.out[0].transport, sip::transport::udp);
                parsed back(proxy.sent());
                EXPECT_EQ(back.msg.status_code, a.status);
                EXPECT_EQ(back.msg.top_via.branch, "z9hG4bKnat1");
            }
        }
    }
}

TEST(OwnAnswers, OverTcpOnTheConnectionTheRequestCameBy) {
    const std::string_view vias[] = {
        "SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1;rport",
        "SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bKnat1",
        "SIP/2.0/TCP 198.18.0.9:5070;branch=z9hG4bKnat1",
    };
    for (const proxy_mode mode : both_modes) {
        proxy_config c = test::test_config(mode);
        c.listen.push_back({sip::transport::tcp, addr("198.18.0.1:5060")});
        c.transactions_per_shard = 64;
        c.dialogs_per_shard = 64;
        test::pipeline_driver proxy(c);
        proxy.p = std::make_unique<pipeline>(proxy.config, 0);
        for (const std::string_view via : vias) {
            for (const own_answer& a : own_answers(via)) {
                SCOPED_TRACE(std::string(name(mode)) + " " + std::string(a.note) + ", Via: " + std::string(via));
                ASSERT_EQ(proxy.feed_at(text(a.request), nat_source, &proxy.config.listen[1]), 1u);
                EXPECT_EQ(proxy.out[0].destination, nat_source);
                EXPECT_EQ(proxy.out[0].transport, sip::transport::tcp);
                parsed back(proxy.sent());
                EXPECT_EQ(back.msg.status_code, a.status);
            }
        }
    }
}

} // namespace
} // namespace sipfast::proxy
