// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

namespace sipfast::sip {

/// Request methods the proxy treats specially; any other token is `other` (RFC 3261 §7.1:
/// unknown methods are legal and forwarded like OPTIONS).
enum class method : std::uint8_t {
    other = 0, invite, ack, bye, cancel, register_, options, info, prack, subscribe, notify,
    update, message, refer, publish,
};

/// The method named by a token. Methods are case-sensitive (RFC 3261 §7.1).
[[nodiscard]] method classify_method(std::string_view token) noexcept;

/// The token of a known method ("INVITE"); "" for other.
[[nodiscard]] std::string_view method_name(method m) noexcept;

} // namespace sipfast::sip
