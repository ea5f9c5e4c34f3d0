// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "sipfast/core/net_address.hpp"
#include "sipfast/core/timer_wheel.hpp"
#include "sipfast/loadgen/outbox.hpp"
#include "sipfast/loadgen/stats.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::loadgen {

struct uas_config {
    std::string_view local_host = "127.0.0.1";  ///< in our Contact
    std::uint16_t local_port = 5070;
    std::string_view user = "service";          ///< in our Contact
    std::uint64_t t1_ns = 500'000'000;
    std::uint64_t t2_ns = 4'000'000'000;
    std::uint32_t capacity = 4096;              ///< 200s awaiting their ACK at most (rounded to 2^k)
    bool send_100 = false;                      ///< 100 Trying before the 180 (SIPp's callee sends none)
    bool ims = false;                           ///< IMS-sized SDP answer
};

/// The called side: to an INVITE 180 and 200 at once (100 before them if asked), the 200 sent again
/// on T1 doubling up to T2 until its ACK comes (RFC 3261 §13.3.1.4) or 64*T1 passes; 200 to BYE.
/// To-tags are derived from the Call-ID, so a retransmitted INVITE gets the same answer even when
/// no state was kept for it. The 200s awaiting an ACK live in a table sized at construction.
class uas {
public:
    uas(const uas_config& c, uas_stats& stats, std::uint64_t now_ns);
    uas(const uas&) = delete;
    uas& operator=(const uas&) = delete;
    ~uas();

    /// A datagram from `from`; answers go back to it.
    void on_datagram(std::string_view data, const core::net_address& from, std::uint64_t now_ns, outbox& out) noexcept;
    /// Retransmits the 200s whose ACK is late, drops those never ACKed.
    void advance(std::uint64_t now_ns, outbox& out) noexcept;

    [[nodiscard]] std::size_t awaiting_ack() const noexcept { return active_; }

    struct entry;  // detail: a 200 awaiting its ACK; not API

private:
    [[nodiscard]] std::uint32_t find(std::uint64_t key) const noexcept;
    void on_invite(const sip::message& m, std::uint64_t key, const core::net_address& from, std::uint64_t now_ns, outbox& out) noexcept;
    void release(std::uint32_t i) noexcept;

    uas_config c_;
    uas_stats& stats_;
    std::size_t mask_;
    std::unique_ptr<entry[]> entries_;
    std::unique_ptr<char[]> texts_;
    std::size_t active_ = 0;
    core::timer_wheel timers_;
    std::array<sip::header, 96> slots_{};
};

} // namespace sipfast::loadgen
