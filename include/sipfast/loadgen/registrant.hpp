// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "sipfast/core/net_address.hpp"
#include "sipfast/core/timer_wheel.hpp"
#include "sipfast/loadgen/latency_histogram.hpp"
#include "sipfast/loadgen/outbox.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::loadgen {

/// Whom a registrant registers, where, and as what. Views must outlive the registrant.
struct registrant_config {
    std::string_view local_host = "127.0.0.1";  ///< in our Via and the users' Contact
    std::uint16_t local_port = 5070;            ///< the callee's: calls to the users reach it
    core::net_address target;                   ///< the registrar (or a proxy before it)
    std::string_view domain = "127.0.0.1";      ///< the users' domain: Request-URI, From and To host
    std::string_view user_prefix = "user";      ///< users are prefix + number
    std::uint32_t first = 1;                    ///< the first number
    std::uint32_t count = 0;
    std::string_view password;                  ///< every user's; a challenge without one fails
    std::uint32_t expires_s = 3600;
    std::uint32_t window = 64;                  ///< REGISTER transactions in flight at most
    std::uint64_t t1_ns = 500'000'000;
    std::uint64_t t2_ns = 4'000'000'000;
    std::uint32_t run_id = 0;                   ///< in every Call-ID: another run's answers are strays
    bool reliable = false;                      ///< over TCP: Via and Contact say so, nothing is resent
};

/// Why a user's registration failed.
enum class registration_failure : std::uint8_t {
    timeout,          ///< no final response (Timer F, 64*T1)
    rejected,         ///< a final response other than 2xx, 401 or 407
    auth_rejected,    ///< challenged again after our credentials (a wrong password), or no password to give
    bad_challenge,    ///< a 401/407 whose challenge we cannot answer (not Digest, no nonce, an algorithm unknown)
    count_,
};
inline constexpr std::size_t registration_failure_count = static_cast<std::size_t>(registration_failure::count_);

[[nodiscard]] constexpr std::string_view registration_failure_name(registration_failure f) noexcept {
    switch (f) {
    case registration_failure::timeout: return "timeout";
    case registration_failure::rejected: return "rejected";
    case registration_failure::auth_rejected: return "auth_rejected";
    case registration_failure::bad_challenge: return "bad_challenge";
    case registration_failure::count_: break;
    }
    return "?";
}

struct registrant_stats {
    std::uint64_t registered = 0;
    std::array<std::uint64_t, registration_failure_count> failed{};
    std::uint64_t challenges = 0;       ///< 401 and 407 answered with credentials
    std::uint64_t retransmissions = 0;  ///< REGISTERs sent again (Timer E)
    std::uint64_t strays = 0;           ///< responses for no registration in flight
    std::uint64_t unparsable = 0;
    latency_histogram first_to_200;     ///< first REGISTER sent → 200, the challenge's round trip included

    [[nodiscard]] std::uint64_t failures() const noexcept {
        std::uint64_t n = 0;
        for (const std::uint64_t f : failed) n += f;
        return n;
    }
};

/// Registers users prefix+first ... prefix+(first+count-1), each with its Contact at the callee
/// (RFC 3261 §10.2), at most `window` at a time, answering a 401 or 407 with digest credentials
/// (RFC 7616: MD5 or SHA-256, qop=auth when offered) once per user; REGISTERs retransmitted on T1
/// doubling up to T2 over UDP until Timer F (§17.1.2.2). A pure state machine on the caller's
/// clock, like the uac: the driver hands it datagrams and time, it writes what to send into an
/// outbox. Calls to the users then reach the callee through the registrar's lookup.
class registrant {
public:
    registrant(const registrant_config& c, registrant_stats& stats, std::uint64_t now_ns);
    registrant(const registrant&) = delete;
    registrant& operator=(const registrant&) = delete;
    ~registrant();

    /// Sends the first REGISTERs (up to the window).
    void start(std::uint64_t now_ns, outbox& out) noexcept;
    /// A datagram that came to our socket; requests are not ours (false: hand them to the callee).
    bool on_datagram(std::string_view data, std::uint64_t now_ns, outbox& out) noexcept;
    /// Retransmissions and timeouts due by `now_ns`.
    void advance(std::uint64_t now_ns, outbox& out) noexcept;

    /// Every user registered or failed.
    [[nodiscard]] bool done() const noexcept { return finished_ == c_.count; }

    struct user;  // detail: one user's registration; not API

private:
    void send(std::uint32_t u, bool again, outbox& out) noexcept;
    void next(std::uint64_t now_ns, outbox& out) noexcept;
    void end(std::uint32_t u) noexcept;
    void fail(std::uint32_t u, registration_failure why) noexcept;
    void on_response(std::uint32_t u, const sip::message& m, std::uint64_t now_ns, outbox& out) noexcept;
    void arm(std::uint32_t u, std::uint64_t at_ns) noexcept;

    registrant_config c_;
    registrant_stats& stats_;
    std::unique_ptr<user[]> users_;
    core::timer_wheel timers_;
    std::uint32_t started_ = 0;    // users whose first REGISTER went
    std::uint32_t in_flight_ = 0;
    std::uint32_t finished_ = 0;
    std::array<sip::header, 64> slots_{};
};

} // namespace sipfast::loadgen
