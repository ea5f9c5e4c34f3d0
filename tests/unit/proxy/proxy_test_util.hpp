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

namespace sipfast::test {

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
    return c;
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
