// SPDX-License-Identifier: Apache-2.0
// RFC 3261 §17.2.3 in the stateful proxy: a request matches a server transaction by its top Via's
// branch AND sent-by (host and port) AND method (ACK as INVITE). The packet's source is not part
// of it. Two callers behind different NATs that pick the same branch are two transactions; a
// retransmission that comes back through a rebound NAT port is the same one. Pinned on the wire:
// what is forwarded, and where the answers go.
//
// Each one-line mutation below was applied to src/proxy/pipeline.cpp by hand (never committed),
// the tests rebuilt and run: the tests named fail on it. (The older pipeline, stateful and transport
// tests pass on both.)
//   (g) the key of open_transaction() without the sent-by: `{branch, "|", method}`
//         TransactionMatching.BranchSentByAndMethod, TransactionMatching.EachCallerGetsItsOwnAnswer
//   (g') the key without the sent-by port only
//         TransactionMatching.BranchSentByAndMethod (rows "another port on the same host")
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

std::string request(std::string_view method, std::string_view via) {
    return crlf(std::string(method) + " sip:bob@example.com SIP/2.0\n"
                "Via: " + std::string(via) + "\n"
                "Max-Forwards: 70\n"
                "From: Alice <sip:alice@example.com>;tag=a1\n"
                "To: Bob <sip:bob@example.com>\n"
                "Call-ID: same-call@example.com\n"
                "CSeq: 1 " + std::string(method) + "\n"
                "Contact: <sip:alice@10.0.0.5:5060>\n"
                "Content-Length: 0\n\n");
}

struct wire {
    net_address to;
    std::string text;
};

struct proxy_under_test : test::pipeline_driver {
    proxy_under_test() : pipeline_driver(test::test_config(proxy_mode::stateful)) {
        config.transactions_per_shard = 64;
        config.dialogs_per_shard = 64;
        p = std::make_unique<pipeline>(config, 0);
    }
    std::vector<wire> feed(const std::string& datagram, net_address from) {
        feed_at(datagram, from, &config.listen[0]);
        std::vector<wire> v;
        for (std::size_t i = 0; i < out.size(); ++i) v.push_back({out[i].destination, sent(i)});
        return v;
    }
};

TEST(TransactionMatching, BranchSentByAndMethod) {
    const net_address bob = addr("198.18.0.20:5062");
    struct row {
        const char* note;
        std::string_view first_method, first_via;
        net_address first_source;
        std::string_view second_method, second_via;
        net_address second_source;
        bool same_transaction;
    };
    const row rows[] = {
        {"another host behind another NAT", "INVITE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport",
         addr("198.18.0.9:40000"), "INVITE", "SIP/2.0/UDP 10.0.0.6:5060;branch=z9hG4bKsame;rport", addr("198.18.0.10:40000"),
         false},
        {"another host behind the same NAT", "INVITE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport",
         addr("198.18.0.9:40000"), "INVITE", "SIP/2.0/UDP 10.0.0.6:5060;branch=z9hG4bKsame;rport", addr("198.18.0.9:40002"),
         false},
        {"another port on the same host", "INVITE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport",
         addr("198.18.0.9:40000"), "INVITE", "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKsame;rport", addr("198.18.0.9:40002"),
         false},
        {"another port on the same host, non-INVITE", "MESSAGE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport",
         addr("198.18.0.9:40000"), "MESSAGE", "SIP/2.0/UDP 10.0.0.5:5062;branch=z9hG4bKsame;rport", addr("198.18.0.9:40002"),
         false},
        {"another host, non-INVITE", "MESSAGE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame",
         addr("198.18.0.9:40000"), "MESSAGE", "SIP/2.0/UDP 10.0.0.6:5060;branch=z9hG4bKsame", addr("198.18.0.10:40000"),
         false},
        {"another method", "MESSAGE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport", addr("198.18.0.9:40000"),
         "OPTIONS", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport", addr("198.18.0.9:40000"), false},
        // The same sent-by: a retransmission, wherever the NAT now sends it from.
        {"a retransmission", "INVITE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport", addr("198.18.0.9:40000"),
         "INVITE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport", addr("198.18.0.9:40000"), true},
        {"a retransmission through a rebound NAT port", "INVITE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport",
         addr("198.18.0.9:40000"), "INVITE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport", addr("198.18.0.9:41000"),
         true},
        {"a retransmission, sent-by port left out (5060)", "MESSAGE", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame",
         addr("198.18.0.9:40000"), "MESSAGE", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKsame", addr("198.18.0.9:40000"), true},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.note);
        proxy_under_test proxy;
        const std::vector<wire> first = proxy.feed(request(r.first_method, r.first_via), r.first_source);
        std::string first_branch;
        for (const wire& w : first)
            if (w.to == bob) first_branch = parsed(w.text).msg.top_via.branch;
        ASSERT_FALSE(first_branch.empty());

        const std::vector<wire> second = proxy.feed(request(r.second_method, r.second_via), r.second_source);
        std::vector<wire> forwarded, answered;
        for (const wire& w : second) (parsed(w.text).msg.is_request() ? forwarded : answered).push_back(w);
        if (r.same_transaction) {
            // Absorbed: not forwarded again (an INVITE's 100 is sent again).
            EXPECT_TRUE(forwarded.empty());
            for (const wire& w : answered) EXPECT_EQ(parsed(w.text).msg.status_code, 100);
            EXPECT_EQ(answered.size(), r.second_method == "INVITE" ? 1u : 0u);
            continue;
        }
        // A transaction of its own: forwarded with a branch of its own; its 100 goes to its sender.
        ASSERT_EQ(forwarded.size(), 1u);
        EXPECT_EQ(forwarded[0].to, bob);
        parsed fwd(forwarded[0].text);
        EXPECT_NE(fwd.msg.top_via.branch, first_branch);
        EXPECT_EQ(fwd.msg.method, parsed(request(r.second_method, r.second_via)).msg.method);
        for (const wire& w : answered) {
            EXPECT_EQ(parsed(w.text).msg.status_code, 100);
            EXPECT_EQ(w.to, r.second_source);
        }
        EXPECT_EQ(answered.size(), r.second_method == "INVITE" ? 1u : 0u);
    }
}

TEST(TransactionMatching, EachCallerGetsItsOwnAnswer) {
    // Two callers behind two NATs, the same branch: bob answers each; each answer goes back to
    // the caller that sent that request, not both to the first.
    const net_address bob = addr("198.18.0.20:5062");
    const net_address one = addr("198.18.0.9:40000"), two = addr("198.18.0.10:40000");
    proxy_under_test proxy;
    std::string to_bob[2];
    int k = 0;
    for (const auto& [via, source] : {std::pair{"SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKsame;rport", one},
                                      std::pair{"SIP/2.0/UDP 10.0.0.6:5060;branch=z9hG4bKsame;rport", two}}) {
        for (const wire& w : proxy.feed(request("MESSAGE", via), source))
            if (w.to == bob) to_bob[k] = w.text;
        ASSERT_FALSE(to_bob[k].empty()) << k;
        ++k;
    }
    for (int i : {1, 0}) {
        parsed f(to_bob[i]);
        std::string ok = "SIP/2.0 200 OK\r\n";
        for (const sip::header& h : f.msg.headers)
            if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
                h.id == sip::header_id::cseq)
                ok += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
        ok += "To: Bob <sip:bob@example.com>;tag=b1\r\nContent-Length: 0\r\n\r\n";
        const std::vector<wire> back = proxy.feed(ok, bob);
        ASSERT_EQ(back.size(), 1u) << i;
        EXPECT_EQ(back[0].to, i == 0 ? one : two) << i;
        EXPECT_EQ(parsed(back[0].text).msg.top_via.host, i == 0 ? "10.0.0.5" : "10.0.0.6") << i;
    }
}

} // namespace
} // namespace sipfast::proxy
