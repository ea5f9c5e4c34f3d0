// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the proxy tests.
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "sipfast/proxy/net_address.hpp"

namespace sipfast::test {

/// "198.18.0.9:5070" as a net_address (port 5060 when absent); fails the test when malformed.
inline proxy::net_address addr(std::string_view text) {
    proxy::net_address a;
    EXPECT_TRUE(proxy::parse_ip_port(text, 5060, a)) << text;
    return a;
}

} // namespace sipfast::test
