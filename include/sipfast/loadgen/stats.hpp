// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sipfast/core/counter.hpp"
#include "sipfast/loadgen/latency_histogram.hpp"

namespace sipfast::loadgen {

/// Why a call failed, as the caller saw it.
enum class failure : std::uint8_t {
    invite_timeout,   ///< no final response to the INVITE in time (Timer B, or --timeout once proceeding)
    invite_rejected,  ///< a final response other than 2xx to the INVITE (the status is counted too)
    bye_timeout,      ///< no final response to the BYE (Timer F)
    bye_rejected,     ///< a final response other than 2xx to the BYE
    table_full,       ///< the call was due but every call slot was taken: offered, never sent
    dialog_too_big,   ///< the 200's route set and Contact did not fit a call slot
    unfinished,       ///< still in progress when the run ended
    count_,
};
inline constexpr std::size_t failure_count = static_cast<std::size_t>(failure::count_);

[[nodiscard]] constexpr std::string_view failure_name(failure f) noexcept {
    switch (f) {
    case failure::invite_timeout: return "invite_timeout";
    case failure::invite_rejected: return "invite_rejected";
    case failure::bye_timeout: return "bye_timeout";
    case failure::bye_rejected: return "bye_rejected";
    case failure::table_full: return "table_full";
    case failure::dialog_too_big: return "dialog_too_big";
    case failure::unfinished: return "unfinished";
    case failure::count_: break;
    }
    return "?";
}

/// A caller's counts: one writer (its thread), read live by the reporter.
struct uac_stats {
    core::counter offered;         ///< calls due by the pacing (started + table_full)
    core::counter started;         ///< INVITEs sent (first transmissions)
    core::counter completed;       ///< calls ended by the 200 to our BYE or by the far end's BYE
    core::counter ended_by_peer;   ///< of which the far end hung up
    std::array<core::counter, failure_count> failed{};
    std::array<core::counter, 7> rejected_by_class{};  ///< invite_rejected by status / 100 (3..6)
    core::counter challenges;      ///< 401s and 407s to an INVITE answered with credentials
    core::counter retransmissions; ///< INVITE, BYE and ACK sent again
    core::counter responses_retransmitted;  ///< a final response that came again (2xx: ACKed again)
    core::counter strays;          ///< messages for no call of ours (or of an old one)
    core::counter unparsable;      ///< datagrams the parser refused
    latency_histogram invite_to_180;  ///< first INVITE sent → first 180/183
    latency_histogram invite_to_200;  ///< first INVITE sent → 200
    latency_histogram bye_to_200;     ///< first BYE sent → 200

    [[nodiscard]] std::uint64_t failures() const noexcept {
        std::uint64_t n = 0;
        for (const auto& c : failed) n += c.get();
        return n;
    }
};

/// A callee's counts.
struct uas_stats {
    core::counter invites;          ///< new INVITEs answered
    core::counter completed;        ///< BYEs answered 200
    core::counter acks;             ///< ACKs that ended a 200's retransmissions
    core::counter retransmissions;  ///< 200s sent again for want of an ACK (Timer G's doubling)
    core::counter requests_retransmitted;  ///< an INVITE or BYE that came again, answered again
    core::counter ack_timeouts;     ///< 200s never ACKed (64*T1)
    core::counter untracked;        ///< INVITEs answered without retransmission state: table full
    core::counter strays;
    core::counter unparsable;
};

} // namespace sipfast::loadgen
