// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the whole proxy, not only the parser: shard 0 of two
// (sipfast::proxy::pipeline; what shard 1 owns comes back to it as through a mailbox) in stateful
// mode with record-route, our domains, a registrar on an in-memory location store, digest
// authentication, forking, [[peer]] policy and a table small enough to fill, driven by an explicit
// clock. The input is a sequence of events (see `event_kind`): each picks a source (trusted peers
// and strangers, IPv4 and IPv6), a transport, how far the clock moves (timers fire through
// on_tick) and a message: raw bytes, or a template of a real request or response with fuzz bytes
// spliced in. Templates answer what the proxy last sent (the Via branch of a forwarded request,
// the nonce of a challenge, the Record-Route of a 2xx), so the transaction, forking, dialog and
// authentication paths are reached; what the proxy sent may also be fed back in. Every run starts
// from a fresh shard and fresh shared services, so a run depends on its input alone. At the end the
// clock runs past every timer: a transaction slot, stored copy or gauge left over is a leak and
// aborts the run (built with ASan/UBSan, which catch the rest).
// SIPFAST_FUZZ_TRACE=1 prints the first line of every message in and out (2: all of it), to read
// what a crashing input does.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pipeline_fuzz_messages.hpp"
#include "sipfast/auth/digest.hpp"
#include "sipfast/auth/nonce.hpp"
#include "sipfast/auth/nonce_counts.hpp"
#include "sipfast/auth/subscribers.hpp"
#include "sipfast/auth/users.hpp"
#include "sipfast/proxy/pipeline.hpp"
#include "sipfast/registrar/aliases.hpp"
#include "sipfast/registrar/location_store.hpp"
#include "sipfast/sip/parser.hpp"

namespace {

using namespace sipfast;
using proxy::net_address;
using sipfast::fuzz::message_text;

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t sec = 1'000 * ms;
// The clock starts late enough that nothing computes a time before zero.
constexpr std::uint64_t start_ns = 1'000 * sec;
int tracing = 0;  // 1: first lines, 2: whole messages

// The first line of a message, or all of it, for the trace.
std::string_view first_line(std::string_view m) {
    return tracing > 1 ? m : m.substr(0, std::min(m.find('\r'), std::size_t{120}));
}

// The wall clock the registrar writes on (its Date comes from the real one; expiries do not).
constexpr std::int64_t unix_base_ns = 1'800'000'000'000'000'000;

net_address address(std::string_view text) {
    net_address a;
    if (!core::parse_ip_port(text, 5060, a)) {
        std::fprintf(stderr, "bad address in the fuzz target: %.*s\n", static_cast<int>(text.size()), text.data());
        std::abort();
    }
    return a;
}

proxy::subnet network(std::string_view ip, unsigned prefix) { return {address(ip), prefix}; }

// Where messages come from. The first is a trusted peer never challenged, the phones are peers
// that must authenticate, then strangers, then the loopback and our own address (a loop).
struct source {
    std::string_view text;
    net_address at;
};
const std::array<source, 8>& sources() {
    static const std::array<source, 8> s{{
        {"198.18.0.9:5070", address("198.18.0.9:5070")},
        {"198.18.0.20:5062", address("198.18.0.20:5062")},
        {"198.18.0.21:5064", address("198.18.0.21:5064")},
        {"203.0.113.5:5060", address("203.0.113.5:5060")},
        {"[2001:db8::9]:5070", address("[2001:db8::9]:5070")},
        {"[2001:db8:ffff::5]:5062", address("[2001:db8:ffff::5]:5062")},
        {"127.0.0.1:5060", address("127.0.0.1:5060")},
        {"198.18.0.1:5060", address("198.18.0.1:5060")},
    }};
    return s;
}

// Sixteen configurations, by four bits: sequential forking, authentication of every call (not only
// registrations), record-route off, a message store of one chunk (its first size class takes it,
// so any other copy is refused: the store-full paths). Timers are a tenth of RFC 3261's so a run's
// clock reaches every one of them quickly.
proxy::proxy_config make_config(unsigned variant) {
    proxy::proxy_config c;
    c.listen = {{sip::transport::udp, address("198.18.0.1:5060")},
                {sip::transport::tcp, address("198.18.0.1:5060")},
                {sip::transport::udp, address("[2001:db8::1]:5060")},
                {sip::transport::tcp, address("[2001:db8::1]:5060")}};
    c.mode = proxy::proxy_mode::stateful;
    c.domains = {"example.com", "example.org"};
    c.record_route = (variant & 4) == 0;
    c.extensions = {"path", "100rel"};
    c.routes = {{"trunk.example.net", "", address("198.18.0.40:5060"), sip::transport::udp},
                {"", "+1", address("[2001:db8::40]:5060"), sip::transport::tcp}};
    c.locations = {{"carol", "example.com", "sip:carol@198.18.0.30:5060;transport=tcp", address("198.18.0.30:5060"),
                    sip::transport::tcp}};
    c.serve_registrations = true;
    c.registrar_limits = {1, 120, 30, 3};
    auto aliases = std::make_shared<registrar::alias_map>();
    (void)aliases->add("sip:bob@example.com", {"sip:1012@example.com", "tel:1012"});
    c.aliases = aliases;
    c.service_route = {"<sip:scscf.example.com;lr>"};
    c.auth.mode = (variant & 2) != 0 ? proxy::auth_mode::all : proxy::auth_mode::registrations;
    auto users = std::make_shared<auth::user_directory>();
    users->add_password("bob", "example.com", "secret");
    users->add_password("alice", "example.com", "wonder");
    users->add_md5_ha1("dave", "example.org", "0123456789abcdef0123456789abcdef");
    c.auth.users = users;
    // carol is an IMS subscriber: her REGISTERs take the AKA path (TS 35.208 set 1's K and OPc).
    auto subscribers = std::make_shared<auth::subscriber_directory>();
    (void)subscribers->add("carol-private@example.com", {"carol@example.com"},
                           {0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc},
                           {0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf},
                           {0x80, 0x00}, 0);
    c.auth.subscribers = subscribers;
    c.auth.trusted = {network("198.18.0.8", 29)};
    c.auth.nonce_lifetime_ns = 30 * sec;
    c.memory_per_shard = (variant & 8) != 0 ? std::size_t{256} << 10 : std::size_t{2} << 20;
    c.transactions_per_shard = 12;
    c.dialogs_per_shard = 6;
    c.dialog_timeout_ns = 20 * sec;
    c.t1_ns = 50 * ms;
    c.t2_ns = 400 * ms;
    c.t4_ns = 500 * ms;
    c.timer_c_ns = 18 * sec;
    c.policy.peers = {{network("198.18.0.0", 24), {}}, {network("[2001:db8::]", 64), {network("198.18.0.40", 32)}}};
    c.forking = (variant & 1) != 0 ? proxy::fork_mode::sequential : proxy::fork_mode::parallel;
    c.branch_timeout_ns = 2 * sec;
    return c;
}

const std::array<proxy::proxy_config, 16>& configs() {
    static const std::array<proxy::proxy_config, 16> c = [] {
        std::array<proxy::proxy_config, 16> all;
        for (unsigned v = 0; v < all.size(); ++v) all[v] = make_config(v);
        return all;
    }();
    return c;
}

enum class event_kind : std::uint8_t {
    raw,          ///< the fuzz bytes as a datagram
    request,      ///< a request from a template
    response,     ///< a callee's answer to a request the proxy forwarded
    feed_back,    ///< something the proxy sent comes back in
    from_answer,  ///< the caller acts on an answer: ACK, an in-dialog request, a CANCEL
    challenge,    ///< a request answering the last challenge with credentials
    repeat,       ///< a request sent before, again or cancelled
    quiet,        ///< only time passes
    count_
};

// One message the proxy sent, as the test keeps it.
struct sent {
    net_address to;
    sip::transport transport = sip::transport::udp;
    std::string bytes;
};

class world {
public:
    explicit world(const proxy::proxy_config& config)
        : config_(config), store_(registrar::make_memory_store()), counts_(config.auth.nonce_lifetime_ns),
          pipeline_(config, 0, start_ns, 2) {
        pipeline_.attach({store_.get(), &nonces_, &counts_});
        out_.set_drain(
            [](void* self, proxy::outbox& full) {
                static_cast<world*>(self)->collect(full);
                full.clear();
            },
            this);
        // bob has registered two phones (from a trusted peer, so unchallenged): a call to him forks
        // from the first event on. A run may still unregister him, or let the bindings lapse.
        deliver("REGISTER sip:example.com SIP/2.0\r\n"
                "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKreg0\r\n"
                "From: <sip:bob@example.com>;tag=r0\r\nTo: <sip:bob@example.com>\r\n"
                "Call-ID: reg0@h\r\nCSeq: 1 REGISTER\r\nExpires: 120\r\n"
                "Contact: <sip:bob@198.18.0.20:5062>;q=1.0, <sip:bob@198.18.0.21:5064>;q=0.5\r\n"
                "Content-Length: 0\r\n\r\n",
                sources()[0].at, sip::transport::udp);
        answers_.clear();
    }

    void step(FuzzedDataProvider& in) {
        const auto kind = static_cast<event_kind>(in.ConsumeIntegralInRange<int>(0, static_cast<int>(event_kind::count_) - 1));
        advance(in);
        switch (kind) {
        case event_kind::raw: {
            const source& from = pick_source(in);
            const sip::transport tp = in.ConsumeBool() ? sip::transport::tcp : sip::transport::udp;
            deliver(in.ConsumeRandomLengthString(4096), from.at, tp);
            break;
        }
        case event_kind::request: request(in); break;
        case event_kind::response: response(in); break;
        case event_kind::feed_back: feed_back(in); break;
        case event_kind::from_answer: from_answer(in); break;
        case event_kind::challenge: challenge(in); break;
        case event_kind::repeat: repeat(in); break;
        case event_kind::quiet:
        case event_kind::count_: break;
        }
    }

    /// Runs the clock past every timer a transaction or dialog can hold, then checks that nothing is
    /// left: every slot freed, every stored copy given back, the gauges at zero.
    void finish() {
        for (int i = 0; i < 8; ++i) tick(now_ + 30 * sec);
        const proxy::shard_stats& st = pipeline_.stats();
        const bool leak = pipeline_.transactions() != 0 || pipeline_.stored_bytes() != 0 ||
                          st.transactions_active.get() != 0 || st.transactions_pending.get() != 0 ||
                          st.dialogs_active.get() != 0;
        if (leak) {
            std::fprintf(stderr,
                         "state left after every timer ran: %zu transactions, %zu stored bytes, gauges active %llu "
                         "pending %llu dialogs %llu\n",
                         pipeline_.transactions(), pipeline_.stored_bytes(),
                         static_cast<unsigned long long>(st.transactions_active.get()),
                         static_cast<unsigned long long>(st.transactions_pending.get()),
                         static_cast<unsigned long long>(st.dialogs_active.get()));
            for (std::size_t c = 0; c < st.drops.size(); ++c)
                if (st.drops[c].get() != 0) {
                    const std::string_view name = proxy::drop_cause_name(static_cast<proxy::drop_cause>(c));
                    std::fprintf(stderr, "  dropped %.*s: %llu\n", static_cast<int>(name.size()), name.data(),
                                 static_cast<unsigned long long>(st.drops[c].get()));
                }
            std::abort();
        }
    }

private:
    // The clock moves by one of a few steps that matter to the timers (T1, T2, Timer C, the
    // nonce and binding lifetimes), or by a fuzzed amount.
    void advance(FuzzedDataProvider& in) {
        static constexpr std::array<std::uint64_t, 12> steps{0,       1 * ms,  10 * ms, 50 * ms,  100 * ms, 400 * ms,
                                                              1 * sec, 2 * sec, 4 * sec, 19 * sec, 31 * sec, 0};
        std::uint64_t d = steps[in.ConsumeIntegralInRange<std::size_t>(0, steps.size() - 1)];
        if (d == 0 && in.ConsumeBool()) d = in.ConsumeIntegralInRange<std::uint64_t>(0, 5 * sec);
        if (d != 0) tick(now_ + d);
    }

    void tick(std::uint64_t to) {
        now_ = to;
        if (tracing) std::fprintf(stderr, "%8.3f tick\n", static_cast<double>(now_ - start_ns) / 1e9);
        pipeline_.on_tick(now_, out_);
        collect(out_);
        // The daemon's sweeper does this once a second on its own thread.
        (void)store_->expire({now_, unix_base_ns + static_cast<std::int64_t>(now_)});
    }

    const source& pick_source(FuzzedDataProvider& in) {
        return sources()[in.ConsumeIntegralInRange<std::size_t>(0, sources().size() - 1)];
    }

    const proxy::listen_point* listen_for(const net_address& from, sip::transport tp) const {
        for (const proxy::listen_point& l : config_.listen)
            if (l.transport == tp && l.address.family == from.family) return &l;
        return &config_.listen[0];
    }

    // One message in, as a backend hands it over: its own buffer with the parser's padding after it,
    // freed once the pipeline returns so ASan sees any view kept past it.
    void deliver(std::string_view bytes, net_address from, sip::transport tp) {
        std::unique_ptr<char[]> buf(new char[bytes.size() + sip::padding_bytes]());
        if (!bytes.empty()) std::memcpy(buf.get(), bytes.data(), bytes.size());
        const proxy::inbound in{std::string_view(buf.get(), bytes.size()), from, listen_for(from, tp), false, now_};
        if (tracing)
            std::fprintf(stderr, "%8.3f in  %-24s %s %.*s\n", static_cast<double>(now_ - start_ns) / 1e9,
                         fuzz::host_port(from).c_str(), tp == sip::transport::tcp ? "tcp" : "udp",
                         static_cast<int>(first_line(bytes).size()), first_line(bytes).data());
        // Shard 0 of two: what belongs to the other comes back as if through its mailbox (this shard
        // stands in for it), so ownership and hand-over are walked too.
        if (pipeline_.on_packet(in, now_, out_) != 0) {
            proxy::inbound moved = in;
            moved.handed_over = true;
            (void)pipeline_.on_packet(moved, now_, out_);
        }
        collect(out_);
    }

    void collect(proxy::outbox& o) {
        for (std::size_t i = 0; i < o.size(); ++i) {
            const auto b = o.bytes(o[i]);
            sent s{o[i].destination, o[i].transport, std::string(b.data(), b.size())};
            if (tracing)
                std::fprintf(stderr, "%8.3f out %-24s %s %.*s\n", static_cast<double>(now_ - start_ns) / 1e9,
                             fuzz::host_port(s.to).c_str(), s.transport == sip::transport::tcp ? "tcp" : "udp",
                             static_cast<int>(first_line(s.bytes).size()), first_line(s.bytes).data());
            auto& list = s.bytes.starts_with("SIP/2.0 ") ? answers_ : requests_;
            list.push_back(std::move(s));
            if (list.size() > 8) list.pop_front();
        }
        o.clear();
    }

    // Picks one of the last messages in `list` (the newest when the input says nothing); null when
    // there is none.
    static const sent* pick(FuzzedDataProvider& in, const std::deque<sent>& list) {
        if (list.empty()) return nullptr;
        const std::size_t back = in.ConsumeIntegralInRange<std::size_t>(0, 7) % list.size();
        return &list[list.size() - 1 - back];
    }

    // `from` by value: it often names an entry of a list that this very delivery moves on.
    void send_text(FuzzedDataProvider& in, message_text& m, net_address from, sip::transport tp) {
        fuzz::splice(in, m);
        std::string text = m.text();
        deliver(text, from, tp);
        sent_in_.push_back({from, tp, std::move(text)});
        if (sent_in_.size() > 4) sent_in_.pop_front();
    }

    void request(FuzzedDataProvider& in) {
        const source& from = pick_source(in);
        const sip::transport tp = in.ConsumeBool() ? sip::transport::tcp : sip::transport::udp;
        message_text m = fuzz::request_template(in, from.text, tp);
        send_text(in, m, from.at, tp);
    }

    // A callee answers a request the proxy sent it, usually from where it was sent.
    void response(FuzzedDataProvider& in) {
        const sent* req = pick(in, requests_);
        if (req == nullptr || req->bytes.starts_with("ACK ")) return;  // nobody answers an ACK
        const bool elsewhere = in.ConsumeIntegralInRange<int>(0, 7) == 7;
        const net_address from = elsewhere ? pick_source(in).at : req->to;
        message_text m = fuzz::response_template(in, req->bytes, req->to);
        send_text(in, m, from, req->transport);
    }

    void feed_back(FuzzedDataProvider& in) {
        const sent* s = pick(in, in.ConsumeBool() ? requests_ : answers_);
        if (s == nullptr) return;
        std::string bytes = s->bytes;
        // A byte changed on the way, sometimes.
        if (!bytes.empty() && in.ConsumeBool())
            bytes[in.ConsumeIntegralInRange<std::size_t>(0, bytes.size() - 1)] = in.ConsumeIntegral<char>();
        const net_address from = in.ConsumeBool() ? s->to : pick_source(in).at;
        deliver(bytes, from, s->transport);
    }

    // The caller acts on what it was answered: an ACK (of a 2xx end to end, of a failure hop by
    // hop), a request within the dialog, a CANCEL while it rings.
    void from_answer(FuzzedDataProvider& in) {
        const sent* a = pick(in, answers_);
        if (a == nullptr) return;
        message_text m = fuzz::caller_follow_up(in, a->bytes, a->to);
        send_text(in, m, a->to, a->transport);
    }

    // The caller answers a 401 or 407 it was sent, with the right password or not.
    void challenge(FuzzedDataProvider& in) {
        for (auto it = answers_.rbegin(); it != answers_.rend(); ++it) {
            message_text m;
            if (!fuzz::credentials_for(in, it->bytes, it->to, m)) continue;
            send_text(in, m, it->to, it->transport);
            return;
        }
    }

    // A request sent before comes again (a retransmission) or is cancelled.
    void repeat(FuzzedDataProvider& in) {
        if (sent_in_.empty()) return;
        const sent& s = sent_in_[in.ConsumeIntegralInRange<std::size_t>(0, 3) % sent_in_.size()];
        if (in.ConsumeBool()) return deliver(std::string(s.bytes), s.to, s.transport);
        message_text m;
        if (!fuzz::cancel_of(s.bytes, m)) return;
        const net_address from = s.to;
        const sip::transport tp = s.transport;
        send_text(in, m, from, tp);
    }

    const proxy::proxy_config& config_;
    std::unique_ptr<registrar::location_store> store_;
    // A fixed secret: the same input makes the same nonces.
    auth::nonce_source nonces_{std::array<std::uint8_t, auth::nonce_source::secret_bytes>{7, 1, 3}};
    auth::nonce_counts counts_;
    proxy::pipeline pipeline_;
    proxy::outbox out_{std::size_t{96} << 10, 16};
    std::uint64_t now_ = start_ns;
    std::deque<sent> requests_;  // requests the proxy sent (forwarded, CANCEL, ACK)
    std::deque<sent> answers_;   // responses the proxy sent (its own and relayed)
    std::deque<sent> sent_in_;   // requests the test sent, with their source (here: `to`)
};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The branch MAC's key: fixed, so a run is the same every time.
    setenv("SIPFAST_BRANCH_SECRET", "000102030405060708090a0b0c0d0e0f", 1);
    if (const char* t = std::getenv("SIPFAST_FUZZ_TRACE")) tracing = std::atoi(t);
    (void)configs();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    world w(configs()[in.ConsumeIntegralInRange<std::size_t>(0, configs().size() - 1)]);
    for (int events = 0; events < 64 && in.remaining_bytes() != 0; ++events) w.step(in);
    w.finish();
    return 0;
}
