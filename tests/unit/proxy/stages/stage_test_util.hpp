// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the tests that drive one request stage at a time (validate, local routing,
// local services, target resolution, forward) without a pipeline.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sipfast/proxy/location.hpp"
#include "sipfast/proxy/request_context.hpp"
#include "sipfast/proxy/stages/forward.hpp"
#include "sipfast/proxy/stages/local_route.hpp"
#include "sipfast/proxy/stages/local_services.hpp"
#include "sipfast/proxy/stages/target.hpp"
#include "sipfast/proxy/stages/validate.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::test {

/// test_config (UDP 198.18.0.1:5060, example.com, bob at 198.18.0.20:5062) plus a TCP listen point
/// on the same address: listen[1].
inline proxy::proxy_config with_tcp(proxy::proxy_config c) {
    c.listen.push_back({sip::transport::tcp, addr("198.18.0.1:5060")});
    return c;
}

/// Adds a UDP listen point on [2001:db8::1]:5060.
inline proxy::proxy_config with_udp6(proxy::proxy_config c) {
    c.listen.push_back({sip::transport::udp, addr("[2001:db8::1]:5060")});
    return c;
}

inline proxy::proxy_config stage_config() { return test_config(proxy::proxy_mode::stateless); }

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
};

inline std::string request_text(const request_spec& r) {
    const std::string method(r.method);
    std::string s = method + " " + std::string(r.ruri) + " SIP/2.0\n";
    s += "Via: " + std::string(r.via) + "\n";
    if (!r.max_forwards.empty()) s += "Max-Forwards: " + std::string(r.max_forwards) + "\n";
    s += std::string(r.extra);
    s += "From: Alice <sip:alice@example.com>;tag=a1\n";
    s += "To: Bob <sip:bob@example.com>" + (r.to_tag.empty() ? std::string() : ";tag=" + std::string(r.to_tag)) + "\n";
    s += "Call-ID: stage-1@198.18.0.9\n";
    s += "CSeq: 1 " + method + "\n";
    s += "Contact: <sip:alice@198.18.0.9:5070>\n";
    if (method == "SUBSCRIBE" || method == "NOTIFY") s += "Event: presence\n";
    if (method == "NOTIFY") s += "Subscription-State: active;expires=600\n";
    if (method == "REFER") s += "Refer-To: <sip:carol@example.com>\n";
    s += "Content-Length: " + std::to_string(r.body.size()) + "\n\n";
    return crlf(s) + std::string(r.body);
}

/// One received request and everything a stage reads: the configuration in force, the parse, the
/// inbound it came in (from `source`, at listen point `arrived_at`), an editor reset on its text,
/// our identity, the location service of the configuration and the request_context the stages
/// share. Not movable: the context points into the members.
struct stage_run {
    proxy::proxy_config config;
    parsed p;
    proxy::inbound in;
    sip::message_editor editor;
    proxy::local_identity local;
    proxy::static_locations locations;
    proxy::request_context ctx;

    stage_run(proxy::proxy_config c, std::string_view text, core::net_address source, std::size_t arrived_at = 0)
        : config(std::move(c)), p(text), in{p.text, source, &config.listen.at(arrived_at)}, local(config),
          locations(config.locations), ctx(in, p.msg, editor, local) {
        EXPECT_TRUE(p.result.ok()) << text;
        editor.reset(std::string_view(p.text).substr(0, p.result.consumed));
    }
    stage_run(proxy::proxy_config c, const request_spec& r, core::net_address source = addr("198.18.0.9:5070"),
              std::size_t arrived_at = 0)
        : stage_run(std::move(c), request_text(r), source, arrived_at) {}
    stage_run(const stage_run&) = delete;
    stage_run& operator=(const stage_run&) = delete;

    /// validate then route_locally, as the pipeline chains them: what resolve_target and
    /// serve_locally need (ruri_is_us, target, next_route, left_by). Both must go on.
    void validated_and_routed() {
        const proxy::verdict v = proxy::validate(ctx);
        ASSERT_TRUE(v.go_on()) << v.status << " " << v.reason;
        const proxy::verdict r = proxy::route_locally(ctx);
        ASSERT_TRUE(r.go_on()) << r.status << " " << r.reason;
    }
    /// Every stage before forward, in the pipeline's order; the first verdict that stops, or next.
    proxy::verdict up_to_target() {
        proxy::verdict v = proxy::validate(ctx);
        if (v.go_on()) v = proxy::route_locally(ctx);
        if (v.go_on()) v = proxy::serve_locally(ctx);
        if (v.go_on()) v = proxy::resolve_target(ctx, locations);
        return v;
    }

    /// The message as the edits so far make it.
    [[nodiscard]] std::string edited() const {
        std::string out(editor.size(), '\0');
        EXPECT_EQ(editor.serialize(out), out.size());
        return out;
    }
};

inline std::string str(core::net_address a) {
    std::array<char, 48> buf{};
    return std::string(core::format_host(a, buf)) + ":" + std::to_string(a.port);
}

} // namespace sipfast::test
