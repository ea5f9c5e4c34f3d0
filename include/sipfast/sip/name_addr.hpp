// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/sip/params.hpp"
#include "sipfast/sip/parse_error.hpp"
#include "sipfast/sip/uri.hpp"

namespace sipfast::sip {

/// One value of From, To, Contact, Route, Record-Route and the like: `[display-name] <uri>;params`
/// or a bare addr-spec `uri;params` (whose ;params belong to the header, RFC 3261 §20.10).
struct name_addr {
    std::string_view text;          ///< the whole value
    std::string_view display_name;  ///< as written, quotes kept; empty when absent
    uri address;
    param_list params;              ///< header parameters after the address
    std::string_view tag;           ///< the tag parameter, empty when absent
    bool angle_brackets = false;
};

/// Parses one name-addr or addr-spec value and fills tag from its params. With `rest` null the text
/// must hold exactly one value; with `rest` it may be a whole list (Contact, Route, Record-Route,
/// Path): the first value is decoded and `rest` set to what follows its comma (empty after the last).
[[nodiscard]] parse_error parse_name_addr(std::string_view text, name_addr& out,
                                          std::string_view* rest = nullptr) noexcept;

/// Finds the tag parameter of a From or To value without decoding its address, checking only what
/// finding it needs: a display name's quotes closed, the address's angle brackets closed. On every
/// value parse_name_addr accepts, agrees with parse_name_addr's tag.
[[nodiscard]] parse_error find_tag(std::string_view value, std::string_view& tag) noexcept;

/// One Contact value: a name_addr, or "*" (RFC 3261 §20.10), with expires and q decoded.
struct contact {
    name_addr addr;
    bool star = false;
    bool has_expires = false;
    std::uint32_t expires = 0;
    bool has_q = false;
    std::uint16_t q_milli = 0;  ///< q in thousandths, 0..1000
};

/// Parses one Contact value; `rest` as for parse_name_addr.
[[nodiscard]] parse_error parse_contact(std::string_view text, contact& out,
                                        std::string_view* rest = nullptr) noexcept;

} // namespace sipfast::sip
