// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "sipfast/registrar/register_rules.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::registrar {

inline constexpr std::size_t max_contacts_per_register = 16;
inline constexpr std::size_t max_path_values = 8;

/// Room for what one REGISTER names; views point into the message.
struct register_room {
    std::array<contact_request, max_contacts_per_register> contacts{};
    std::array<std::string_view, max_path_values> path{};
};

/// Reads a REGISTER's Contact values (every Contact header, every comma-separated value), its
/// Expires, Call-ID, CSeq and Path values into `out` (RFC 3261 §10.3, RFC 3327, RFC 5626 §6).
/// bad_contact for a Contact that does not parse, too_many_bindings past the room.
[[nodiscard]] register_fault read_register(const sip::message& m, const flow& received, register_room& room,
                                           register_request& out) noexcept;

} // namespace sipfast::registrar
