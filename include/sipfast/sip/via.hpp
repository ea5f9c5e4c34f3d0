// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string_view>

#include "sipfast/sip/params.hpp"
#include "sipfast/sip/parse_error.hpp"
#include "sipfast/sip/uri.hpp"

namespace sipfast::sip {

enum class transport : std::uint8_t { unknown = 0, udp, tcp, tls, sctp, ws, wss };

/// The transport named by a Via transport token or a transport= parameter (case-insensitive).
[[nodiscard]] transport classify_transport(std::string_view token) noexcept;

/// How a Via carries rport (RFC 3581): absent, present without value (a request asking for it),
/// or with the port filled in.
enum class rport_state : std::uint8_t { absent = 0, empty, value };

/// One via-parm (RFC 3261 §20.42): sent-protocol, sent-by and the parameters a proxy uses.
struct via {
    std::string_view text;
    std::string_view protocol_name;     ///< "SIP"
    std::string_view protocol_version;  ///< "2.0"
    std::string_view transport_text;    ///< as written ("UDP")
    sip::transport transport = sip::transport::unknown;
    std::string_view host;              ///< IPv6 references keep their brackets
    host_kind host_type = host_kind::none;
    std::uint16_t port = 0;             ///< 0 when absent
    bool has_port = false;
    std::string_view branch;
    std::string_view received;
    std::string_view maddr;
    rport_state rport = rport_state::absent;
    std::uint16_t rport_value = 0;
    bool has_ttl = false;
    std::uint8_t ttl = 0;
    param_list params;
};

/// Parses one via-parm. With `rest` null the text must hold exactly one; with `rest`, the text may
/// be a whole Via header value: the first via-parm is decoded and `rest` is set to what follows its
/// comma (empty after the last), so a caller walks the list without splitting it first.
[[nodiscard]] parse_error parse_via(std::string_view text, via& out,
                                    std::string_view* rest = nullptr) noexcept;

} // namespace sipfast::sip
