// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "sipfast/sip/uri.hpp"

namespace sipfast::sip {

/// URI equivalence (RFC 3261 §19.1.4): the same scheme; user and password equal case-sensitively
/// and host case-insensitively, escapes decoded; the same port, an absent port differing from an
/// explicit 5060; the user, ttl, method, maddr and transport parameters equal wherever either URI
/// has one, other parameters only where both have them; headers equal. tel URIs (RFC 3966 §4):
/// the same digits, visual separators ignored, and the same parameters. Other schemes: the same text.
[[nodiscard]] bool uri_equal(const uri& a, const uri& b) noexcept;

} // namespace sipfast::sip
