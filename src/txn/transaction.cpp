// SPDX-License-Identifier: Apache-2.0
#include "sipfast/txn/transaction.hpp"

#include <algorithm>

namespace sipfast::txn {

namespace {

actions terminate(state& s) noexcept {
    s = state::terminated;
    actions a;
    a.terminated = true;
    a.stop_retransmit = true;
    return a;
}

} // namespace

// ---- client (§17.1) -------------------------------------------------------------------------

actions client_transaction::start() noexcept {
    actions a;
    a.send_request = true;
    if (!reliable_) {  // §17.1.1.2 Timer A / §17.1.2.2 Timer E start at T1
        interval_ns_ = t_.t1_ns;
        a.retransmit = invite_ ? timer::A : timer::E;
        a.retransmit_in_ns = interval_ns_;
    }
    a.lifetime = invite_ ? timer::B : timer::F;  // 64*T1 either way
    a.lifetime_in_ns = 64 * t_.t1_ns;
    return a;
}

actions client_transaction::on_response(int status) noexcept {
    actions a;
    if (state_ == state::terminated) return a;
    const bool provisional = status < 200;
    if (invite_) {
        if (state_ == state::completed) {
            // §17.1.1.2: a retransmitted final response gets the ACK again, and goes no further.
            if (status >= 300) a.send_ack = true;
            return a;
        }
        if (provisional) {
            state_ = state::proceeding;
            a.stop_retransmit = true;
            a.pass_up = true;
            return a;
        }
        if (status < 300) {  // 2xx: passed up, the transaction ends (the TU owns the ACK)
            a = terminate(state_);
            a.pass_up = true;
            return a;
        }
        state_ = state::completed;
        a.send_ack = true;
        a.pass_up = true;
        a.stop_retransmit = true;
        a.lifetime = timer::D;  // at least 32 s over unreliable transports, 0 over reliable
        a.lifetime_in_ns = reliable_ ? 0 : std::max<std::uint64_t>(32'000'000'000, 64 * t_.t1_ns);
        return a;
    }
    if (state_ == state::completed) return a;  // absorbed
    if (provisional) {
        if (state_ == state::trying) state_ = state::proceeding;
        a.pass_up = true;
        return a;
    }
    state_ = state::completed;
    a.pass_up = true;
    a.stop_retransmit = true;
    a.lifetime = timer::K;
    a.lifetime_in_ns = reliable_ ? 0 : t_.t4_ns;
    return a;
}

actions client_transaction::on_timer(timer t) noexcept {
    actions a;
    switch (t) {
    case timer::A:
        if (state_ != state::calling) return a;
        interval_ns_ *= 2;  // INVITE retransmits double without a cap
        a.send_request = true;
        a.retransmit = timer::A;
        a.retransmit_in_ns = interval_ns_;
        return a;
    case timer::E:
        if (state_ != state::trying && state_ != state::proceeding) return a;
        // §17.1.2.2: doubling up to T2 while Trying, every T2 once Proceeding.
        interval_ns_ = state_ == state::proceeding ? t_.t2_ns : std::min(interval_ns_ * 2, t_.t2_ns);
        a.send_request = true;
        a.retransmit = timer::E;
        a.retransmit_in_ns = interval_ns_;
        return a;
    case timer::B:
        if (state_ != state::calling) return a;
        a = terminate(state_);
        a.timed_out = true;
        return a;
    case timer::F:
        if (state_ != state::trying && state_ != state::proceeding) return a;
        a = terminate(state_);
        a.timed_out = true;
        return a;
    case timer::D:
    case timer::K:
        if (state_ != state::completed) return a;
        return terminate(state_);
    default:
        return a;
    }
}

// ---- server (§17.2) -------------------------------------------------------------------------

actions server_transaction::on_retransmission() noexcept {
    actions a;
    // §17.2.1 / §17.2.2: resend the most recent response, if there is one; in Trying, absorb.
    if ((state_ == state::proceeding || state_ == state::completed) && responded_) a.send_response = true;
    return a;
}

actions server_transaction::on_ack() noexcept {
    actions a;
    if (!invite_ || state_ != state::completed) return a;  // ACKs in Confirmed are absorbed
    state_ = state::confirmed;
    a.stop_retransmit = true;
    a.lifetime = timer::I;
    a.lifetime_in_ns = reliable_ ? 0 : t_.t4_ns;
    return a;
}

actions server_transaction::on_send(int status) noexcept {
    actions a;
    if (state_ == state::completed || state_ == state::confirmed || state_ == state::terminated) return a;
    a.send_response = true;
    responded_ = true;
    if (status < 200) {
        if (state_ == state::trying) state_ = state::proceeding;
        return a;
    }
    if (invite_ && status < 300) {  // 2xx: sent, the transaction ends; 2xx retransmits are the UAS's
        a = terminate(state_);
        a.send_response = true;
        return a;
    }
    state_ = state::completed;
    if (invite_) {
        if (!reliable_) {
            interval_ns_ = t_.t1_ns;
            a.retransmit = timer::G;
            a.retransmit_in_ns = interval_ns_;
        }
        a.lifetime = timer::H;
        a.lifetime_in_ns = 64 * t_.t1_ns;
    } else {
        a.lifetime = timer::J;
        a.lifetime_in_ns = reliable_ ? 0 : 64 * t_.t1_ns;
    }
    return a;
}

actions server_transaction::on_timer(timer t) noexcept {
    actions a;
    switch (t) {
    case timer::G:
        if (state_ != state::completed) return a;
        interval_ns_ = std::min(interval_ns_ * 2, t_.t2_ns);
        a.send_response = true;
        a.retransmit = timer::G;
        a.retransmit_in_ns = interval_ns_;
        return a;
    case timer::H:
        if (state_ != state::completed) return a;
        a = terminate(state_);
        a.timed_out = true;  // no ACK came
        return a;
    case timer::I:
        if (state_ != state::confirmed) return a;
        return terminate(state_);
    case timer::J:
        if (state_ != state::completed) return a;
        return terminate(state_);
    default:
        return a;
    }
}

} // namespace sipfast::txn
