// SPDX-License-Identifier: Apache-2.0
#include "sipfast/loadgen/uas.hpp"

#include <algorithm>
#include <bit>

#include "sip_text.hpp"
#include "sipfast/sip/parser.hpp"

namespace sipfast::loadgen {

namespace {

constexpr std::size_t text_bytes = 3072;  // a 200 kept for retransmission, IMS-sized with its Vias
constexpr std::uint32_t probes = 8;       // entries a key may take: a full neighbourhood is "untracked"
constexpr std::uint32_t none = ~std::uint32_t{0};

} // namespace

struct uas::entry {
    std::uint64_t key = 0;  // hash of the Call-ID; 0: free
    std::uint64_t sent_ns = 0;
    core::timer_handle timer;
    std::uint32_t generation = 0;
    std::uint16_t len = 0;
    std::uint8_t retransmits = 0;
    core::net_address peer;
};

uas::uas(const uas_config& c, uas_stats& stats, std::uint64_t now_ns)
    : c_(c), stats_(stats), mask_(std::bit_ceil(std::max<std::size_t>(c.capacity, probes)) - 1),
      entries_(new entry[mask_ + 1]), texts_(new char[(mask_ + 1) * text_bytes]),
      timers_(mask_ + 1, 1'000'000, now_ns) {}

uas::~uas() = default;

std::uint32_t uas::find(std::uint64_t key) const noexcept {
    for (std::uint32_t p = 0; p < probes; ++p) {
        const auto i = static_cast<std::uint32_t>((key + p) & mask_);
        if (entries_[i].key == key) return i;
    }
    return none;
}

void uas::release(std::uint32_t i) noexcept {
    entry& e = entries_[i];
    if (e.timer.valid()) timers_.cancel(e.timer);
    e.timer = {};
    e.key = 0;
    ++e.generation;
    --active_;
}

void uas::on_datagram(std::string_view data, const core::net_address& from, std::uint64_t now_ns, outbox& out) noexcept {
    sip::message m;
    const sip::parse_result r = sip::parse(data, m, slots_);
    if (!r.ok()) {
        ++stats_.unparsable;
        return;
    }
    if (!m.is_request()) {
        if (m.is_response()) ++stats_.strays;
        return;
    }
    const std::uint64_t key = detail::hash_call_id(m.call_id);
    switch (m.method) {
    case sip::method::invite: on_invite(m, key, from, now_ns, out); return;
    case sip::method::ack:
        if (const std::uint32_t i = find(key); i != none) {
            ++stats_.acks;
            release(i);
        }
        return;
    case sip::method::bye: {
        if (const std::uint32_t i = find(key); i != none) release(i);  // its ACK was lost; the BYE says enough
        core::text_writer w = out.start();
        detail::write_response(w, m, 200, "OK", {}, false, {}, {});
        if (out.finish(w, from)) ++stats_.completed;
        return;
    }
    default: ++stats_.strays; return;
    }
}

void uas::on_invite(const sip::message& m, std::uint64_t key, const core::net_address& from, std::uint64_t now_ns,
                    outbox& out) noexcept {
    if (const std::uint32_t i = find(key); i != none) {  // the INVITE again: our 180 or 200 was lost
        ++stats_.requests_retransmitted;
        const entry& e = entries_[i];
        core::text_writer w = out.start();
        w.put({texts_.get() + std::size_t{i} * text_bytes, e.len});
        (void)out.finish(w, e.peer);
        return;
    }
    ++stats_.invites;
    core::text<17> tag;
    tag.hex(key, 16);
    std::array<char, 96> contact_buf{};
    core::text_writer contact(contact_buf);
    contact.put("sip:").put(c_.user).put('@').put(c_.local_host).put(':').number(c_.local_port);
    if (c_.send_100) {
        core::text_writer w = out.start();
        detail::write_response(w, m, 100, "Trying", {}, false, {}, {});
        (void)out.finish(w, from);
    }
    {
        core::text_writer w = out.start();
        detail::write_response(w, m, 180, "Ringing", tag.view(), true, contact.view(), {});
        (void)out.finish(w, from);
    }
    core::text_writer w = out.start();
    detail::write_response(w, m, 200, "OK", tag.view(), true, contact.view(),
                           c_.ims ? detail::sdp_ims : detail::sdp_minimal);
    const std::string_view ok = w.view();
    if (!out.finish(w, from)) return;
    // Keep the 200 until its ACK comes (RFC 3261 §13.3.1.4), in the first free entry of its
    // neighbourhood; with none free, or too long to keep, it was sent once and is not retransmitted.
    std::uint32_t slot = none;
    for (std::uint32_t p = 0; p < probes && slot == none; ++p) {
        const auto i = static_cast<std::uint32_t>((key + p) & mask_);
        if (entries_[i].key == 0) slot = i;
    }
    if (slot == none || ok.size() > text_bytes) {
        ++stats_.untracked;
        return;
    }
    entry& e = entries_[slot];
    e.key = key;
    e.sent_ns = now_ns;
    e.retransmits = 0;
    e.peer = from;
    e.len = static_cast<std::uint16_t>(ok.size());
    std::copy(ok.begin(), ok.end(), texts_.get() + std::size_t{slot} * text_bytes);
    e.timer = timers_.schedule(now_ns + c_.t1_ns, (std::uint64_t{e.generation} << 32) | slot);
    ++active_;
}

void uas::advance(std::uint64_t now_ns, outbox& out) noexcept {
    timers_.advance(now_ns, [&](std::uint64_t cookie) {
        const auto i = static_cast<std::uint32_t>(cookie);
        entry& e = entries_[i];
        if (e.key == 0 || e.generation != static_cast<std::uint32_t>(cookie >> 32)) return;
        e.timer = {};
        if (now_ns - e.sent_ns >= 64 * c_.t1_ns) {  // Timer H's span: the caller is gone
            ++stats_.ack_timeouts;
            release(i);
            return;
        }
        core::text_writer w = out.start();
        w.put({texts_.get() + std::size_t{i} * text_bytes, e.len});
        if (out.finish(w, e.peer)) ++stats_.retransmissions;
        ++e.retransmits;
        const std::uint64_t interval = detail::doubling_to_t2(c_.t1_ns, c_.t2_ns, e.retransmits);
        e.timer = timers_.schedule(std::min(now_ns + interval, e.sent_ns + 64 * c_.t1_ns), cookie);
    });
}

} // namespace sipfast::loadgen
