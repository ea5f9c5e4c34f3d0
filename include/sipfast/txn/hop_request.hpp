// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "sipfast/sip/message.hpp"

namespace sipfast::txn {

/// Writes a request the proxy sends on its own along a forwarded INVITE's path: a CANCEL (RFC 3261
/// §9.1) or the ACK of a 300-699 answer (§17.1.1.3). It takes the INVITE's Request-URI, top Via (our
/// own, so it matches the INVITE's branch), From, Call-ID, Route and CSeq number with `method`; To is
/// `to_value` when given (the answer's, with the callee's tag, for an ACK), else the INVITE's.
/// Returns the bytes written, 0 when `out` is too small.
[[nodiscard]] std::size_t write_hop_request(const sip::message& invite, std::string_view method,
                                            std::string_view to_value, std::span<char> out) noexcept;

} // namespace sipfast::txn
