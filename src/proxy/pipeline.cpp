// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/pipeline.hpp"

#include <array>
#include <cstring>
#include <utility>

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/proxy/response.hpp"
#include "sipfast/sip/cseq.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::proxy {

namespace {

constexpr std::string_view allow_lines =
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, SUBSCRIBE, NOTIFY, MESSAGE, INFO, PRACK, UPDATE, REFER\r\n"
    "Accept: application/sdp\r\n";
constexpr std::string_view magic_cookie = "z9hG4bK";
constexpr std::string_view our_branch_prefix = "z9hG4bKsf";  // then shard, '.', request hash, '.', loop hash

std::string_view hex64(std::uint64_t v, std::array<char, 16>& buf) noexcept {
    constexpr char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
        buf[static_cast<std::size_t>(i)] = digits[v & 15];
        v >>= 4;
    }
    return {buf.data(), buf.size()};
}

struct hasher {
    // XXH3 over the concatenation, streamed through a small buffer so nothing is allocated.
    std::array<char, 512> buf{};
    std::size_t n = 0;
    std::uint64_t acc = 0;
    void add(std::string_view s) noexcept {
        while (!s.empty()) {
            const std::size_t k = std::min(s.size(), buf.size() - n);
            std::memcpy(buf.data() + n, s.data(), k);
            n += k;
            s.remove_prefix(k);
            if (n == buf.size()) flush();
        }
        add_sep();
    }
    void add_sep() noexcept {
        if (n == buf.size()) flush();
        buf[n++] = '\x1f';
    }
    void flush() noexcept {
        acc = core::call_id_hash(std::string_view(buf.data(), n)) ^ (acc * 0x9E3779B97F4A7C15ull);
        n = 0;
    }
    std::uint64_t done() noexcept {
        flush();
        return acc;
    }
};

// Destination of a URI, when its host is a literal address.
bool uri_destination(const sip::uri& u, net_address& out) noexcept {
    if (u.host_type != sip::host_kind::ipv4 && u.host_type != sip::host_kind::ipv6) return false;
    if (!parse_ip(u.host, out)) return false;
    out.port = u.has_port ? u.port : std::uint16_t{5060};
    return true;
}

bool starts_with(std::string_view s, std::string_view p) noexcept { return s.substr(0, p.size()) == p; }

// The transport a URI's transport= parameter names, or `otherwise` when it has none.
sip::transport uri_transport(const sip::uri& u, sip::transport otherwise) noexcept {
    const sip::param p = u.params.find("transport");
    return p.name.empty() ? otherwise : sip::classify_transport(p.value);
}

// RFC 3261 §18.1.1: 200 bytes under the 1500-byte Ethernet MTU, the path MTU being unknown.
constexpr std::size_t max_udp_request = 1300;

bool parse_hex(std::string_view s, std::uint32_t& v) noexcept {  // lower-case hex digits, as we write them
    v = 0;
    for (char c : s) {
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v * 16 + static_cast<std::uint32_t>(d);
    }
    return !s.empty();
}

} // namespace

std::uint32_t message_owner(const sip::message& m, std::uint32_t shards, std::uint32_t otherwise) noexcept {
    if (m.is_request()) return core::owner_shard(m.call_id, shards);
    std::uint32_t s = 0;
    const std::string_view b = m.top_via.branch;
    if (m.is_response() && starts_with(b, our_branch_prefix) && parse_hex(b.substr(our_branch_prefix.size(), 4), s) &&
        s < shards)
        return s;
    return otherwise;
}

struct pipeline::transaction {
    transaction() noexcept {}  // user-provided: the two message buffers are not zeroed per insert

    txn::server_transaction server;
    txn::client_transaction client;
    bool invite = false;
    bool client_started = false;
    bool server_done = false;
    bool client_done = false;
    bool provisional_seen = false;
    bool cancel_pending = false;
    bool cancel_sent = false;
    bool cancel_done = false;
    bool upstream_cancelled = false;  // the caller sent CANCEL: a give-up answers 487, not 408
    bool initial = false;             // no To tag: a 2xx to it creates a dialog
    bool final_sent = false;  // the client has its final answer (or never will): not pending
    txn::client_transaction cancel;  // our CANCEL downstream: a non-INVITE client transaction (§9.1)
    std::uint32_t slot = 0;
    // server retransmit and lifetime, client retransmit and lifetime, CANCEL retransmit and lifetime
    // ... and Timer C (§16.6 step 11): an INVITE that rings without end is cancelled, then given up.
    core::timer_handle timers[7];
    net_address upstream;
    net_address downstream;
    sip::transport upstream_transport = sip::transport::udp;
    sip::transport downstream_transport = sip::transport::udp;
    std::uint64_t received_ns = 0;  // when the request arrived: call setup time
    std::uint32_t request_len = 0;
    std::uint32_t response_len = 0;
    char request[4096];   // the request as forwarded: retransmitted, and read to build CANCEL and ACK
    char response[4096];  // the last response sent upstream: resent to a retransmitted request
};

namespace {

// Timer cookies: generation in the high half, then the slot, then the timer letter.
std::uint64_t cookie(std::uint32_t generation, std::uint32_t slot, txn::timer t) noexcept {
    return (std::uint64_t{generation} << 32) | (std::uint64_t{slot} << 4) | static_cast<std::uint64_t>(t);
}

int side_of(txn::timer t) noexcept {  // index into transaction::timers
    switch (t) {
    case txn::timer::G: return 0;
    case txn::timer::H:
    case txn::timer::I:
    case txn::timer::J: return 1;
    case txn::timer::A:
    case txn::timer::E: return 2;
    default: return 3;
    }
}

} // namespace

pipeline::pipeline(const proxy_config& config, std::uint32_t shard, std::uint64_t now_ns, std::uint32_t shards,
                   const location_service* locations)
    : config_(&config), configured_locations_(config.locations), own_locations_(locations == nullptr),
      locations_(locations ? locations : &configured_locations_), shard_(shard), shards_(shards == 0 ? 1 : shards), slots_(sip::default_header_slots), now_ns_(now_ns),
      transactions_(config.mode == proxy_mode::stateful
                        ? std::make_unique<core::shard_table<transaction, 192>>(config.transactions_per_shard)
                        : nullptr),
      generations_(config.mode == proxy_mode::stateful ? config.transactions_per_shard : 0),
      dialogs_(config.mode == proxy_mode::stateful ? std::make_unique<dialog_tracker>(config.dialogs_per_shard) : nullptr),
      // Up to seven timers per transaction (two per side, two for our CANCEL, Timer C), one per dialog.
      wheel_(config.mode == proxy_mode::stateful ? config.transactions_per_shard * 7 + config.dialogs_per_shard : 1,
             1'000'000, now_ns),
      aux_slots_(sip::default_header_slots) {}

pipeline::~pipeline() = default;

void pipeline::reconfigure(const proxy_config& config) noexcept {
    // Table sizes and the mode stay (the daemon refuses a reload that changes them); everything
    // else is read from the config as each message is handled.
    config_ = &config;
    configured_locations_ = static_locations(config.locations);
    if (own_locations_) locations_ = &configured_locations_;
}

bool pipeline::is_us(std::string_view host, std::uint16_t port, bool has_port) const noexcept {
    const std::uint16_t p = has_port ? port : std::uint16_t{5060};
    for (const listen_point& l : config_->listen)
        if (l.address.port == p && same_ip(host, l.address)) return true;
    return false;
}

const listen_point* pipeline::local_for(sip::transport t, std::uint8_t family, const listen_point* prefer) const noexcept {
    if (prefer != nullptr && prefer->transport == t && prefer->address.family == family) return prefer;
    for (const listen_point& l : config_->listen)
        if (l.transport == t && l.address.family == family) return &l;
    return nullptr;
}

std::string_view pipeline::record_route_line(const listen_point& side, sip::edit_error& err) noexcept {
    std::array<char, 48> host_buf{};
    return editor_.keep({"Record-Route: <sip:", format_host(side.address, host_buf), ":",
                         editor_.keep_number(side.address.port, err),
                         side.transport == sip::transport::tcp ? ";transport=tcp;lr>\r\n" : ";lr>\r\n"},
                        err);
}

bool pipeline::is_our_domain(std::string_view host, std::uint16_t port, bool has_port) const noexcept {
    // A domain written as an address is us only on our ports: 127.0.0.1:5070 is another endpoint
    // on the same host, the Contact of an in-dialog request. A name matches on any port we listen on.
    bool port_ok = !has_port;
    for (const listen_point& l : config_->listen) port_ok = port_ok || l.address.port == port;
    if (!port_ok) return false;
    for (const std::string& d : config_->domains)
        if (sip::iequals(host, d)) return true;
    return false;
}

std::uint32_t pipeline::on_packet(const inbound& in, std::uint64_t now_ns, outbox& out) noexcept {
    if (now_ns > now_ns_) now_ns_ = now_ns;
    const sip::parse_result r = sip::parse(in.data, msg_, slots_);
    if (r.ok() && transactions_ && shards_ > 1 && !in.handed_over) {
        // Ownership (DESIGN §1): a request by its Call-ID, a response by the shard in our branch.
        const std::uint32_t owner = message_owner(msg_, shards_, shard_);
        if (owner != shard_) return owner;
    }
    if (!r.ok()) {
        ++stats_.parse_errors[static_cast<std::size_t>(r.error)];
        stats_.count_drop(drop_cause::malformed);
        last_fault_ = fault{r.error, in.source};
        std::array<char, 16> tag_buf{};
        int status = 0;
        const std::span<char> room = out.reserve(2048);
        const std::size_t n = room.empty() ? 0 : write_error_response(msg_, r, to_tag(msg_.call_id, tag_buf), room, status);
        if (n != 0) {
            out.commit(in.source, in.local ? in.local->transport : sip::transport::udp, n);
            ++stats_.replied[status_class(status)];
        }
        return shard_;
    }
    if (!msg_.is_request() && !msg_.is_response()) return shard_;  // keep-alive
    editor_.reset(in.data.substr(0, r.consumed));
    if (msg_.is_request()) on_request(in, out);
    else on_response(in, out);
    return shard_;
}

void pipeline::reply(const inbound& in, int status, std::string_view reason, std::string_view extra_lines,
                     outbox& out) noexcept {
    // RFC 3581 §4 and RFC 3261 §18.2.2: the answer goes back to where the request came from.
    std::array<char, 16> tag_buf{};
    const std::string_view tag = to_tag(msg_.call_id, tag_buf);
    const std::span<char> room = out.reserve(2048);
    const std::size_t n = room.empty() ? 0 : write_response(msg_, status, reason, tag, extra_lines, room, false, &in.source);
    if (n == 0) {
        stats_.count_drop(drop_cause::outbox_full);
        return;
    }
    out.commit(in.source, in.local ? in.local->transport : sip::transport::udp, n);
    ++stats_.replied[status_class(status)];
}

// The To tag of the responses we make ourselves: stable per call, so a retransmitted request that
// a stateless proxy answers again gets the same tag.
std::string_view pipeline::to_tag(std::string_view call_id, std::array<char, 16>& buf) const noexcept {
    return hex64(core::call_id_hash(call_id) ^ shard_, buf).substr(0, 10);
}

void pipeline::send_edited(const net_address& to, sip::transport t, outbox& out) noexcept {
    const std::uint8_t latency = std::exchange(tag_latency_, std::uint8_t{0});  // this message's only
    const std::span<char> room = out.reserve(editor_.size());
    if (room.empty() || editor_.serialize(room) == 0) {
        stats_.count_drop(drop_cause::outbox_full);
        return;
    }
    out.commit(to, t, room.size(), latency, tag_received_ns_);
}

void pipeline::on_request(const inbound& in, outbox& out) noexcept {
    ++stats_.received_requests[static_cast<std::size_t>(msg_.method)];
    const sip::message& m = msg_;
    const bool ack = m.method == sip::method::ack;
    transaction* t = nullptr;
    if (transactions_) {
        bool done = false;
        t = open_transaction(in, out, done);
        if (done) return;
    }
    // Every edit is checked: a request needing more edits or generated text than the editor holds
    // (dozens of our own Route values) is refused rather than forwarded half edited.
    sip::edit_error err = sip::edit_error::none;
    const auto note = [&](sip::edit_error e) {
        if (e != sip::edit_error::none) err = e;
    };
    const auto refuse = [&](int status, std::string_view reason, std::string_view extra = {}) {
        if (t != nullptr) respond(*t, m, false, status, reason, extra, out);
        else if (!ack) reply(in, status, reason, extra, out);  // an ACK is never answered (§17.2.3)
    };

    // Stopping: calls in progress go on, new ones are sent elsewhere (RFC 3261 §21.5.4).
    if (draining_ && m.to.tag.empty() && !ack && m.method != sip::method::cancel)
        return refuse(503, "Service Unavailable", "Retry-After: 30\r\n");

    // §16.3 step 2: a scheme we can route.
    const sip::uri_scheme scheme = m.request_uri.scheme;
    if (scheme != sip::uri_scheme::sip && scheme != sip::uri_scheme::sips && scheme != sip::uri_scheme::tel)
        return refuse(416, "Unsupported URI Scheme");

    bool ruri_is_us = m.request_uri.scheme != sip::uri_scheme::tel &&
                            is_us(m.request_uri.host, m.request_uri.port, m.request_uri.has_port);
    const bool options_for_us = m.method == sip::method::options && ruri_is_us && m.request_uri.user.empty();

    // §16.3 step 3: Max-Forwards.
    if (m.has_max_forwards && m.max_forwards == 0) {
        if (options_for_us) return refuse(200, "OK", allow_lines);
        return refuse(483, "Too Many Hops");
    }

    // §16.3 step 6: every option tag in Proxy-Require must be one we were told we support; the
    // others are listed in Unsupported.
    if (m.find(sip::header_id::proxy_require) != nullptr) {
        std::array<char, 512> list{};
        std::size_t n = 0;
        m.for_each_value(sip::header_id::proxy_require, [&](std::string_view tag) {
            for (const std::string& e : config_->extensions)
                if (sip::iequals(tag, e)) return true;
            for (std::string_view part : {n == 0 ? std::string_view("Unsupported: ") : std::string_view(", "), tag}) {
                const std::size_t k = std::min(part.size(), list.size() - 2 - n);  // room for the CRLF
                std::memcpy(list.data() + n, part.data(), k);
                n += k;
            }
            return true;
        });
        if (n != 0) {
            list[n++] = '\r';
            list[n++] = '\n';
            return refuse(420, "Bad Extension", editor_.keep({{list.data(), n}}, err));
        }
    }

    // §16.11: the branch of our Via. The first part hashes the received branch (RFC 3261 §16.11's
    // recommendation, so a retransmission, its CANCEL and a non-2xx ACK map to the same branch);
    // the second hashes what decides where the request goes, so a request that comes back unchanged
    // is a loop and one whose Request-URI changed is a spiral (§16.3 step 4).
    // A stateful branch names its transaction instead, so the first part is hashed only statelessly.
    hasher first;
    if (t == nullptr && starts_with(m.top_via.branch, magic_cookie)) {
        first.add(m.top_via.branch);
        first.add(m.top_via.host);
    } else if (t == nullptr) {
        // RFC 2543 peers: what a retransmission, its CANCEL and its non-2xx ACK share (not the
        // To tag or the CSeq method, which an ACK changes).
        first.add(m.top_via.text);
        first.add(m.from.tag);
        first.add(m.call_id);
        first.add({reinterpret_cast<const char*>(&m.cseq.number), sizeof m.cseq.number});
        first.add(m.request_uri_text);
    }
    hasher loop;
    loop.add(m.request_uri_text);
    loop.add(m.call_id);
    loop.add(m.from.tag);
    // An ACK's To tag is the one the response gave: the INVITE it acknowledges had none, and a
    // non-2xx ACK must leave with the INVITE's branch (§17.1.1.3), so the tag stays out of it.
    loop.add(m.method == sip::method::ack ? std::string_view{} : m.to.tag);
    m.for_each_value(sip::header_id::route, [&](std::string_view v) {
        loop.add(v);
        return true;
    });
    std::array<char, 16> first_hex{}, loop_hex{};
    const std::string_view first_part = t == nullptr ? hex64(first.done(), first_hex) : std::string_view{};
    const std::string_view loop_part = hex64(loop.done(), loop_hex);

    bool looped = false;
    m.for_each_value(sip::header_id::via, [&](std::string_view v) {
        if (v.find(our_branch_prefix) == std::string_view::npos) return true;
        sip::via via;
        if (sip::parse_via(v, via) != sip::parse_error::none) return true;
        const std::string_view b = via.branch;
        looped = is_us(via.host, via.port, via.has_port) && b.size() > loop_part.size() &&
                 b.substr(b.size() - loop_part.size()) == loop_part;
        return !looped;
    });
    if (looped) return refuse(482, "Loop Detected");

    // §16.4: a Request-URI that is ours came from a strict router: the last Route value is the real
    // one. A top Route that is ours is removed.
    sip::uri target = m.request_uri;
    std::string_view new_ruri;
    sip::name_addr next_route;
    bool have_next_route = false;
    bool strict_popped = false;
    if (ruri_is_us && m.request_uri.user.empty() && m.has_route) {
        // A strict router (RFC 2543) put our Record-Route URI in the Request-URI and the real
        // target last in Route: that value becomes the Request-URI and leaves the Route set.
        const sip::header* last = nullptr;
        for (const sip::header& h : m.headers)
            if (h.id == sip::header_id::route) last = &h;
        std::string_view rest = last->value, value, before;
        while (!rest.empty()) {
            const std::string_view v = sip::next_value(rest);
            if (!v.empty()) {
                before = value;
                value = v;
            }
        }
        sip::name_addr na;
        if (!value.empty() && sip::parse_name_addr(value, na) == sip::parse_error::none) {
            target = na.address;
            new_ruri = na.address.text;
            if (before.empty()) {
                note(editor_.remove(sip::header_line(editor_.original(), *last)));
            } else {  // ", <last>" after the previous value
                const char* from = before.data() + before.size();
                note(editor_.remove({from, static_cast<std::size_t>(value.data() + value.size() - from)}));
            }
            strict_popped = true;
            ruri_is_us = target.scheme != sip::uri_scheme::tel && is_us(target.host, target.port, target.has_port);
            // What is left of the Route set still leads: its first value is the next hop.
            std::string_view lead_rest = m.find(sip::header_id::route)->value;
            const std::string_view lead = sip::next_value(lead_rest);
            if (lead.data() != value.data() && sip::parse_name_addr(lead, next_route) == sip::parse_error::none &&
                !is_us(next_route.address.host, next_route.address.port, next_route.address.has_port))
                have_next_route = true;
        }
    }
    // §16.4 with RFC 5658: every leading Route value that is ours goes (a double Record-Route
    // comes back as two); the transport of the last one names the side to leave by.
    sip::transport left_by = sip::transport::unknown;
    if (m.has_route && !strict_popped) {
        bool stop = false;
        for (const sip::header& h : m.headers) {
            if (h.id != sip::header_id::route) continue;
            std::string_view rest = h.value;
            while (!stop && !rest.empty()) {
                const std::size_t ws = rest.find_first_not_of(" \t\r\n");
                if (ws == std::string_view::npos) break;
                const char* value = rest.data() + ws;
                sip::name_addr na;
                if (sip::parse_name_addr(rest, na, &rest) != sip::parse_error::none) {
                    stop = true;
                } else if (!is_us(na.address.host, na.address.port, na.address.has_port)) {
                    next_route = na;
                    have_next_route = true;
                    stop = true;
                    // The values of ours before it in this header go, with their commas.
                    if (value != h.value.data())
                        note(editor_.remove({h.value.data(), static_cast<std::size_t>(value - h.value.data())}));
                } else if (const sip::param tp = na.address.params.find("transport"); !tp.name.empty()) {
                    left_by = sip::classify_transport(tp.value);
                } else {
                    left_by = sip::transport::udp;
                }
            }
            if (stop) break;
            note(editor_.remove(sip::header_line(editor_.original(), h)));  // every value was ours
        }
    }

    if (options_for_us && !have_next_route) return refuse(200, "OK", allow_lines);

    // §16.5: where it goes. A tel URI whose phone-context is a domain we serve (TS 24.229's local
    // numbers) is looked up as that domain's user.
    const std::string_view phone_context =
        target.scheme == sip::uri_scheme::tel ? target.params.find("phone-context").value : std::string_view{};
    const bool ours_by_uri = target.scheme != sip::uri_scheme::tel &&
                             (ruri_is_us || is_our_domain(target.host, target.port, target.has_port));
    const bool ours_by_tel = !phone_context.empty() && is_our_domain(phone_context, 0, false);
    net_address destination;
    sip::transport transport = sip::transport::udp;
    if (have_next_route) {
        if (!uri_destination(next_route.address, destination)) {
            stats_.count_drop(drop_cause::no_route);
            return refuse(503, "Route Not Resolvable");
        }
        transport = uri_transport(next_route.address, sip::transport::udp);
    } else if (const location_entry* found = (ours_by_uri || ours_by_tel)
                                                 ? (ours_by_tel ? locations_->lookup(target.user, phone_context, false)
                                                                : locations_->lookup(target.user, target.host, ruri_is_us))
                                                 : nullptr) {
        new_ruri = found->contact_uri;
        destination = found->contact_address;
        transport = found->transport;
    } else {
        // A domain of ours with no binding (a REGISTER for the domain itself, a user the static
        // location does not know) goes where a route naming that domain says: the registrar, say.
        const bool ours = ours_by_uri || ours_by_tel;
        const route_rule* rule = nullptr;
        for (const route_rule& r : config_->routes) {
            if (ours ? !sip::iequals(r.domain, ours_by_tel ? phone_context : target.host)
                     : (!r.domain.empty() && !sip::iequals(r.domain, target.host)))
                continue;
            if (!r.user_prefix.empty() && target.user.substr(0, r.user_prefix.size()) != r.user_prefix) continue;
            rule = &r;
            break;
        }
        if (rule == nullptr && ours) return refuse(404, "Not Found");
        if (rule != nullptr) {
            destination = rule->next_hop;
            transport = rule->transport;
        } else if (!uri_destination(target, destination)) {
            stats_.count_drop(drop_cause::no_route);
            return refuse(503, "Destination Not Resolvable");
        }
        // The remote target of an in-dialog request names no transport; our own Route did (RFC 5658).
        else transport = uri_transport(target, left_by == sip::transport::unknown ? sip::transport::udp : left_by);
    }
    if (transport != sip::transport::udp && transport != sip::transport::tcp)
        return refuse(503, "Transport Not Supported");
    const listen_point* leave = local_for(transport, destination.family, in.local);
    if (leave == nullptr) return refuse(503, "Transport Not Supported");

    // §16.6: the copy we forward, as edits of the received bytes.
    if (!new_ruri.empty()) note(editor_.replace(m.request_uri_text, new_ruri));
    const sip::header* top_via = m.find(sip::header_id::via);
    const char* top = top_via->name.data();
    if (m.has_max_forwards) {
        note(editor_.replace(m.find(sip::header_id::max_forwards)->value,
                              editor_.keep_number(m.max_forwards - 1, err)));
    } else {
        note(editor_.insert(top, "Max-Forwards: 70\r\n"));
    }

    // RFC 3581 §4 and RFC 3261 §18.2.1 on the Via we received: received when the sent-by is not the
    // source address, rport filled in when the client asked for it. Over a connection both are
    // always written: the answer must go back on that connection, whose port the sent-by is not.
    const sip::transport arrived_by = in.local ? in.local->transport : sip::transport::udp;
    const bool stream = arrived_by != sip::transport::udp;
    std::array<char, 48> src_buf{};
    const std::string_view src_ip = format_host(in.source, src_buf);
    const sip::via& v = m.top_via;
    const bool differs = !same_ip(v.host, in.source);
    const std::string_view src_port = editor_.keep_number(in.source.port, err);
    if (v.rport == sip::rport_state::empty) {
        const std::string_view rport = v.params.find("rport").name;
        note(editor_.replace(rport, editor_.keep({"received=", src_ip, ";rport=", src_port}, err)));
    } else if (stream && v.rport == sip::rport_state::absent) {
        note(editor_.insert(v.text.data() + v.text.size(),
                             v.received.empty() ? editor_.keep({";received=", src_ip, ";rport=", src_port}, err)
                                                : editor_.keep({";rport=", src_port}, err)));
    } else if (differs && v.received.empty()) {
        note(editor_.insert(v.text.data() + v.text.size(), editor_.keep({";received=", src_ip}, err)));
    }

    // Our Via and Record-Route name the side the request leaves by; when it arrived by another
    // (UDP to TCP, IPv4 to IPv6) both sides are recorded (RFC 5658), the leaving one first, so each
    // end's route set starts at the side facing it.
    const listen_point& arrived = in.local ? *in.local : config_->listen.front();
    const bool initial = m.to.tag.empty();
    const bool dialog_forming = m.method == sip::method::invite || m.method == sip::method::subscribe ||
                                m.method == sip::method::refer || m.method == sip::method::notify;
    std::array<char, 16> shard_hex{};
    const std::string_view shard = hex64(shard_, shard_hex).substr(12);  // four hex digits
    // Stateful: the middle part names the transaction ("t" slot generation) so a response finds it.
    std::array<char, 16> slot_hex{}, gen_hex{};
    const std::string_view middle =
        t != nullptr ? editor_.keep({"t", hex64(t->slot, slot_hex).substr(8), hex64(generations_[t->slot], gen_hex).substr(8)}, err)
                     : first_part;
    std::string_view via_line, rr_lines;
    const auto build = [&](const listen_point& out_side) {
        std::array<char, 48> host_buf{};
        const std::string_view host = format_host(out_side.address, host_buf);
        const std::string_view port = editor_.keep_number(out_side.address.port, err);
        via_line = editor_.keep({"Via: SIP/2.0/", out_side.transport == sip::transport::tcp ? "TCP " : "UDP ", host, ":",
                                 port, ";branch=", our_branch_prefix, shard, ".", middle, ".", loop_part, "\r\n"},
                                err);
        if (!config_->record_route || !initial || !dialog_forming) return;
        rr_lines = record_route_line(out_side, err);
        // By value: `arrived` may point into the configuration the message was received under.
        if (out_side.transport != arrived.transport || !(out_side.address == arrived.address))
            rr_lines = editor_.keep({rr_lines, record_route_line(arrived, err)}, err);
    };
    build(*leave);
    // RFC 3261 §18.1.1: a request within 200 bytes of the path MTU (1300 when unknown) that would go
    // over UDP goes over TCP when we can.
    const std::size_t size = editor_.size() + via_line.size() + rr_lines.size();
    if (transport == sip::transport::udp && size > max_udp_request && size + 64 <= config_->max_stream_message) {
        if (const listen_point* tcp = local_for(sip::transport::tcp, destination.family, in.local)) {
            transport = sip::transport::tcp;
            leave = tcp;
            rr_lines = {};
            build(*leave);
        }
    }
    if (!rr_lines.empty()) note(editor_.insert(top, rr_lines));
    note(editor_.insert(top, via_line));
    if (err != sip::edit_error::none) return refuse(500, "Request Too Complex To Forward");
    ++stats_.forwarded_requests[static_cast<std::size_t>(m.method)];
    if (dialogs_ && !m.to.tag.empty()) refresh_dialog();
    if (t == nullptr) {
        tag(in, latency_of_request(m.method));
        send_edited(destination, transport, out);
        return;
    }
    // Stateful: the forwarded request is kept for retransmission, CANCEL and ACK.
    if (editor_.size() > sizeof t->request) return refuse(513, "Message Too Large");
    // §16.2: an INVITE that goes on is answered 100 Trying at once (one refused here already has
    // its final answer).
    if (t->invite) respond(*t, m, false, 100, "Trying", {}, out);
    t->request_len = static_cast<std::uint32_t>(editor_.serialize({t->request, sizeof t->request}));
    t->downstream = destination;
    t->downstream_transport = transport;
    t->client = txn::client_transaction(t->invite, transport != sip::transport::udp,
                                        txn::timer_values{config_->t1_ns, config_->t2_ns, config_->t4_ns});
    t->client_started = true;
    if (t->invite) arm_timer_c(*t, config_->timer_c_ns);
    t->received_ns = in.received_ns;
    tag(in, latency_of_request(m.method));
    apply_client(*t, t->client.start(), out);
}

namespace {

// The Via after the top one (ours): in the same header line after a comma, or the next Via line.
bool next_via(const sip::message& m, const sip::header& first, sip::via& next) noexcept {
    std::string_view rest;
    sip::via tmp;
    (void)sip::parse_via(first.value, tmp, &rest);
    if (!rest.empty()) return sip::parse_via(rest, next, &rest) == sip::parse_error::none;
    for (const sip::header& h : m.headers)
        if (h.id == sip::header_id::via && &h != &first) return sip::parse_via(h.value, next, &rest) == sip::parse_error::none;
    return false;
}

} // namespace

void pipeline::on_response(const inbound& in, outbox& out) noexcept {
    // Responses go by their Via, not back to where they came from.
    ++stats_.received_responses[status_class(msg_.status_code)];
    const sip::message& m = msg_;
    // §16.7 step 3 / §16.11: the top Via must be ours; it is removed and the response goes where the
    // next Via says (its received and rport first, RFC 3581 §4).
    const sip::via& ours = m.top_via;
    if (!is_us(ours.host, ours.port, ours.has_port)) {
        stats_.count_drop(drop_cause::not_ours);
        return;
    }
    const sip::header* first = m.find(sip::header_id::via);
    sip::via next;
    const bool have_next = next_via(m, *first, next);
    if (transactions_) {
        if (transaction* t = from_branch(ours.branch)) {
            if (m.cseq.method == sip::method::cancel) {  // the answer to our CANCEL ends here
                const txn::actions a = t->cancel.on_response(m.status_code);
                arm(*t, a, 4, 5);
                if (a.terminated) {
                    t->cancel_done = true;
                    maybe_free(*t);
                }
                return;
            }
            const int status = m.status_code;
            const txn::actions a = t->client.on_response(status);
            if (a.send_ack) send_ack(*t, out);
            if (!a.pass_up) {
                ++stats_.retransmissions_absorbed;
                apply_client(*t, a, out);
                return;
            }
            if (status < 200) {
                t->provisional_seen = true;
                if (t->invite && !t->cancel_sent) arm_timer_c(*t, config_->timer_c_ns);  // reset by each 1xx
            }
            const bool cancel_now = t->cancel_pending && status < 200 && !t->cancel_sent;
            const txn::state s = t->server.current();
            bool forward = false, too_large = false;
            if (!have_next) {  // §16.7 step 3: meant for us (no Via left), never forwarded
                stats_.count_drop(drop_cause::not_ours);
            } else if (status != 100 && (s == txn::state::trying || s == txn::state::proceeding)) {
                (void)editor_.remove(sip::first_value_span(editor_.original(), *first));
                if (editor_.size() <= sizeof t->response) {
                    t->response_len = static_cast<std::uint32_t>(editor_.serialize({t->response, sizeof t->response}));
                    forward = true;
                } else {
                    too_large = status >= 200;  // the caller still gets a final answer
                }
            }
            apply_client(*t, a, out);  // frees nothing: the server side is still open
            if (cancel_now) {
                t->cancel_pending = false;
                send_cancel(*t, out);
            }
            if (too_large && sip::parse({t->request, t->request_len}, aux_, aux_slots_).ok()) {
                respond(*t, aux_, true, 502, "Response Too Large To Relay", {}, out);  // may free t
                return;
            }
            if (forward) {
                ++stats_.forwarded_responses[status_class(status)];
                if (t->invite && status >= 200 && status < 300 && now_ns_ > t->received_ns)
                    stats_.call_setup.record(now_ns_ - t->received_ns);
                tag(in, latency_of_response(status));
                track_dialog(*t, status);
                note_final(*t, status);
                apply_server(*t, t->server.on_send(status), out);  // may free t
            }
            return;
        }
    }
    if (!have_next) {  // a response to a request we originated; nothing to forward
        stats_.count_drop(drop_cause::not_ours);
        return;
    }
    net_address destination;
    if (!parse_ip(next.received.empty() ? next.host : next.received, destination)) {
        stats_.count_drop(drop_cause::no_route);
        return;
    }
    destination.port = next.rport == sip::rport_state::value ? next.rport_value
                       : next.has_port                       ? next.port
                                                             : std::uint16_t{5060};
    (void)editor_.remove(sip::first_value_span(editor_.original(), *first));
    ++stats_.forwarded_responses[status_class(m.status_code)];
    tag(in, latency_of_response(m.status_code));
    send_edited(destination, next.transport == sip::transport::unknown ? sip::transport::udp : next.transport, out);
}

// ---- stateful mode ---------------------------------------------------------------------------

pipeline::transaction* pipeline::open_transaction(const inbound& in, outbox& out, bool& done) noexcept {
    const sip::message& m = msg_;
    const bool ack = m.method == sip::method::ack;
    std::array<char, 192> buf{};
    // §17.2.3: a request matches a server transaction by branch, sent-by and method, ACK counting
    // as INVITE.
    const auto key_for = [&](std::string_view method) -> std::string_view {
        std::array<char, 8> port_buf{};
        std::size_t n = 0;
        const std::uint16_t port = m.top_via.has_port ? m.top_via.port : std::uint16_t{5060};
        std::size_t p = port_buf.size();
        std::uint32_t v = port;
        do {
            port_buf[--p] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        for (std::string_view part : {m.top_via.branch, std::string_view("|"), m.top_via.host, std::string_view(":"),
                                      std::string_view(port_buf.data() + p, port_buf.size() - p), std::string_view("|"),
                                      method}) {
            if (part.size() > buf.size() - n) return {};
            std::memcpy(buf.data() + n, part.data(), part.size());
            n += part.size();
        }
        return {buf.data(), n};
    };
    const std::string_view own = key_for(ack ? std::string_view("INVITE") : m.method_text);
    if (own.empty()) return nullptr;  // too long to keep a transaction for: handled without state
    const core::table_key k{core::call_id_hash(own), own};
    if (transaction* found = transactions_->find(k)) {
        ++stats_.retransmissions_absorbed;
        apply_server(*found, ack ? found->server.on_ack() : found->server.on_retransmission(), out);
        done = true;
        return nullptr;
    }
    if (ack) return nullptr;  // the ACK for a 2xx is end to end: forwarded without state
    if (m.method == sip::method::cancel) {
        const std::string_view invite_key = key_for("INVITE");
        transaction* inv = invite_key.empty() ? nullptr
                                              : transactions_->find(core::table_key{core::call_id_hash(invite_key), invite_key});
        if (inv == nullptr) return nullptr;  // §16.10: no matching INVITE here, forward it statelessly
        reply(in, 200, "OK", {}, out);  // §16.10: the CANCEL is answered at once
        inv->upstream_cancelled = true;
        if (!inv->server_done && inv->client_started && !inv->client_done && !inv->cancel_sent) {
            // §9.1: a CANCEL may be sent only once a provisional response has come back.
            if (inv->provisional_seen) send_cancel(*inv, out);
            else inv->cancel_pending = true;
        }
        done = true;
        return nullptr;
    }
    transaction* t = transactions_->insert(k);
    if (t == nullptr) {
        stats_.count_drop(drop_cause::table_full);
        reply(in, 503, "Service Unavailable", "Retry-After: 5\r\n", out);
        done = true;
        return nullptr;
    }
    t->slot = transactions_->index_of(t);
    t->invite = m.method == sip::method::invite;
    t->initial = m.to.tag.empty();
    t->upstream_transport = in.local ? in.local->transport : sip::transport::udp;
    const bool reliable = t->upstream_transport != sip::transport::udp;
    t->server = txn::server_transaction(t->invite, reliable, txn::timer_values{config_->t1_ns, config_->t2_ns, config_->t4_ns});
    // RFC 3581 §4 / RFC 3261 §18.2.2: answers go to the source address, to its port when the client
    // asked with rport (or on the connection the request came by), else to the port in its Via.
    t->upstream = in.source;
    if (!reliable && m.top_via.rport == sip::rport_state::absent)
        t->upstream.port = m.top_via.has_port ? m.top_via.port : std::uint16_t{5060};
    ++stats_.transactions_created;
    ++stats_.transactions_active;
    ++stats_.transactions_pending;
    t->final_sent = false;
    return t;
}

void pipeline::send_stored(const char* data, std::uint32_t len, const net_address& to, sip::transport tp,
                           outbox& out) noexcept {
    const std::uint8_t latency = std::exchange(tag_latency_, std::uint8_t{0});  // this message's only
    const std::span<char> room = out.reserve(len);
    if (room.empty()) {
        stats_.count_drop(drop_cause::outbox_full);
        return;
    }
    std::memcpy(room.data(), data, len);
    out.commit(to, tp, len, latency, tag_received_ns_);
}

void pipeline::respond(transaction& t, const sip::message& request, bool our_via_on_top, int status,
                       std::string_view reason, std::string_view extra, outbox& out) noexcept {
    std::array<char, 16> tag_buf{};
    const std::string_view tag = to_tag(request.call_id, tag_buf);
    // The request as received gets received/rport on its top Via (RFC 3581 §4); one rebuilt from
    // what we forwarded has them already.
    const std::size_t n = write_response(request, status, reason, tag, extra, {t.response, sizeof t.response},
                                         our_via_on_top, our_via_on_top ? nullptr : &t.upstream);
    if (n == 0) {
        // A final answer that cannot be written (a request whose headers fill the buffer) ends the
        // server side rather than leaving it waiting for ever.
        if (status >= 200) {
            note_final(t, status);
            t.server_done = true;
            maybe_free(t);
        }
        return;
    }
    t.response_len = static_cast<std::uint32_t>(n);
    ++stats_.replied[status_class(status)];
    note_final(t, status);
    apply_server(t, t.server.on_send(status), out);
}

void pipeline::arm(transaction& t, const txn::actions& a, int retransmit_index, int lifetime_index) noexcept {
    const std::uint32_t gen = generations_[t.slot];
    if (a.stop_retransmit) wheel_.cancel(t.timers[retransmit_index]);
    if (a.retransmit != txn::timer::none) {
        wheel_.cancel(t.timers[retransmit_index]);
        t.timers[retransmit_index] = wheel_.schedule(now_ns_ + a.retransmit_in_ns, cookie(gen, t.slot, a.retransmit));
    }
    if (a.lifetime != txn::timer::none) {
        wheel_.cancel(t.timers[lifetime_index]);
        t.timers[lifetime_index] = wheel_.schedule(now_ns_ + a.lifetime_in_ns, cookie(gen, t.slot, a.lifetime));
    }
}

void pipeline::apply_server(transaction& t, const txn::actions& a, outbox& out) noexcept {
    if (a.send_response && t.response_len != 0) send_stored(t.response, t.response_len, t.upstream, t.upstream_transport, out);
    arm(t, a, 0, 1);
    if (a.timed_out) ++stats_.transactions_timed_out;
    if (a.terminated) {
        t.server_done = true;
        maybe_free(t);
    }
}

void pipeline::apply_client(transaction& t, const txn::actions& a, outbox& out) noexcept {
    if (a.send_request) send_stored(t.request, t.request_len, t.downstream, t.downstream_transport, out);
    arm(t, a, 2, 3);
    if (a.terminated) t.client_done = true;
    if (a.timed_out) {
        ++stats_.transactions_timed_out;
        // §16.7 step 2 / §16.8: a branch that times out is a 408 for the client, if nothing final
        // went back yet. The request is read back from what we forwarded.
        const txn::state s = t.server.current();
        if (!t.server_done && (s == txn::state::trying || s == txn::state::proceeding) &&
            sip::parse({t.request, t.request_len}, aux_, aux_slots_).ok()) {
            respond(t, aux_, true, 408, "Request Timeout", {}, out);
            return;  // respond() may have freed t
        }
    }
    if (a.terminated) maybe_free(t);
}

void pipeline::arm_timer_c(transaction& t, std::uint64_t in_ns) noexcept {
    wheel_.cancel(t.timers[6]);
    t.timers[6] = wheel_.schedule(now_ns_ + in_ns, cookie(generations_[t.slot], t.slot, txn::timer::C));
}

void pipeline::on_timer_c(transaction& t, outbox& out) noexcept {
    if (t.server_done || t.client_done) return;  // answered meanwhile
    if (t.provisional_seen && !t.cancel_sent) {
        send_cancel(t, out);  // rearms C for 64*T1
        return;
    }
    // The CANCEL brought no final answer either: the branch is over (§9.1). The caller gets 487 if
    // it cancelled, else 408 (§16.7 step 2), read back from what we forwarded.
    for (int i = 2; i < 4; ++i) wheel_.cancel(t.timers[i]);
    t.client_done = true;
    ++stats_.transactions_timed_out;
    const txn::state s = t.server.current();
    if ((s == txn::state::trying || s == txn::state::proceeding) && sip::parse({t.request, t.request_len}, aux_, aux_slots_).ok()) {
        if (t.upstream_cancelled) respond(t, aux_, true, 487, "Request Terminated", {}, out);
        else respond(t, aux_, true, 408, "Request Timeout", {}, out);
        return;  // respond() may have freed t
    }
    maybe_free(t);
}

void pipeline::track_dialog(const transaction& t, int status) noexcept {
    // msg_ is the final answer being forwarded.
    const sip::message& m = msg_;
    if (t.invite && t.initial && status >= 200 && status < 300) {
        const dialog_tracker::ref d = dialogs_->create(m.call_id, m.from.tag, m.to.tag);
        if (d.d == nullptr) return;  // known (a 2xx retransmitted through a new branch) or no room
        d.d->timeout = wheel_.schedule(now_ns_ + config_->dialog_timeout_ns, cookie(d.generation, d.slot, txn::timer::dialog));
        ++stats_.dialogs_created;
        ++stats_.dialogs_active;
    } else if (m.cseq.method == sip::method::bye && status >= 200) {
        const dialog_tracker::ref d = dialogs_->find(m.call_id, m.from.tag, m.to.tag);
        if (d.d == nullptr) return;
        wheel_.cancel(d.d->timeout);
        if (dialogs_->erase(d.slot, d.generation)) {
            --stats_.dialogs_active;
            ++stats_.dialogs_ended;
        }
    }
}

void pipeline::refresh_dialog() noexcept {
    const dialog_tracker::ref d = dialogs_->find(msg_.call_id, msg_.from.tag, msg_.to.tag);
    if (d.d == nullptr) return;
    wheel_.cancel(d.d->timeout);
    d.d->timeout = wheel_.schedule(now_ns_ + config_->dialog_timeout_ns, cookie(d.generation, d.slot, txn::timer::dialog));
}

void pipeline::note_final(transaction& t, int status) noexcept {
    if (status < 200 || t.final_sent) return;
    t.final_sent = true;
    --stats_.transactions_pending;
}

void pipeline::maybe_free(transaction& t) noexcept {
    if (!t.server_done || (t.client_started && !t.client_done) || (t.cancel_sent && !t.cancel_done)) return;
    for (core::timer_handle& h : t.timers) wheel_.cancel(h);
    ++generations_[t.slot];  // stale branches and timers now find nothing
    --stats_.transactions_active;
    note_final(t, 200);  // one freed without a final answer (a timeout that could not be answered)
    (void)transactions_->erase_at(t.slot);
}

pipeline::transaction* pipeline::from_branch(std::string_view branch) noexcept {
    // z9hG4bKsf SSSS . t IIIIIIII GGGGGGGG . loop
    const std::size_t at = our_branch_prefix.size() + 4;
    if (branch.size() < at + 18 || branch.substr(0, our_branch_prefix.size()) != our_branch_prefix ||
        branch[at] != '.' || branch[at + 1] != 't')
        return nullptr;
    std::uint32_t slot = 0, gen = 0;
    if (!parse_hex(branch.substr(at + 2, 8), slot) || !parse_hex(branch.substr(at + 10, 8), gen)) return nullptr;
    if (slot >= generations_.size() || generations_[slot] != gen) return nullptr;
    return transactions_->at(slot);
}

namespace {

// A request the proxy sends on its own along a forwarded INVITE's path (§9.1 CANCEL, §17.1.1.3 ACK):
// the INVITE's Request-URI, our Via, From, Call-ID and Route; To as given (the response's, for an
// ACK) or the INVITE's; CSeq with the INVITE's number and this method. 0 when it does not fit.
std::size_t write_hop_request(const sip::message& invite, std::string_view method, std::string_view to_value,
                              std::span<char> out) noexcept {
    std::size_t n = 0;
    bool ok = true;
    const auto put = [&](std::string_view s) {
        if (s.size() > out.size() - n) {
            ok = false;
            return;
        }
        std::memcpy(out.data() + n, s.data(), s.size());
        n += s.size();
    };
    std::array<char, 16> num{};
    std::size_t k = num.size();
    std::uint32_t v = invite.cseq.number;
    do {
        num[--k] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v != 0);
    put(method);
    put(" ");
    put(invite.request_uri_text);
    put(" SIP/2.0\r\nVia: ");
    put(invite.find(sip::header_id::via)->value);
    put("\r\nMax-Forwards: 70\r\n");
    for (const sip::header& h : invite.headers) {
        if (h.id == sip::header_id::from || h.id == sip::header_id::call_id || h.id == sip::header_id::route ||
            (h.id == sip::header_id::to && to_value.empty())) {
            put(sip::header_name(h.id));
            put(": ");
            put(h.value);
            put("\r\n");
        }
    }
    if (!to_value.empty()) {
        put("To: ");
        put(to_value);
        put("\r\n");
    }
    put("CSeq: ");
    put({num.data() + k, num.size() - k});
    put(" ");
    put(method);
    put("\r\nContent-Length: 0\r\n\r\n");
    return ok ? n : 0;
}

} // namespace

void pipeline::send_cancel(transaction& t, outbox& out) noexcept {
    if (!sip::parse({t.request, t.request_len}, aux_, aux_slots_).ok()) return;
    std::array<char, 2048> msg{};
    const std::size_t n = write_hop_request(aux_, "CANCEL", {}, msg);
    if (n == 0) return;
    send_stored(msg.data(), static_cast<std::uint32_t>(n), t.downstream, t.downstream_transport, out);
    if (!t.cancel_sent) {  // the first time: its own transaction retransmits it on Timer E until F
        t.cancel_sent = true;
        t.cancel = txn::client_transaction(false, t.downstream_transport != sip::transport::udp,
                                           txn::timer_values{config_->t1_ns, config_->t2_ns, config_->t4_ns});
        arm(t, t.cancel.start(), 4, 5);
        // §9.1: with no final answer 64*T1 after the CANCEL, the INVITE is given up.
        arm_timer_c(t, 64 * config_->t1_ns);
    }
}

void pipeline::send_ack(transaction& t, outbox& out) noexcept {
    // msg_ holds the 300-699 response: its To carries the callee's tag.
    const sip::header* to = msg_.find(sip::header_id::to);
    if (to == nullptr) return;
    const std::string_view to_value = to->value;
    if (!sip::parse({t.request, t.request_len}, aux_, aux_slots_).ok()) return;
    std::array<char, 2048> msg{};
    const std::size_t n = write_hop_request(aux_, "ACK", to_value, msg);
    if (n != 0) send_stored(msg.data(), static_cast<std::uint32_t>(n), t.downstream, t.downstream_transport, out);
}

void pipeline::on_tick(std::uint64_t now_ns, outbox& out) noexcept {
    if (!transactions_) return;
    if (now_ns > now_ns_) now_ns_ = now_ns;
    wheel_.advance(now_ns, [&](std::uint64_t c) {
        const auto gen = static_cast<std::uint32_t>(c >> 32);
        const auto slot = static_cast<std::uint32_t>((c >> 4) & 0x0fff'ffff);
        const auto which = static_cast<txn::timer>(c & 15);
        if (which == txn::timer::dialog) {  // silence: the dialog is over (its end was never seen)
            if (dialogs_->erase(slot, gen)) {
                --stats_.dialogs_active;
                ++stats_.dialogs_timed_out;
            }
            return;
        }
        transaction* t = transactions_->at(slot);
        if (t == nullptr || generations_[slot] != gen) return;
        const bool cancel_timer = t->invite && (which == txn::timer::E || which == txn::timer::F || which == txn::timer::K);
        if (which == txn::timer::C) {
            on_timer_c(*t, out);
        } else if (cancel_timer) {  // an INVITE's client runs A/B/D: E/F/K belong to its CANCEL
            const txn::actions a = t->cancel.on_timer(which);
            if (a.send_request) send_cancel(*t, out);
            arm(*t, a, 4, 5);
            if (a.terminated) {
                t->cancel_done = true;
                maybe_free(*t);
            }
        } else if (side_of(which) < 2) {
            apply_server(*t, t->server.on_timer(which), out);
        } else {
            apply_client(*t, t->client.on_timer(which), out);
        }
    });
}

} // namespace sipfast::proxy
