// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sipfast/core/net_address.hpp"
#include "sipfast/sip/via.hpp"

namespace sipfast::registrar {

/// Where a REGISTER came from (RFC 5626 §5.2, RFC 3581): requests for the binding can go back
/// this way when its contact cannot be reached directly (a private address, ;ob).
struct flow {
    sip::transport transport = sip::transport::udp;
    core::net_address source;
};

/// One moment on both clocks the registrar reads. Bindings lapse on the monotonic clock, so a step of
/// the wall clock (NTP, an operator) moves no expiry while the process runs; a store that outlives the
/// process, or is shared with other machines, can keep expiries only on the wall clock, and converts
/// between the two with a reading of both taken together.
struct instant {
    std::uint64_t monotonic_ns = 0;
    std::int64_t unix_ns = 0;  ///< nanoseconds since 1970-01-01 UTC
};

/// One contact of an address-of-record (RFC 3261 §10.3), as the registrar keeps it.
struct binding {
    std::string contact;         ///< the Contact URI as the user agent wrote it
    std::string params;          ///< the Contact's header parameters but expires, as written (feature tags)
    std::string instance;        ///< +sip.instance (RFC 5626), empty when absent
    std::uint32_t reg_id = 0;    ///< reg-id (RFC 5626), 0 when absent
    std::uint16_t q_milli = 0;   ///< q in thousandths; meaningful when has_q
    bool has_q = false;
    std::uint64_t expires_ns = 0;  ///< when it lapses, on the registrar's monotonic clock
    std::string call_id;         ///< of the REGISTER that last refreshed it (§10.3 step 7)
    std::uint32_t cseq = 0;
    std::vector<std::string> path;  ///< Path values (RFC 3327), in the order received
    flow received;

    [[nodiscard]] bool live(std::uint64_t now_ns) const noexcept { return now_ns < expires_ns; }
    /// Seconds left, rounded up (the expires a 200 reports).
    [[nodiscard]] std::uint32_t seconds_left(std::uint64_t now_ns) const noexcept {
        return now_ns >= expires_ns ? 0 : static_cast<std::uint32_t>((expires_ns - now_ns + 999'999'999) / 1'000'000'000);
    }
};

} // namespace sipfast::registrar
