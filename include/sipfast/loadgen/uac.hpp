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

/// What a caller is and whom it calls. Views must outlive the uac.
struct uac_config {
    std::string_view local_host = "127.0.0.1";  ///< as written in our Via and Contact
    std::uint16_t local_port = 0;               ///< where responses come back (our socket's port)
    /// Ports from local_port on that the calls take in turn, by call slot (slot % local_ports), in
    /// their Via and Contact and as datagram::from_port: one flow per call for a driver whose
    /// receiver spreads flows over queues (sipfast-dpdk --generate, RSS). 1: local_port alone.
    std::uint16_t local_ports = 1;
    core::net_address target;                   ///< where every request goes (a proxy, or a UAS)
    std::string_view request_host = "127.0.0.1:5060";  ///< host[:port] of the Request-URI and To
    std::string_view user = "service";          ///< whom we call; with `users`, their common prefix
    std::uint32_t users = 0;                    ///< 0: `user` alone; else user+first_user ... in turn (registered users)
    std::uint32_t first_user = 1;
    /// With `users`: each call is between two of them, from user+(n+1) to user+n (both of
    /// `request_host`'s domain), and a 401 or 407 to its INVITE is answered once with digest
    /// credentials for this password (RFC 3261 §22.2, RFC 7616), in a new INVITE (CSeq 2).
    std::string_view password;
    std::string_view from_user = "loadgen";
    std::uint64_t hold_ns = 0;                  ///< from the 200 to our BYE
    std::uint64_t t1_ns = 500'000'000;          ///< RFC 3261 T1: first retransmission interval
    std::uint64_t t2_ns = 4'000'000'000;        ///< RFC 3261 T2: cap of non-INVITE retransmissions
    std::uint64_t timeout_ns = 0;               ///< INVITE and BYE transaction timeout; 0: 64*T1
    std::uint32_t capacity = 4096;              ///< calls in progress at most
    std::uint32_t run_id = 0;                   ///< in every Call-ID: another run's answers are strays
    std::uint16_t thread = 0;                   ///< in every Call-ID: another thread's answers are strays
    bool ims = false;                           ///< IMS-sized INVITE (the headers of a VoLTE call)
    bool reliable = false;                      ///< over TCP: Via says so, no retransmissions
};

/// The calling side of calls: INVITE with SDP, ACK on 2xx, BYE after the hold time, 200 to the far
/// end's BYE; INVITE and BYE retransmitted on T1 doubling (RFC 3261 §17.1.1.2 Timer A, §17.1.2.2
/// Timer E, capped at T2) until answered or timed out (Timer B, F). A pure state machine: the driver
/// hands it the clock and the datagrams, it writes what to send into an outbox. Calls live in a
/// table sized at construction, one timer each; nothing is allocated per call.
///
/// Each call's Call-ID holds the run, the thread, its slot and the slot's generation, so an answer
/// finds its call without a lookup and an answer for a call that ended is a stray, not a mix-up.
class uac {
public:
    uac(const uac_config& c, uac_stats& stats, std::uint64_t now_ns);
    uac(const uac&) = delete;
    uac& operator=(const uac&) = delete;
    ~uac();

    /// Starts a call (counted as offered); false when every slot is taken (failure table_full).
    bool start_call(std::uint64_t now_ns, outbox& out) noexcept;
    /// A datagram that came to our socket.
    void on_datagram(std::string_view data, std::uint64_t now_ns, outbox& out) noexcept;
    /// Fires the timers due by `now_ns`: retransmissions, timeouts, BYEs after the hold time.
    void advance(std::uint64_t now_ns, outbox& out) noexcept;
    /// Ends every call in progress as failed (unfinished): the end of a run.
    void abandon_all() noexcept;

    [[nodiscard]] std::size_t in_progress() const noexcept { return in_progress_; }
    /// Memory per call slot, for sizing.
    [[nodiscard]] static std::size_t bytes_per_call() noexcept;

    /// The slot and generation a Call-ID of this run and thread names; false for any other.
    [[nodiscard]] bool decode_call_id(std::string_view call_id, std::uint32_t& slot, std::uint32_t& generation) const noexcept;

    struct call;  // detail: a call slot; not API

private:
    void send_invite(std::uint32_t i, bool again, std::uint64_t now_ns, outbox& out) noexcept;
    void send_ack(std::uint32_t i, outbox& out) noexcept;
    void send_bye(std::uint32_t i, bool again, outbox& out) noexcept;
    void send_non2xx_ack(std::uint32_t i, const sip::message& m, outbox& out) noexcept;
    bool answer_challenge(std::uint32_t i, const sip::message& m, std::uint64_t now_ns, outbox& out) noexcept;
    void write_caller(core::text_writer& w, std::uint32_t i) const noexcept;
    void write_dialog_ids(core::text_writer& w, std::uint32_t i) const noexcept;
    void on_response(std::uint32_t i, const sip::message& m, std::uint64_t now_ns, outbox& out) noexcept;
    void on_request(const sip::message& m, outbox& out) noexcept;
    bool keep_dialog(std::uint32_t i, const sip::message& m) noexcept;
    void arm(std::uint32_t i, std::uint64_t deadline_ns) noexcept;
    [[nodiscard]] std::uint64_t first_retransmission(std::uint64_t now_ns, std::uint64_t deadline_ns) const noexcept;
    void finish(std::uint32_t i) noexcept;
    void fail(std::uint32_t i, failure why) noexcept;
    void on_timer(std::uint32_t i, std::uint64_t now_ns, outbox& out) noexcept;
    void write_ids(core::text_writer& w, std::uint32_t i, char branch_kind) const noexcept;
    [[nodiscard]] std::uint16_t port_of(std::uint32_t i) const noexcept;

    uac_config c_;
    uac_stats& stats_;
    std::unique_ptr<call[]> calls_;
    std::unique_ptr<std::uint32_t[]> free_;
    std::uint32_t free_count_ = 0;
    std::size_t in_progress_ = 0;
    core::timer_wheel timers_;
    std::array<sip::header, 96> slots_{};
    std::array<char, 48> call_id_tail_{};  // "@" + local host, clipped
    std::uint8_t call_id_tail_len_ = 0;
    [[nodiscard]] std::string_view tail() const noexcept { return {call_id_tail_.data(), call_id_tail_len_}; }
};

} // namespace sipfast::loadgen
