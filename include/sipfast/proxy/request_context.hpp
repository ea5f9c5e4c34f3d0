// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "sipfast/proxy/inbound.hpp"
#include "sipfast/proxy/local_identity.hpp"
#include "sipfast/proxy/stats.hpp"
#include "sipfast/registrar/location_store.hpp"
#include "sipfast/txn/proxy_transaction.hpp"
#include "sipfast/sip/editor.hpp"
#include "sipfast/sip/message.hpp"

namespace sipfast::proxy {

/// What a request stage decided: go on to the next stage, or answer (status, reason phrase,
/// extra header lines) and stop. An ACK is never answered (RFC 3261 §17.2.3): it just stops.
struct verdict {
    int status = 0;
    std::string_view reason;
    std::string_view extra;                ///< whole header lines, each ending in CRLF
    drop_cause drop = drop_cause::count_;  ///< counted as this drop when set

    [[nodiscard]] bool go_on() const noexcept { return status == 0; }
    [[nodiscard]] static verdict next() noexcept { return {}; }
    [[nodiscard]] static verdict answer(int status, std::string_view reason, std::string_view extra = {},
                                        drop_cause drop = drop_cause::count_) noexcept {
        return {status, reason, extra, drop};
    }
    /// Stop without an answer (to a sender who learns from every answer), counted as `drop`.
    [[nodiscard]] static verdict silent(drop_cause drop) noexcept { return {-1, {}, {}, drop}; }
    [[nodiscard]] bool answered() const noexcept { return status > 0; }
};

/// Where one branch of a request goes (RFC 3261 §16.5): the Request-URI to write (empty keeps the
/// received one), the Route values to put first (a binding's Path, RFC 3327), the address and
/// transport, and our side it leaves by.
struct branch_target {
    std::string_view new_ruri;
    std::string_view route;
    core::net_address destination;
    sip::transport transport = sip::transport::udp;
    const listen_point* leave = nullptr;
};

using txn::max_branches;

/// One request on its way through the stages (docs/architecture.md, "The request path"): the
/// message, the edits made to it so far, and what each stage found out for the next. Views point
/// into the received message or into text the editor keeps.
struct request_context {
    const inbound& in;
    const sip::message& m;
    sip::message_editor& editor;
    const local_identity& local;
    sip::edit_error err = sip::edit_error::none;  ///< the first edit that failed: the request is refused
    bool hide = false;  ///< topology hiding ([topology] hide, stateful mode): see stages/topology.hpp

    // validate (§16.3)
    bool ruri_is_us = false;       ///< the Request-URI is one of our listen addresses
    bool emergency = false;        ///< an emergency service URN (urn:service:sos[.*], RFC 5031): [emergency] next_hop
    std::uint64_t loop_hash = 0;   ///< what decides where it goes (our branch carries it)
    // local routing (§16.4)
    sip::uri target;               ///< the Request-URI, or what a strict router left in the last Route
    std::string_view new_ruri;     ///< a Request-URI to write, empty to keep the received one
    bool have_next_route = false;  ///< a Route value not ours leads
    sip::name_addr next_route;
    sip::transport left_by = sip::transport::unknown;  ///< the transport our last popped Route named (RFC 5658)
    bool our_dialog = false;       ///< a Route of ours popped carried our MAC for this Call-ID: we record-routed it
    std::string_view sealed_route; ///< topology hiding: the route set sealed in a Route of ours popped (its sfr)
    // sec-agree (RFC 3329)
    std::string_view security_server;     ///< a Security-Server line our challenge carries, or empty
    // authentication (§22)
    std::string_view authenticated_user;  ///< the digest username that was proved, empty when none was asked
    std::string_view auth_info;           ///< an Authentication-Info line for our own 2xx, or empty
    // target resolution (§16.5): the first branch here, the others of a fork in `more`
    bool for_our_domain = false;          ///< an initial request to a user of ours, no foreign Route leading
    core::net_address destination;
    sip::transport transport = sip::transport::udp;
    const listen_point* leave = nullptr;  ///< our side it leaves by
    std::string_view route;               ///< Route values to put first (a binding's Path), empty when none
    std::array<branch_target, max_branches - 1> more{};
    std::size_t more_count = 0;
    registrar::binding_list held;         ///< the bindings the targets' views point into

    /// The first branch's target, as a fork's other branches are kept.
    [[nodiscard]] branch_target first_target() const noexcept { return {new_ruri, route, destination, transport, leave}; }
    /// Makes `b` the branch the forward stage builds.
    void aim(const branch_target& b) noexcept {
        new_ruri = b.new_ruri;
        route = b.route;
        destination = b.destination;
        transport = b.transport;
        leave = b.leave;
    }

    request_context(const inbound& i, const sip::message& msg, sip::message_editor& e, const local_identity& l) noexcept
        : in(i), m(msg), editor(e), local(l), target(msg.request_uri) {}

    /// Keeps the first failed edit.
    void note(sip::edit_error e) noexcept {
        if (e != sip::edit_error::none) err = e;
    }
    [[nodiscard]] bool in_dialog() const noexcept { return !m.to.tag.empty(); }

    /// From, To or the first Contact (`which`) decoded, or nullptr with `refusal` set to the answer
    /// naming its fault. The parser leaves them to first use (sip::on_demand), so a stage that
    /// reads one answers for it; a request no stage reads them for is forwarded with them as they
    /// came (RFC 3261 §16.3 step 1).
    template <class T>
    [[nodiscard]] const T* decoded(const sip::on_demand<T>& v, sip::header_id which, verdict& refusal) noexcept {
        const T* d = v.get();
        if (d == nullptr) refusal = refuse(v.error(), which);
        return d;
    }
    /// The answer to a request whose header `which` is malformed.
    [[nodiscard]] verdict refuse(sip::parse_error e, sip::header_id which) noexcept;

    std::array<char, 96> reason_room;  ///< a refusal's reason phrase, written by refuse()
};

} // namespace sipfast::proxy
