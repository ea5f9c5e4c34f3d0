// SPDX-License-Identifier: Apache-2.0
#include "sipfast/loadgen/uac.hpp"

#include <algorithm>

#include "credentials.hpp"
#include "sip_text.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::loadgen {

namespace {

enum class call_state : std::uint8_t {
    free,
    calling,      // INVITE sent, nothing heard: Timer A retransmits, Timer B gives up
    proceeding,   // a provisional came: no more retransmissions, the timeout still runs
    confirmed,    // 200 ACKed, holding until the BYE
    terminating,  // BYE sent: Timer E retransmits, Timer F gives up
};

// The dialog (to-tag, route set, remote target) once a 200 came; before, while an INVITE with
// credentials may be sent again, its Authorization line.
constexpr std::size_t dialog_bytes = 384;
constexpr std::size_t call_id_hex = 28;  // run (8), thread (4), slot (8), generation (8)

std::uint64_t to_us(std::uint64_t ns) noexcept { return ns / 1000; }

// The user call slot `i` calls: the one user, or one of the registered users by its slot.
void write_callee(core::text_writer& w, const uac_config& c, std::uint32_t i) noexcept {
    w.put(c.user);
    if (c.users != 0) w.number(c.first_user + i % c.users);
}

// The branch kind of the INVITE (and its ACK) with CSeq `cseq`: a new transaction each.
char invite_kind(std::uint32_t cseq) noexcept { return static_cast<char>('h' + std::min<std::uint32_t>(cseq, 2)); }

} // namespace

struct uac::call {
    std::uint64_t invite_ns = 0;  // first INVITE sent
    std::uint64_t bye_ns = 0;     // first BYE sent
    std::uint64_t deadline_ns = 0;  // transaction timeout of the request in progress
    core::timer_handle timer;
    std::uint32_t generation = 0;
    call_state state = call_state::free;
    std::uint8_t retransmits = 0;
    std::uint8_t cseq = 1;        // the INVITE's: 2 once it answered a challenge
    bool rang = false;
    std::uint16_t auth_len = 0;   // the Authorization line at the start of `dialog`, until the 200
    std::uint8_t to_tag_len = 0;
    std::uint8_t route_len = 0;
    std::uint8_t target_len = 0;
    std::array<char, dialog_bytes> dialog{};  // to-tag, route set (a Route value), remote target

    [[nodiscard]] std::string_view to_tag() const noexcept { return {dialog.data(), to_tag_len}; }
    [[nodiscard]] std::string_view route() const noexcept { return {dialog.data() + to_tag_len, route_len}; }
    [[nodiscard]] std::string_view target() const noexcept {
        return {dialog.data() + to_tag_len + route_len, target_len};
    }
};

std::size_t uac::bytes_per_call() noexcept {
    return sizeof(call) + sizeof(std::uint32_t) + core::timer_wheel::bytes_per_timer();
}

uac::uac(const uac_config& c, uac_stats& stats, std::uint64_t now_ns)
    : c_(c), stats_(stats), calls_(new call[c.capacity]), free_(new std::uint32_t[c.capacity]),
      timers_(c.capacity, 1'000'000, now_ns) {
    if (c_.timeout_ns == 0) c_.timeout_ns = 64 * c_.t1_ns;
    if (c_.local_ports == 0) c_.local_ports = 1;
    for (std::uint32_t i = 0; i < c_.capacity; ++i) free_[i] = c_.capacity - 1 - i;  // slot 0 first
    free_count_ = c_.capacity;
    core::text_writer id_tail(call_id_tail_);
    id_tail.put('@').put_clipped(c_.local_host);
    call_id_tail_len_ = static_cast<std::uint8_t>(id_tail.size());
}

uac::~uac() = default;

void uac::write_ids(core::text_writer& w, std::uint32_t i, char branch_kind) const noexcept {
    // Via (RFC 3261 §8.1.1.7: the magic cookie, then what makes the branch ours and unique)
    w.put(c_.reliable ? "Via: SIP/2.0/TCP " : "Via: SIP/2.0/UDP ").put(c_.local_host).put(':').number(port_of(i)).put(";branch=z9hG4bK")
        .hex(c_.run_id, 8).hex(i, 8).hex(calls_[i].generation, 8).put(branch_kind).put(";rport\r\n");
}

std::uint16_t uac::port_of(std::uint32_t i) const noexcept {
    return static_cast<std::uint16_t>(c_.local_port + i % c_.local_ports);
}

bool uac::decode_call_id(std::string_view id, std::uint32_t& slot, std::uint32_t& generation) const noexcept {
    if (id.size() < call_id_hex) return false;
    std::uint32_t run = 0, thread = 0;
    using detail::parse_hex;
    return parse_hex(id.substr(0, 8), run) && run == c_.run_id && parse_hex(id.substr(8, 4), thread) &&
           thread == c_.thread && parse_hex(id.substr(12, 8), slot) && slot < c_.capacity &&
           parse_hex(id.substr(20, 8), generation);
}

bool uac::start_call(std::uint64_t now_ns, outbox& out) noexcept {
    ++stats_.offered;
    if (free_count_ == 0) {
        ++stats_.failed[static_cast<std::size_t>(failure::table_full)];
        return false;
    }
    const std::uint32_t i = free_[--free_count_];
    call& k = calls_[i];
    k.state = call_state::calling;
    k.invite_ns = now_ns;
    k.deadline_ns = now_ns + c_.timeout_ns;
    k.retransmits = 0;
    k.rang = false;
    k.cseq = 1;
    k.auth_len = 0;
    k.to_tag_len = k.route_len = k.target_len = 0;
    ++in_progress_;
    ++stats_.started;
    send_invite(i, false, now_ns, out);
    arm(i, first_retransmission(now_ns, k.deadline_ns));
    return true;
}

void uac::send_invite(std::uint32_t i, bool again, std::uint64_t, outbox& out) noexcept {
    const call& k = calls_[i];
    const std::string_view sdp = c_.ims ? detail::sdp_ims : detail::sdp_minimal;
    core::text_writer w = out.start();
    w.put("INVITE sip:");
    write_callee(w, c_, i);
    w.put('@').put(c_.request_host).put(" SIP/2.0\r\n");
    write_ids(w, i, invite_kind(k.cseq));
    w.put("Max-Forwards: 70\r\nFrom: <sip:");
    write_caller(w, i);
    w.put(">;tag=").hex(k.generation, 8).hex(i, 8).put("\r\nTo: <sip:");
    write_callee(w, c_, i);
    w.put('@').put(c_.request_host).put(">\r\nCall-ID: ").hex(c_.run_id, 8).hex(c_.thread, 4).hex(i, 8).hex(k.generation, 8)
        .put(tail()).put("\r\nCSeq: ").number(k.cseq).put(" INVITE\r\nContact: <sip:").put(c_.from_user)
        .put('@').put(c_.local_host).put(':').number(port_of(i)).put(">\r\n");
    if (k.auth_len != 0) w.put({k.dialog.data(), k.auth_len});
    if (c_.ims) w.put(detail::ims_invite_headers);
    w.put("Content-Type: application/sdp\r\nContent-Length: ").number(sdp.size()).put("\r\n\r\n").put(sdp);
    if (out.finish(w, c_.target, port_of(i)) && again) ++stats_.retransmissions;
}

// Who calls: a user of the domain when calls are between registered users who authenticate, else
// from_user at our own address.
void uac::write_caller(core::text_writer& w, std::uint32_t i) const noexcept {
    if (c_.users != 0 && !c_.password.empty()) w.put(c_.user).number(c_.first_user + (i + 1) % c_.users).put('@').put(c_.request_host);
    else w.put(c_.from_user).put('@').put(c_.local_host);
}

// From, To (with the dialog's tag), Call-ID of an in-dialog request or ACK.
void uac::write_dialog_ids(core::text_writer& w, std::uint32_t i) const noexcept {
    const call& k = calls_[i];
    w.put("Max-Forwards: 70\r\nFrom: <sip:");
    write_caller(w, i);
    w.put(">;tag=").hex(k.generation, 8).hex(i, 8).put("\r\nTo: <sip:");
    write_callee(w, c_, i);
    w.put('@').put(c_.request_host).put('>');
    if (k.to_tag_len != 0) w.put(";tag=").put(k.to_tag());
    w.put("\r\nCall-ID: ").hex(c_.run_id, 8).hex(c_.thread, 4).hex(i, 8).hex(k.generation, 8).put(tail()).put("\r\n");
}

// RFC 3261 §13.2.2.4: the ACK of a 2xx is a request of the dialog, with its own branch.
void uac::send_ack(std::uint32_t i, outbox& out) noexcept {
    const call& k = calls_[i];
    core::text_writer w = out.start();
    w.put("ACK ").put(k.target()).put(" SIP/2.0\r\n");
    write_ids(w, i, 'a');
    if (k.route_len != 0) w.put("Route: ").put(k.route()).put("\r\n");
    write_dialog_ids(w, i);
    w.put("CSeq: ").number(k.cseq).put(" ACK\r\nContent-Length: 0\r\n\r\n");
    (void)out.finish(w, c_.target, port_of(i));
}

// RFC 3261 §17.1.1.3: the ACK of a final response other than 2xx belongs to the INVITE's
// transaction: its Request-URI, branch and Route, and the To of the response.
void uac::send_non2xx_ack(std::uint32_t i, const sip::message& m, outbox& out) noexcept {
    const call& k = calls_[i];
    core::text_writer w = out.start();
    w.put("ACK sip:");
    write_callee(w, c_, i);
    w.put('@').put(c_.request_host).put(" SIP/2.0\r\n");
    write_ids(w, i, invite_kind(m.cseq.number));
    w.put("Max-Forwards: 70\r\nFrom: <sip:");
    write_caller(w, i);
    w.put(">;tag=").hex(k.generation, 8).hex(i, 8).put("\r\nTo: ").put(m.to.text).put("\r\nCall-ID: ").put(m.call_id)
        .put("\r\nCSeq: ").number(m.cseq.number).put(" ACK\r\n");
    w.put("Content-Length: 0\r\n\r\n");
    (void)out.finish(w, c_.target, port_of(i));
}

void uac::send_bye(std::uint32_t i, bool again, outbox& out) noexcept {
    const call& k = calls_[i];
    core::text_writer w = out.start();
    w.put("BYE ").put(k.target()).put(" SIP/2.0\r\n");
    write_ids(w, i, 'b');
    if (k.route_len != 0) w.put("Route: ").put(k.route()).put("\r\n");
    write_dialog_ids(w, i);
    w.put("CSeq: ").number(k.cseq + 1).put(" BYE\r\nContent-Length: 0\r\n\r\n");
    if (out.finish(w, c_.target, port_of(i)) && again) ++stats_.retransmissions;
}

// The dialog's state from its 200 (RFC 3261 §12.1.2): the remote tag, the route set (Record-Route
// reversed) and the remote target (Contact), kept in the call's slot.
bool uac::keep_dialog(std::uint32_t i, const sip::message& m) noexcept {
    call& k = calls_[i];
    std::array<std::string_view, 16> rr{};
    std::size_t n = 0;
    bool fits = true;
    m.for_each_value(sip::header_id::record_route, [&](std::string_view v) {
        if (n == rr.size()) return fits = false;
        rr[n++] = v;
        return true;
    });
    const sip::contact* contact = m.has_contact ? m.first_contact.get() : nullptr;
    const std::string_view target = contact != nullptr && !contact->star ? contact->addr.address.text : std::string_view{};
    core::text_writer w(k.dialog);
    w.put(m.to.tag);
    const std::size_t tag_end = w.size();
    for (std::size_t j = n; j-- > 0;) {
        w.put(rr[j]);
        if (j != 0) w.put(", ");
    }
    const std::size_t route_end = w.size();
    if (target.empty()) {
        w.put("sip:");
        write_callee(w, c_, i);
        w.put('@').put(c_.request_host);
    }
    else w.put(target);
    if (!fits || !w.ok() || tag_end > 255 || route_end - tag_end > 255 || w.size() - route_end > 255) return false;
    k.auth_len = 0;  // the dialog took its place
    k.to_tag_len = static_cast<std::uint8_t>(tag_end);
    k.route_len = static_cast<std::uint8_t>(route_end - tag_end);
    k.target_len = static_cast<std::uint8_t>(w.size() - route_end);
    return true;
}

void uac::on_datagram(std::string_view data, std::uint64_t now_ns, outbox& out) noexcept {
    sip::message m;
    const sip::parse_result r = sip::parse(data, m, slots_);
    if (!r.ok()) {
        ++stats_.unparsable;
        return;
    }
    if (m.is_request()) {
        on_request(m, out);
        return;
    }
    if (!m.is_response()) return;  // a keep-alive
    std::uint32_t i = 0, generation = 0;
    if (!decode_call_id(m.call_id, i, generation) || calls_[i].generation != generation ||
        calls_[i].state == call_state::free) {
        ++stats_.strays;
        return;
    }
    on_response(i, m, now_ns, out);
}

void uac::on_response(std::uint32_t i, const sip::message& m, std::uint64_t now_ns, outbox& out) noexcept {
    call& k = calls_[i];
    const unsigned status = m.status_code;
    if (m.cseq.method == sip::method::invite) {
        const bool in_invite = k.state == call_state::calling || k.state == call_state::proceeding;
        if (status < 200) {
            if (!in_invite || m.cseq.number != k.cseq) return;
            if ((status == 180 || status == 183) && !k.rang) {
                k.rang = true;
                stats_.invite_to_180.record(to_us(now_ns - k.invite_ns));
            }
            if (k.state == call_state::calling) {  // §17.1.1.2: retransmissions stop, Timer B keeps running
                k.state = call_state::proceeding;
                arm(i, k.deadline_ns);
            }
            return;
        }
        if (status >= 300) {
            send_non2xx_ack(i, m, out);
            if (!in_invite || m.cseq.number != k.cseq) {
                ++stats_.responses_retransmitted;
                return;
            }
            if ((status == 401 || status == 407) && answer_challenge(i, m, now_ns, out)) return;
            ++stats_.rejected_by_class[std::min(status / 100, 6u)];
            fail(i, failure::invite_rejected);
            return;
        }
        if (!in_invite) {  // §13.2.2.4: a 2xx again means our ACK was lost; ACK it again
            ++stats_.responses_retransmitted;
            ++stats_.retransmissions;
            send_ack(i, out);
            return;
        }
        stats_.invite_to_200.record(to_us(now_ns - k.invite_ns));
        if (!keep_dialog(i, m)) {
            fail(i, failure::dialog_too_big);
            return;
        }
        send_ack(i, out);
        if (c_.hold_ns == 0) {
            k.state = call_state::terminating;
            k.bye_ns = now_ns;
            k.deadline_ns = now_ns + c_.timeout_ns;
            k.retransmits = 0;
            send_bye(i, false, out);
            arm(i, first_retransmission(now_ns, k.deadline_ns));
        } else {
            k.state = call_state::confirmed;
            arm(i, now_ns + c_.hold_ns);
        }
        return;
    }
    if (m.cseq.method != sip::method::bye || k.state != call_state::terminating || status < 200) return;
    if (status >= 300) {
        fail(i, failure::bye_rejected);
        return;
    }
    stats_.bye_to_200.record(to_us(now_ns - k.bye_ns));
    ++stats_.completed;
    finish(i);
}

// RFC 3261 §22.2: the INVITE again, a new transaction (CSeq one more, a new branch, Timer B
// again), with credentials for the first challenge we can answer; once per call. The call's setup
// time runs from the first INVITE.
bool uac::answer_challenge(std::uint32_t i, const sip::message& m, std::uint64_t now_ns, outbox& out) noexcept {
    call& k = calls_[i];
    if (c_.users == 0 || c_.password.empty() || k.cseq != 1) return false;
    std::array<char, 48> caller_room{};
    core::text_writer caller(caller_room);
    caller.put(c_.user).number(c_.first_user + (i + 1) % c_.users);
    std::array<char, 320> uri_room{};
    core::text_writer uri(uri_room);
    uri.put("sip:");
    write_callee(uri, c_, i);
    uri.put('@').put(c_.request_host);
    core::text_writer line(k.dialog);
    const detail::challenge_seen seen = detail::write_credentials(
        m, caller.view(), c_.password, "INVITE", uri.view(), (std::uint64_t{c_.run_id} << 32) ^ k.generation ^ i, line);
    if (!seen.usable || !caller.ok() || !uri.ok() || !line.ok()) return false;
    k.auth_len = static_cast<std::uint16_t>(line.size());
    k.cseq = 2;
    k.state = call_state::calling;
    k.deadline_ns = now_ns + c_.timeout_ns;
    k.retransmits = 0;
    ++stats_.challenges;
    send_invite(i, false, now_ns, out);
    arm(i, first_retransmission(now_ns, k.deadline_ns));
    return true;
}

// The far end hung up (or sent something else): 200 to a BYE of a call we hold, 481 to a BYE of
// none (RFC 3261 §15.1.2); other requests are strays.
void uac::on_request(const sip::message& m, outbox& out) noexcept {
    if (m.method == sip::method::ack) return;
    if (m.method != sip::method::bye) {
        ++stats_.strays;
        return;
    }
    std::uint32_t i = 0, generation = 0;
    const bool ours = decode_call_id(m.call_id, i, generation) && calls_[i].generation == generation &&
                      calls_[i].state != call_state::free && calls_[i].state != call_state::calling;
    core::text_writer w = out.start();
    if (ours) detail::write_response(w, m, 200, "OK", {}, false, {}, {});
    else detail::write_response(w, m, 481, "Call/Transaction Does Not Exist", {}, false, {}, {});
    (void)out.finish(w, c_.target, ours ? port_of(i) : c_.local_port);
    if (!ours) {
        ++stats_.strays;
        return;
    }
    ++stats_.completed;
    ++stats_.ended_by_peer;
    finish(i);
}

void uac::arm(std::uint32_t i, std::uint64_t deadline_ns) noexcept {
    call& k = calls_[i];
    if (k.timer.valid()) timers_.cancel(k.timer);
    k.timer = timers_.schedule(deadline_ns, (std::uint64_t{k.generation} << 32) | i);
}

void uac::finish(std::uint32_t i) noexcept {
    call& k = calls_[i];
    if (k.timer.valid()) timers_.cancel(k.timer);
    k.timer = {};
    k.state = call_state::free;
    ++k.generation;
    free_[free_count_++] = i;
    --in_progress_;
}

void uac::fail(std::uint32_t i, failure why) noexcept {
    ++stats_.failed[static_cast<std::size_t>(why)];
    finish(i);
}

void uac::advance(std::uint64_t now_ns, outbox& out) noexcept {
    timers_.advance(now_ns, [&](std::uint64_t cookie) {
        const auto i = static_cast<std::uint32_t>(cookie);
        if (calls_[i].generation != static_cast<std::uint32_t>(cookie >> 32)) return;
        calls_[i].timer = {};
        on_timer(i, now_ns, out);
    });
}

// Over TCP nothing is sent again: the transport does (RFC 3261 §17.1.1.2: Timer A only for
// unreliable transports); the timeout alone runs.
std::uint64_t uac::first_retransmission(std::uint64_t now_ns, std::uint64_t deadline_ns) const noexcept {
    return c_.reliable ? deadline_ns : std::min(now_ns + c_.t1_ns, deadline_ns);
}

void uac::on_timer(std::uint32_t i, std::uint64_t now_ns, outbox& out) noexcept {
    call& k = calls_[i];
    switch (k.state) {
    case call_state::free: return;
    case call_state::calling:
    case call_state::proceeding:
        if (now_ns >= k.deadline_ns || k.state == call_state::proceeding || c_.reliable) {
            fail(i, failure::invite_timeout);
            return;
        }
        // Timer A: T1, 2*T1, 4*T1... without a cap (RFC 3261 §17.1.1.2)
        ++k.retransmits;
        send_invite(i, true, now_ns, out);
        arm(i, std::min(now_ns + (c_.t1_ns << std::min<unsigned>(k.retransmits, 30)), k.deadline_ns));
        return;
    case call_state::confirmed:
        k.state = call_state::terminating;
        k.bye_ns = now_ns;
        k.deadline_ns = now_ns + c_.timeout_ns;
        k.retransmits = 0;
        send_bye(i, false, out);
        arm(i, first_retransmission(now_ns, k.deadline_ns));
        return;
    case call_state::terminating:
        if (now_ns >= k.deadline_ns || c_.reliable) {
            fail(i, failure::bye_timeout);
            return;
        }
        // Timer E: doubling up to T2 (RFC 3261 §17.1.2.2)
        ++k.retransmits;
        send_bye(i, true, out);
        arm(i, std::min(now_ns + detail::doubling_to_t2(c_.t1_ns, c_.t2_ns, k.retransmits), k.deadline_ns));
        return;
    }
}

void uac::abandon_all() noexcept {
    for (std::uint32_t i = 0; i < c_.capacity; ++i)
        if (calls_[i].state != call_state::free) fail(i, failure::unfinished);
}

} // namespace sipfast::loadgen
