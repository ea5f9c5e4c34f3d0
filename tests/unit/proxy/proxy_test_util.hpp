// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the proxy tests.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "sipfast/proxy/config.hpp"
#include "sipfast/proxy/net_address.hpp"

namespace sipfast::test {

/// "198.18.0.9:5070" as a net_address (port 5060 when absent); fails the test when malformed.
inline proxy::net_address addr(std::string_view text) {
    proxy::net_address a;
    EXPECT_TRUE(proxy::parse_ip_port(text, 5060, a)) << text;
    return a;
}

/// The proxy the tests talk to: 198.18.0.1:5060, serving example.com, where bob is at
/// 198.18.0.20:5062.
inline proxy::proxy_config test_config(proxy::proxy_mode mode) {
    proxy::proxy_config c;
    c.listen.push_back({sip::transport::udp, addr("198.18.0.1:5060")});
    c.domains = {"example.com"};
    c.mode = mode;
    c.locations.push_back({"bob", "example.com", "sip:bob@198.18.0.20:5062", addr("198.18.0.20:5062")});
    return c;
}

} // namespace sipfast::test
