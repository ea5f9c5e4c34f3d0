// SPDX-License-Identifier: Apache-2.0
// The §17 machines driven through the timer wheel by a fake clock, as a shard drives them.
#include "sipfast/txn/transaction.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sipfast/core/timer_wheel.hpp"

namespace sipfast::txn {
namespace {

constexpr std::uint64_t ms = 1'000'000;

// Runs one transaction against a wheel and records what it asked for, with the time.
template <class Machine>
struct harness {
    Machine m;
    core::timer_wheel wheel{16, 1 * ms, 0};
    core::timer_handle retransmit_h, lifetime_h;
    std::uint64_t now = 0;
    std::vector<std::string> log;  // "t=<ms> <what>"
    bool timed_out = false, terminated = false;

    explicit harness(Machine machine) : m(machine) {}

    void apply(const actions& a) {
        const auto note = [&](const char* what) { log.push_back(std::to_string(now / ms) + " " + what); };
        if (a.send_request) note("request");
        if (a.send_response) note("response");
        if (a.send_ack) note("ack");
        if (a.pass_up) note("up");
        if (a.timed_out) timed_out = true;
        if (a.stop_retransmit) wheel.cancel(retransmit_h);
        if (a.retransmit != timer::none)
            retransmit_h = wheel.schedule(now + a.retransmit_in_ns, static_cast<std::uint64_t>(a.retransmit));
        if (a.lifetime != timer::none) {
            wheel.cancel(lifetime_h);
            lifetime_h = wheel.schedule(now + a.lifetime_in_ns, static_cast<std::uint64_t>(a.lifetime));
        }
        if (a.terminated) {
            terminated = true;
            wheel.cancel(retransmit_h);
            wheel.cancel(lifetime_h);
            note("end");
        }
    }
    void run_until(std::uint64_t t) {
        for (; now <= t; now += 1 * ms)
            wheel.advance(now, [&](std::uint64_t c) { apply(m.on_timer(static_cast<timer>(c))); });
        now = t;
    }
    std::vector<std::uint64_t> times_of(const std::string& what) const {
        std::vector<std::uint64_t> t;
        for (const std::string& l : log)
            if (l.substr(l.find(' ') + 1) == what) t.push_back(std::stoull(l.substr(0, l.find(' '))));
        return t;
    }
};

const timer_values t{};

TEST(ClientInvite, RetransmitsOnTimerADoublingUntilTimerB) {
    harness<client_transaction> h(client_transaction(true, false, t));
    h.apply(h.m.start());
    h.run_until(40000 * ms);
    EXPECT_EQ(h.times_of("request"), (std::vector<std::uint64_t>{0, 500, 1500, 3500, 7500, 15500, 31500}));
    EXPECT_TRUE(h.timed_out);
    EXPECT_EQ(h.times_of("end"), (std::vector<std::uint64_t>{32000}));
    EXPECT_EQ(h.m.current(), state::terminated);
}

TEST(ClientInvite, ProvisionalStopsRetransmitsAndFinalGetsAckUntilTimerD) {
    harness<client_transaction> h(client_transaction(true, false, t));
    h.apply(h.m.start());
    h.run_until(600 * ms);
    h.apply(h.m.on_response(180));
    EXPECT_EQ(h.m.current(), state::proceeding);
    h.run_until(5000 * ms);
    EXPECT_EQ(h.times_of("request"), (std::vector<std::uint64_t>{0, 500}));
    h.apply(h.m.on_response(486));
    EXPECT_EQ(h.m.current(), state::completed);
    h.run_until(6000 * ms);
    h.apply(h.m.on_response(486));  // retransmitted final: ACK again, nothing passed up
    EXPECT_EQ(h.times_of("ack"), (std::vector<std::uint64_t>{5000, 6000}));
    EXPECT_EQ(h.times_of("up"), (std::vector<std::uint64_t>{600, 5000}));
    h.run_until(40000 * ms);
    EXPECT_EQ(h.times_of("end"), (std::vector<std::uint64_t>{37000}));  // Timer D: 32 s
    EXPECT_FALSE(h.timed_out);
}

TEST(ClientInvite, TwoHundredEndsTheTransactionAtOnce) {
    harness<client_transaction> h(client_transaction(true, false, t));
    h.apply(h.m.start());
    h.run_until(100 * ms);
    h.apply(h.m.on_response(200));
    EXPECT_EQ(h.m.current(), state::terminated);
    EXPECT_TRUE(h.times_of("ack").empty());  // the ACK for 2xx is end to end
    h.run_until(40000 * ms);
    EXPECT_EQ(h.times_of("request"), (std::vector<std::uint64_t>{0}));
}

TEST(ClientNonInvite, TimerECapsAtT2AndTimerFTimesOut) {
    harness<client_transaction> h(client_transaction(false, false, t));
    h.apply(h.m.start());
    h.run_until(40000 * ms);
    EXPECT_EQ(h.times_of("request"),
              (std::vector<std::uint64_t>{0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
    EXPECT_TRUE(h.timed_out);
}

TEST(ClientNonInvite, ProceedingRetransmitsEveryT2ThenFinalWaitsTimerK) {
    harness<client_transaction> h(client_transaction(false, false, t));
    h.apply(h.m.start());
    h.run_until(700 * ms);
    h.apply(h.m.on_response(100));
    h.run_until(9000 * ms);
    EXPECT_EQ(h.times_of("request"), (std::vector<std::uint64_t>{0, 500, 1500, 5500}));
    h.apply(h.m.on_response(200));
    h.apply(h.m.on_response(200));  // absorbed in Completed
    EXPECT_EQ(h.times_of("up"), (std::vector<std::uint64_t>{700, 9000}));
    h.run_until(20000 * ms);
    EXPECT_EQ(h.times_of("end"), (std::vector<std::uint64_t>{14000}));  // Timer K: T4
}

TEST(ClientOverReliableTransport, NeverRetransmits) {
    harness<client_transaction> h(client_transaction(true, true, t));
    h.apply(h.m.start());
    h.run_until(40000 * ms);
    EXPECT_EQ(h.times_of("request"), (std::vector<std::uint64_t>{0}));
    EXPECT_TRUE(h.timed_out);
}

TEST(ServerInvite, FinalResponseRetransmittedOnTimerGUntilAck) {
    harness<server_transaction> h(server_transaction(true, false, t));
    h.apply(h.m.on_retransmission());  // nothing sent yet: nothing to resend
    h.apply(h.m.on_send(100));
    h.run_until(200 * ms);
    h.apply(h.m.on_retransmission());
    h.apply(h.m.on_send(486));
    h.run_until(5000 * ms);
    EXPECT_EQ(h.times_of("response"), (std::vector<std::uint64_t>{0, 200, 200, 700, 1700, 3700}));
    h.apply(h.m.on_ack());
    EXPECT_EQ(h.m.current(), state::confirmed);
    h.apply(h.m.on_ack());  // absorbed
    h.apply(h.m.on_retransmission());
    h.run_until(20000 * ms);
    EXPECT_EQ(h.times_of("response").size(), 6u);
    EXPECT_EQ(h.times_of("end"), (std::vector<std::uint64_t>{10000}));  // Timer I: T4
    EXPECT_FALSE(h.timed_out);
}

TEST(ServerInvite, NoAckTimesOutOnTimerH) {
    harness<server_transaction> h(server_transaction(true, false, t));
    h.apply(h.m.on_send(404));
    h.run_until(40000 * ms);
    EXPECT_TRUE(h.timed_out);
    EXPECT_EQ(h.times_of("end"), (std::vector<std::uint64_t>{32000}));
    // G: 500, 1000, 2000, 4000 capped at T2: 0.5 1.5 3.5 7.5 11.5 ... 31.5
    EXPECT_EQ(h.times_of("response").size(), 11u);
}

TEST(ServerInvite, TwoHundredEndsIt) {
    harness<server_transaction> h(server_transaction(true, false, t));
    h.apply(h.m.on_send(100));
    h.apply(h.m.on_send(200));
    EXPECT_EQ(h.m.current(), state::terminated);
    EXPECT_EQ(h.times_of("response").size(), 2u);
}

TEST(ServerNonInvite, AbsorbsUntilAnsweredThenResendsUntilTimerJ) {
    harness<server_transaction> h(server_transaction(false, false, t));
    h.apply(h.m.on_retransmission());
    EXPECT_TRUE(h.log.empty());
    h.run_until(300 * ms);
    h.apply(h.m.on_send(200));
    h.run_until(1000 * ms);
    h.apply(h.m.on_retransmission());
    h.apply(h.m.on_send(500));  // a second final is refused
    EXPECT_EQ(h.times_of("response"), (std::vector<std::uint64_t>{300, 1000}));
    h.run_until(40000 * ms);
    EXPECT_EQ(h.times_of("end"), (std::vector<std::uint64_t>{32300}));  // Timer J: 64*T1
}

} // namespace
} // namespace sipfast::txn
