// SPDX-License-Identifier: Apache-2.0
// The decoders behind parse_uri, parse_via, parse_name_addr and parse_contact, for callers whose
// output is already value-initialised (the parser clears the message once). Private.
//
// The public parse_* reset their output by copying a constant, not a temporary: `out = via{}`
// builds the temporary with narrow stores and copies it with wide loads, each of which waits for
// the stores it spans (store forwarding fails), about 20 ns for a Via.
#pragma once

#include <string_view>

#include "sipfast/sip/name_addr.hpp"
#include "sipfast/sip/parse_error.hpp"
#include "sipfast/sip/uri.hpp"
#include "sipfast/sip/via.hpp"

namespace sipfast::sip::detail {

[[nodiscard]] parse_error decode_uri(std::string_view text, uri& out) noexcept;
[[nodiscard]] parse_error decode_via(std::string_view text, via& out, std::string_view* rest) noexcept;
[[nodiscard]] parse_error decode_name_addr(std::string_view text, name_addr& out, std::string_view* rest) noexcept;
[[nodiscard]] parse_error decode_contact(std::string_view text, contact& out, std::string_view* rest) noexcept;

} // namespace sipfast::sip::detail
