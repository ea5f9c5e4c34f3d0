// SPDX-License-Identifier: Apache-2.0
// The workload of the pipeline benchmarks (sipfast-bench-pipeline, sipfast-bench-burst): 64 calls
// of six messages each between alice and bob through a stateless proxy at 198.18.0.1:5060, with
// the branches and Record-Route marks our responses must bring back learned first, run 32 to a
// burst as the kernel backend runs them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sipfast/proxy/pipeline.hpp"

namespace sipfast::bench {

inline std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

inline std::string crlf(std::string s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// A call through the proxy at 198.18.0.1:5060 between alice (198.18.0.9:5070) and bob
// (198.18.0.20:5062), as the messages arrive at it.
inline std::vector<std::string> call(int n) {
    const std::string id = "Call-ID: bench-" + std::to_string(n) + "@198.18.0.9\n";
    const std::string from = "From: \"Alice\" <sip:alice@example.com>;tag=a" + std::to_string(n) + "\n";
    const std::string to = "To: <sip:bob@example.com>\n", to_tagged = "To: <sip:bob@example.com>;tag=b1\n";
    const std::string uac_via = "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKc" + std::to_string(n) + ";rport\n";
    const std::string our_via = "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKsf0000.0123456789abcdef.fedcba9876543210\n";
    const std::string uac_via_rcvd = "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKc" + std::to_string(n) +
                                     ";received=198.18.0.9;rport=5070\n";
    const std::string sdp = "v=0\no=alice 1 1 IN IP4 198.18.0.9\ns=-\nc=IN IP4 198.18.0.9\nt=0 0\n"
                            "m=audio 4000 RTP/AVP 0 8 101\na=rtpmap:0 PCMU/8000\na=rtpmap:8 PCMA/8000\n"
                            "a=rtpmap:101 telephone-event/8000\na=sendrecv\n";
    const std::string body = crlf(sdp);
    const auto with_body = [&](std::string head) {
        return crlf(head + "Content-Type: application/sdp\nContent-Length: " + std::to_string(body.size()) + "\n\n") + body;
    };
    const std::string rr = "Record-Route: <sip:198.18.0.1:5060;lr>\n";
    return {
        with_body("INVITE sip:bob@example.com SIP/2.0\n" + uac_via + "Max-Forwards: 70\n" + from + to + id +
                  "CSeq: 1 INVITE\nContact: <sip:alice@198.18.0.9:5070>\nUser-Agent: bench\n"),
        crlf("SIP/2.0 180 Ringing\n" + our_via + uac_via_rcvd + rr + from + to_tagged + id +
             "CSeq: 1 INVITE\nContact: <sip:bob@198.18.0.20:5062>\nContent-Length: 0\n\n"),
        with_body("SIP/2.0 200 OK\n" + our_via + uac_via_rcvd + rr + from + to_tagged + id +
                  "CSeq: 1 INVITE\nContact: <sip:bob@198.18.0.20:5062>\n"),
        crlf("ACK sip:bob@198.18.0.20:5062 SIP/2.0\n" + uac_via + "Route: <sip:198.18.0.1:5060;lr>\nMax-Forwards: 70\n" +
             from + to_tagged + id + "CSeq: 1 ACK\nContent-Length: 0\n\n"),
        crlf("BYE sip:bob@198.18.0.20:5062 SIP/2.0\n" + uac_via + "Route: <sip:198.18.0.1:5060;lr>\nMax-Forwards: 70\n" +
             from + to_tagged + id + "CSeq: 2 BYE\nContent-Length: 0\n\n"),
        crlf("SIP/2.0 200 OK\n" + our_via + uac_via_rcvd + from + to_tagged + id + "CSeq: 2 BYE\nContent-Length: 0\n\n"),
    };
}

struct call_workload {
    proxy::proxy_config config;
    std::vector<std::string> messages;
    std::unique_ptr<proxy::pipeline> p;
    proxy::outbox out{32 * 4096, 64};
    core::net_address alice, bob;

    enum class limits { off, on, shed } limit = limits::off;

    explicit call_workload(limits l, bool open) : limit(l) {
        core::net_address us;
        (void)core::parse_ip_port("198.18.0.1:5060", 5060, us);
        (void)core::parse_ip_port("198.18.0.9:5070", 5060, alice);
        (void)core::parse_ip_port("198.18.0.20:5062", 5060, bob);
        config.listen.push_back({sip::transport::udp, us});
        config.mode = proxy::proxy_mode::stateless;
        config.domains = {"example.com"};
        config.locations.push_back({"bob", "example.com", "sip:bob@198.18.0.20:5062", bob});
        config.policy.closed = !open;
        if (l == limits::on) config.limits = {4'000'000'000u, 4'000'000'000u, 4'000'000'000u, 4'000'000'000u, 0};
        if (l == limits::shed) config.limits = {1, 1, 0, 0, 0};
        p = std::make_unique<proxy::pipeline>(config, 0);
        for (int n = 0; n < 64; ++n)
            for (std::string& m : call(n)) messages.push_back(std::move(m));
        learn_branches();
    }

    // Our branch carries a MAC under the process's key (a response that does not bring it back is
    // refused): each request is forwarded once here, and the responses that follow it take the
    // branch it left with. Statelessly a request always leaves with the same one.
    void learn_branches() {
        constexpr std::string_view placeholder = "z9hG4bKsf0000.0123456789abcdef.fedcba9876543210";
        proxy::pipeline learner(config, 0);
        constexpr std::string_view our_route = "<sip:198.18.0.1:5060;lr>";
        std::string branch, route;
        for (std::string& m : messages) {
            // So does our Record-Route its dialog's mark, which the route set must bring back.
            if (const std::size_t at = m.find(our_route); at != std::string::npos && !route.empty())
                m.replace(at, our_route.size(), route);
            if (m[0] != 'S') {
                if (m.starts_with("ACK")) continue;
                learner.on_packet(proxy::inbound{m, alice, &config.listen[0], false, 1}, 1, out);
                const std::span<const char> sent = out.size() != 0 ? out.bytes(out[0]) : std::span<const char>{};
                const std::string_view text(sent.data(), sent.size());
                const std::size_t at = text.find("branch=");
                if (const std::size_t rr = text.find("Record-Route: "); rr != std::string_view::npos)
                    route = std::string(text.substr(rr + 14, text.find('\r', rr) - rr - 14));
                const std::size_t end = text.find_first_of(";\r", at);
                branch = at == std::string_view::npos ? std::string() : std::string(text.substr(at + 7, end - at - 7));
                out.clear();
            } else if (const std::size_t at = m.find(placeholder); at != std::string::npos && !branch.empty()) {
                m.replace(at, placeholder.size(), branch);
            }
        }
    }

    // One pass over every message, 32 to a burst; after each burst the backend's step: one clock
    // read, each forwarded message's delay recorded, the outbox emptied.
    std::uint64_t pass() {
        std::uint64_t forwarded = 0;
        for (std::size_t i = 0; i < messages.size(); i += 32) {
            const std::uint64_t received = now_ns();
            for (std::size_t k = i; k < std::min(i + 32, messages.size()); ++k) {
                const std::string& m = messages[k];
                const bool response = m[0] == 'S';
                const proxy::inbound in{m, response ? bob : alice, &config.listen[0], false, received};
                if (limit != limits::off && p->shed(in, received)) continue;  // as proxy::shard does
                (void)p->on_packet(in, received, out);
            }
            const std::uint64_t sent = now_ns();
            for (std::size_t k = 0; k < out.size(); ++k)
                if (out[k].latency != 0) proxy::record_latency(p->stats(), out[k].latency, sent - out[k].received_ns);
            forwarded += out.size();
            out.clear();
        }
        return forwarded;
    }
};

} // namespace sipfast::bench
