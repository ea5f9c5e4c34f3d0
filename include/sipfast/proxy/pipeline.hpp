// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sipfast/proxy/config.hpp"
#include "sipfast/proxy/net_address.hpp"
#include "sipfast/proxy/outbox.hpp"
#include "sipfast/sip/editor.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::proxy {

/// A datagram or framed stream message as a backend hands it over.
struct inbound {
    std::string_view data;
    net_address source;
    const listen_point* local = nullptr;  ///< where it arrived; our Via and Record-Route use it
};

/// What one shard's pipeline has done, written only by its worker.
struct pipeline_counters {
    std::uint64_t requests = 0;
    std::uint64_t responses = 0;
    std::uint64_t forwarded_requests = 0;
    std::uint64_t forwarded_responses = 0;
    std::uint64_t replied[7] = {};  ///< our own responses by status class (index 1..6)
    std::uint64_t parse_errors = 0;
    std::uint64_t dropped_not_ours = 0;   ///< responses whose top Via is not ours
    std::uint64_t dropped_no_route = 0;   ///< a destination that is not an address we can send to
    std::uint64_t dropped_outbox_full = 0;
};

/// The proxy's request and response path (RFC 3261 §16) for one shard, with no I/O: the backend
/// calls on_packet() and sends what lands in the outbox. This is the stateless core (§16.11):
/// validation (§16.3), Route processing (§16.4), target determination (§16.5) through the location
/// service, static routes or the Request-URI, forwarding (§16.6) with Max-Forwards, Record-Route,
/// a Via whose branch is derived from the request so retransmissions, CANCEL and non-2xx ACK take
/// the same one, RFC 3581 received/rport, and responses forwarded by their next Via.
class pipeline {
public:
    pipeline(const proxy_config& config, std::uint32_t shard);
    pipeline(const pipeline&) = delete;
    pipeline& operator=(const pipeline&) = delete;

    void on_packet(const inbound& in, std::uint64_t now_ns, outbox& out) noexcept;

    [[nodiscard]] const pipeline_counters& counters() const noexcept { return counters_; }

private:
    void on_request(const inbound& in, outbox& out) noexcept;
    void on_response(const inbound& in, outbox& out) noexcept;
    void reply(const inbound& in, int status, std::string_view reason, std::string_view extra_lines,
               outbox& out) noexcept;
    void send_edited(const net_address& to, sip::transport t, outbox& out) noexcept;
    [[nodiscard]] bool is_us(std::string_view host, std::uint16_t port, bool has_port) const noexcept;
    [[nodiscard]] bool is_our_domain(std::string_view host, std::uint16_t port, bool has_port) const noexcept;

    const proxy_config& config_;
    std::uint32_t shard_;
    std::vector<sip::header> slots_;
    sip::message msg_;
    sip::message_editor editor_;
    pipeline_counters counters_;
};

} // namespace sipfast::proxy
