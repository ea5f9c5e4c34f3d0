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

/// A transport by name, for test traces.
inline const char* name(sip::transport t) {
    switch (t) {
    case sip::transport::unknown: return "unknown";
    case sip::transport::udp: return "udp";
    case sip::transport::tcp: return "tcp";
    case sip::transport::tls: return "tls";
    case sip::transport::sctp: return "sctp";
    default: return "other";
    }
}

inline proxy::proxy_config stage_config() { return test_config(proxy::proxy_mode::stateless); }


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
