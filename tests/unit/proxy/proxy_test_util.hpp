// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the proxy tests.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sipfast/proxy/config.hpp"
#include "sipfast/core/net_address.hpp"
#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/txn/branch.hpp"
#include "test_util.hpp"

namespace sipfast::test {

/// Our Record-Route value `rr` ("<sip:198.18.0.1:5060;lr>") as the proxy writes it for a dialog of
/// `call_id`: with its dialog mark before the closing bracket.
inline std::string marked(std::string_view rr, std::string_view call_id) {
    core::text<16> mark;
    txn::write_dialog_mark(call_id, mark);
    std::string s(rr);
    s.insert(s.size() - 1, ";sfd=" + std::string(mark.view()));
    return s;
}

/// "198.18.0.9:5070" as a net_address (port 5060 when absent); fails the test when malformed.
inline core::net_address addr(std::string_view text) {
    core::net_address a;
    EXPECT_TRUE(core::parse_ip_port(text, 5060, a)) << text;
    return a;
}

/// The proxy the tests talk to: 198.18.0.1:5060, serving example.com, where bob is at
/// 198.18.0.20:5062.
inline proxy::proxy_config test_config(proxy::proxy_mode mode) {
    proxy::proxy_config c;
    c.listen.push_back({sip::transport::udp, addr("198.18.0.1:5060")});
    c.domains = {"example.com"};
    c.mode = mode;
    // Tests build hundreds of pipelines: a small transaction budget keeps each cheap (meson's
    // MALLOC_PERTURB_ writes every byte malloc hands out, the whole message arena included).
    c.memory_per_shard = std::size_t{16} << 20;
    c.locations.push_back({"bob", "example.com", "sip:bob@198.18.0.20:5062", addr("198.18.0.20:5062")});
    // Everyone here is a trusted neighbour; tests of the relay policy take them out.
    c.policy.peers.push_back({{addr("198.18.0.0"), 15}, {}});
    return c;
}

/// One request as a UA (or the proxy before us) would send it; the defaults make an initial
/// INVITE to bob@example.com from a UA at 198.18.0.9:5070 that asks for rport.
struct request_spec {
    std::string_view method = "INVITE";
    std::string_view ruri = "sip:bob@example.com";
    std::string_view via = "SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKuac1;rport";
    std::string_view max_forwards = "70";  ///< "" leaves the header out
    std::string_view to_tag = "";          ///< "" for an initial request
    std::string_view extra = "";           ///< more header lines, each ending in "\n"
    std::string_view body = "";
    std::string_view call_id = "stage-1@198.18.0.9";
    std::string_view contact = "<sip:alice@198.18.0.9:5070>";
};

inline std::string request_text(const request_spec& r) {
    const std::string method(r.method);
    std::string s = method + " " + std::string(r.ruri) + " SIP/2.0\n";
    s += "Via: " + std::string(r.via) + "\n";
    if (!r.max_forwards.empty()) s += "Max-Forwards: " + std::string(r.max_forwards) + "\n";
    s += std::string(r.extra);
    s += "From: Alice <sip:alice@example.com>;tag=a1\n";
    s += "To: Bob <sip:bob@example.com>" + (r.to_tag.empty() ? std::string() : ";tag=" + std::string(r.to_tag)) + "\n";
    s += "Call-ID: " + std::string(r.call_id) + "\n";
    s += "CSeq: 1 " + method + "\n";
    s += "Contact: " + std::string(r.contact) + "\n";
    if (method == "SUBSCRIBE" || method == "NOTIFY") s += "Event: presence\n";
    if (method == "NOTIFY") s += "Subscription-State: active;expires=600\n";
    if (method == "REFER") s += "Refer-To: <sip:carol@example.com>\n";
    s += "Content-Length: " + std::to_string(r.body.size()) + "\n\n";
    return crlf(s) + std::string(r.body);
}

/// Every comma-separated value of every `id` header of m, in order.
inline std::vector<std::string> values(const sip::message& m, sip::header_id id) {
    std::vector<std::string> v;
    m.for_each_value(id, [&](std::string_view s) {
        v.emplace_back(s);
        return true;
    });
    return v;
}

/// A callee's answer to what the proxy forwarded to it: every Via, From, Call-ID and CSeq of it, To
/// with `to_tag` (none when empty), then `extra` header lines (LF line ends).
inline std::string answer_to(const std::string& forwarded, int status, std::string_view reason, std::string_view to_tag,
                             std::string_view extra = "") {
    const parsed f(forwarded);
    std::string r = "SIP/2.0 " + std::to_string(status) + " " + std::string(reason) + "\r\n";
    for (const sip::header& h : f.msg.headers)
        if (h.id == sip::header_id::via || h.id == sip::header_id::from || h.id == sip::header_id::call_id ||
            h.id == sip::header_id::cseq)
            r += std::string(h.name) + ": " + std::string(h.value) + "\r\n";
    r += "To: Bob <sip:bob@example.com>" + (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) + "\r\n";
    return r + crlf(std::string(extra)) + "Content-Length: 0\r\n\r\n";
}

/// A pipeline driven by hand with a fake clock: what each test fixture feeds and reads back.
struct pipeline_driver {
    static constexpr std::uint64_t ms = 1'000'000;
    proxy::proxy_config config;
    proxy::outbox out{1 << 16, 64};
    std::unique_ptr<proxy::pipeline> p;
    std::uint64_t now = 0;

    explicit pipeline_driver(proxy::proxy_config c) : config(std::move(c)) {}
    /// One message in from `from` at `local`; returns how many messages it produced.
    std::size_t feed_at(const std::string& text, core::net_address from, const proxy::listen_point* local) {
        out.clear();
        p->on_packet(proxy::inbound{text, from, local}, now, out);
        return out.size();
    }
    /// Runs the clock to `to` in 10 ms steps; returns what the timers sent.
    std::size_t tick(std::uint64_t to) {
        out.clear();
        for (; now < to; now += 10 * ms) p->on_tick(now, out);
        now = to;
        p->on_tick(now, out);
        return out.size();
    }
    [[nodiscard]] std::string sent(std::size_t i = 0) const {
        const auto b = out.bytes(out[i]);
        return std::string(b.data(), b.size());
    }
};

} // namespace sipfast::test
