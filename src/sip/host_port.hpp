// SPDX-License-Identifier: Apache-2.0
// host [":" port] read in place, shared by the URI and Via decoders. Private.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sipfast/sip/parse_error.hpp"
#include "sipfast/sip/uri.hpp"

namespace sipfast::sip::detail {

/// Reads host [":" port] starting at s[i] and stops at the first character that cannot continue it;
/// `end` is its index. IPv6 references keep their brackets.
[[nodiscard]] parse_error host_port_at(std::string_view s, std::size_t i, std::string_view& host,
                                       host_kind& kind, std::uint16_t& port, bool& has_port,
                                       std::size_t& end) noexcept;

} // namespace sipfast::sip::detail
