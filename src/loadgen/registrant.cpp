// SPDX-License-Identifier: Apache-2.0
#include "sipfast/loadgen/registrant.hpp"

#include <algorithm>
#include <array>

#include "sip_text.hpp"
#include "credentials.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::loadgen {

namespace {

constexpr std::size_t call_id_hex = 17;  // run (8), 'r', user (8)
// A user challenged again after credentials, which were refused or had a stale nonce, tries at
// most this many REGISTERs in all.
constexpr std::uint32_t max_register_cseq = 4;

} // namespace

struct registrant::user {
    std::uint64_t first_ns = 0;     // its first REGISTER
    std::uint64_t deadline_ns = 0;  // Timer F of the REGISTER in flight
    core::timer_handle timer;
    std::uint32_t cseq = 0;         // of the REGISTER in flight: a new one per transaction
    std::uint8_t retransmits = 0;
    bool in_flight = false;
    bool credentials_sent = false;
    std::uint16_t authorization_len = 0;
    std::array<char, 640> authorization{};  // our credentials' header line, resent with retransmissions
};

registrant::registrant(const registrant_config& c, registrant_stats& stats, std::uint64_t now_ns)
    : c_(c), stats_(stats), users_(new user[c.count]), timers_(std::max<std::uint32_t>(c.count, 1), 1'000'000, now_ns) {
    c_.window = std::max<std::uint32_t>(c_.window, 1);
}

registrant::~registrant() = default;

void registrant::start(std::uint64_t now_ns, outbox& out) noexcept { next(now_ns, out); }

// Users start in order while the window has room.
void registrant::next(std::uint64_t now_ns, outbox& out) noexcept {
    while (in_flight_ < c_.window && started_ < c_.count) {
        const std::uint32_t u = started_++;
        user& k = users_[u];
        k.first_ns = now_ns;
        k.in_flight = true;
        ++in_flight_;
        k.cseq = 1;
        k.deadline_ns = now_ns + 64 * c_.t1_ns;
        send(u, false, out);
        arm(u, c_.reliable ? k.deadline_ns : now_ns + c_.t1_ns);
    }
}

void registrant::send(std::uint32_t u, bool again, outbox& out) noexcept {
    const user& k = users_[u];
    const std::uint32_t number = c_.first + u;
    core::text_writer w = out.start();
    w.put("REGISTER sip:").put(c_.domain).put(" SIP/2.0\r\n");
    w.put(c_.reliable ? "Via: SIP/2.0/TCP " : "Via: SIP/2.0/UDP ").put(c_.local_host).put(':').number(c_.local_port)
        .put(";branch=z9hG4bK").hex(c_.run_id, 8).hex(u, 8).hex(k.cseq, 8).put("r;rport\r\n");
    w.put("Max-Forwards: 70\r\nFrom: <sip:").put(c_.user_prefix).number(number).put('@').put(c_.domain).put(">;tag=")
        .hex(u, 8).put("\r\nTo: <sip:").put(c_.user_prefix).number(number).put('@').put(c_.domain).put(">\r\nCall-ID: ")
        .hex(c_.run_id, 8).put('r').hex(u, 8).put('@').put(c_.local_host).put("\r\nCSeq: ").number(k.cseq)
        .put(" REGISTER\r\nContact: <sip:").put(c_.user_prefix).number(number).put('@').put(c_.local_host).put(':')
        .number(c_.local_port).put(c_.reliable ? ";transport=tcp>\r\n" : ">\r\n");
    w.put("Expires: ").number(c_.expires_s).put("\r\n").put({k.authorization.data(), k.authorization_len});
    w.put("Content-Length: 0\r\n\r\n");
    if (out.finish(w, c_.target) && again) ++stats_.retransmissions;
}

bool registrant::on_datagram(std::string_view data, std::uint64_t now_ns, outbox& out) noexcept {
    sip::message m;
    const sip::parse_result r = sip::parse(data, m, slots_);
    if (!r.ok()) {
        ++stats_.unparsable;
        return true;
    }
    if (!m.is_response()) return m.is_request() ? false : true;  // a request: the callee's; else a keep-alive
    std::uint32_t run = 0, u = 0;
    const std::string_view id = m.call_id;
    if (id.size() < call_id_hex || !detail::parse_hex(id.substr(0, 8), run) || run != c_.run_id || id[8] != 'r' ||
        !detail::parse_hex(id.substr(9, 8), u) || u >= c_.count || !users_[u].in_flight ||
        m.cseq.method != sip::method::register_ || m.cseq.number != users_[u].cseq) {
        ++stats_.strays;
        return true;
    }
    on_response(u, m, now_ns, out);
    return true;
}

void registrant::on_response(std::uint32_t u, const sip::message& m, std::uint64_t now_ns, outbox& out) noexcept {
    user& k = users_[u];
    const unsigned status = m.status_code;
    if (status < 200) {  // §17.1.2.2: Proceeding, resent at T2 until the final answer
        if (!c_.reliable) arm(u, std::min(now_ns + c_.t2_ns, k.deadline_ns));
        return;
    }
    if (status < 300) {
        stats_.first_to_200.record((now_ns - k.first_ns) / 1000);
        ++stats_.registered;
        end(u);
        return next(now_ns, out);
    }
    if (status != 401 && status != 407) {
        fail(u, registration_failure::rejected);
        return next(now_ns, out);
    }
    std::array<char, 32> name_room{};
    core::text_writer name(name_room);
    name.put(c_.user_prefix).number(c_.first + u);
    std::array<char, 300> uri_room{};
    core::text_writer uri(uri_room);
    uri.put("sip:").put(c_.domain);
    core::text_writer a(k.authorization);
    const detail::challenge_seen seen = detail::write_credentials(m, name.view(), c_.password, "REGISTER", uri.view(),
                                                                  (std::uint64_t{c_.run_id} << 32) ^ (u * 16 + k.cseq), a);
    if (!seen.usable || !name.ok() || !uri.ok() || !a.ok()) {
        k.authorization_len = 0;
        fail(u, registration_failure::bad_challenge);
        return next(now_ns, out);
    }
    if (c_.password.empty() || (k.credentials_sent && !seen.stale) || k.cseq >= max_register_cseq) {
        k.authorization_len = 0;
        fail(u, registration_failure::auth_rejected);
        return next(now_ns, out);
    }
    ++stats_.challenges;
    k.authorization_len = static_cast<std::uint16_t>(a.size());
    k.credentials_sent = true;
    // A new transaction (§8.1.3.5): CSeq one more, a new branch, Timer F again.
    ++k.cseq;
    k.retransmits = 0;
    k.deadline_ns = now_ns + 64 * c_.t1_ns;
    send(u, false, out);
    arm(u, c_.reliable ? k.deadline_ns : now_ns + c_.t1_ns);
}

void registrant::arm(std::uint32_t u, std::uint64_t at_ns) noexcept {
    user& k = users_[u];
    if (k.timer.valid()) timers_.cancel(k.timer);
    k.timer = timers_.schedule(at_ns, u);
}

void registrant::end(std::uint32_t u) noexcept {
    user& k = users_[u];
    if (k.timer.valid()) timers_.cancel(k.timer);
    k.timer = {};
    k.in_flight = false;
    --in_flight_;
    ++finished_;
}

void registrant::fail(std::uint32_t u, registration_failure why) noexcept {
    ++stats_.failed[static_cast<std::size_t>(why)];
    end(u);
}

void registrant::advance(std::uint64_t now_ns, outbox& out) noexcept {
    timers_.advance(now_ns, [&](std::uint64_t cookie) {
        const auto u = static_cast<std::uint32_t>(cookie);
        user& k = users_[u];
        k.timer = {};
        if (!k.in_flight) return;
        if (now_ns >= k.deadline_ns || c_.reliable) {
            fail(u, registration_failure::timeout);
            return;
        }
        // Timer E: doubling up to T2 (RFC 3261 §17.1.2.2)
        ++k.retransmits;
        send(u, true, out);
        arm(u, std::min(now_ns + detail::doubling_to_t2(c_.t1_ns, c_.t2_ns, k.retransmits), k.deadline_ns));
    });
    next(now_ns, out);
}

} // namespace sipfast::loadgen
