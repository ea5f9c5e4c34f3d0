// SPDX-License-Identifier: Apache-2.0
// What a REGISTER does to the bindings of its address-of-record (RFC 3261 §10.3 steps 6 to 8,
// RFC 5626 §6): a pure function of the request, the bindings and the clock.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sipfast/registrar/binding.hpp"

namespace sipfast::registrar {

struct registrar_limits {
    std::uint32_t min_expires_s = 60;       ///< shorter non-zero requests are refused 423
    std::uint32_t max_expires_s = 7200;     ///< longer ones are granted this
    std::uint32_t default_expires_s = 3600; ///< when neither the contact nor Expires says
    std::uint32_t max_bindings = 10;        ///< per address-of-record
};

/// One Contact value of a REGISTER.
struct contact_request {
    std::string_view uri;        ///< the URI alone, without the header's parameters
    std::string_view params;     ///< the header's parameters as written (the 200 echoes them but expires)
    std::string_view instance;   ///< +sip.instance, quotes kept as written
    std::uint32_t reg_id = 0;
    bool has_expires = false;
    std::uint32_t expires_s = 0;
    bool has_q = false;
    std::uint16_t q_milli = 0;
};

/// A REGISTER as the rules need it.
struct register_request {
    bool star = false;  ///< Contact: *
    std::span<const contact_request> contacts;
    bool has_expires = false;  ///< the Expires header
    std::uint32_t expires_s = 0;
    std::string_view call_id;
    std::uint32_t cseq = 0;
    std::span<const std::string_view> path;
    flow received;
};

enum class register_fault : std::uint8_t {
    none,
    star_not_alone,      ///< 400: "*" with other contacts, or with an Expires other than 0
    bad_contact,         ///< 400: a Contact URI that does not parse
    too_brief,           ///< 423: a non-zero expiry under min_expires_s
    out_of_order,        ///< 500: an older CSeq of the same Call-ID (§10.3 step 7)
    too_many_bindings,   ///< 403: more than max_bindings would remain
    not_stored,          ///< 503: the store could not make the change durable; nothing changed
};

/// The status and reason phrase the registrar answers a fault with.
struct fault_answer {
    int status;
    std::string_view reason;
};
[[nodiscard]] fault_answer answer_for(register_fault f) noexcept;

/// Applies `r` to `bindings` at `now_ns`, all or nothing: on a fault `bindings` is as it was. Lapsed
/// bindings are dropped. A REGISTER with the same Call-ID and CSeq as the one that last refreshed a
/// binding is its retransmission: it changes nothing and gets the same 200 (the registrar answers
/// without a transaction, RFC 3261 §17.2.3 would otherwise have absorbed it).
[[nodiscard]] register_fault apply_register(const register_request& r, std::vector<binding>& bindings,
                                            std::uint64_t now_ns, const registrar_limits& limits);

/// Bindings in the order requests try them: highest q first (no q counts as 1.0), then the one
/// that lapses last (the most recently refreshed, at equal expiries).
void order_by_preference(std::vector<binding>& bindings);

} // namespace sipfast::registrar
