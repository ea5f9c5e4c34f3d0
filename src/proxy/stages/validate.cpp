// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/validate.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "sipfast/core/shard_hash.hpp"
#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/stages/local_services.hpp"
#include "sipfast/sip/params.hpp"
#include "sipfast/txn/branch.hpp"

namespace sipfast::proxy {

namespace {

// XXH3 over the concatenation with a separator after each part, streamed through a small buffer
// so nothing is allocated.
struct hasher {
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

} // namespace

std::uint64_t loop_hash(const sip::message& m) noexcept {
    hasher h;
    h.add(m.request_uri_text);
    h.add(m.call_id);
    h.add(m.from.tag);
    // An ACK's To tag is the one the response gave: the INVITE it acknowledges had none, and a
    // non-2xx ACK must leave with the INVITE's branch (§17.1.1.3), so the tag stays out of it.
    h.add(m.method == sip::method::ack ? std::string_view{} : m.to.tag);
    m.for_each_value(sip::header_id::route, [&](std::string_view v) {
        h.add(v);
        return true;
    });
    return h.done();
}

std::uint64_t request_hash(const sip::message& m) noexcept {
    hasher h;
    if (m.top_via.branch.substr(0, txn::magic_cookie.size()) == txn::magic_cookie) {
        h.add(m.top_via.branch);
        h.add(m.top_via.host);
    } else {
        // RFC 2543 peers: what a retransmission, its CANCEL and its non-2xx ACK share (not the To
        // tag or the CSeq method, which an ACK changes).
        h.add(m.top_via.text);
        h.add(m.from.tag);
        h.add(m.call_id);
        h.add({reinterpret_cast<const char*>(&m.cseq.number), sizeof m.cseq.number});
        h.add(m.request_uri_text);
    }
    return h.done();
}

verdict refuse_unsupported(request_context& ctx, sip::header_id which, std::initializer_list<std::string_view> also) noexcept {
    const sip::message& m = ctx.m;
    if (m.find(which) == nullptr) return verdict::next();
    core::text<510> list;  // with its CRLF, at most 512 bytes of the editor's scratch: a long list is cut
    m.for_each_value(which, [&](std::string_view tag) {
        for (std::string_view e : also)
            if (sip::iequals(tag, e)) return true;
        if (ctx.local.config().sec_agree == sec_agree_mode::accept && sip::iequals(tag, "sec-agree")) return true;
        for (const std::string& e : ctx.local.config().extensions)
            if (sip::iequals(tag, e)) return true;
        list.put_clipped(list.size() == 0 ? "Unsupported: " : ", ").put_clipped(tag);
        return true;
    });
    if (list.size() == 0) return verdict::next();
    return verdict::answer(420, "Bad Extension", ctx.editor.keep({list.view(), "\r\n"}, ctx.err));
}

namespace {

// The User-Agents of the scanners that sweep public SIP ports (SIPVicious's svmap and svwar call
// themselves friendly-scanner, and its forks and cousins say who they are). Case-insensitive.
bool is_scanner(const sip::message& m) noexcept {
    const sip::header* ua = m.find(sip::header_id::user_agent);
    if (ua == nullptr) return false;
    for (const std::string_view tool : {"friendly-scanner", "sipvicious", "sipcli", "sip-scan", "VaxSIPUserAgent"}) {
        const auto at = std::search(ua->value.begin(), ua->value.end(), tool.begin(), tool.end(), [](char a, char b) {
            return (a | 0x20) == (b | 0x20);
        });
        if (at != ua->value.end()) return true;
    }
    return false;
}

} // namespace

bool is_emergency_urn(std::string_view uri) noexcept {
    // RFC 5031 §4: "urn:service:sos", or a sub-service of it ("urn:service:sos.fire"); URNs compare
    // without case (RFC 8141 §3).
    constexpr std::string_view sos = "urn:service:sos";
    return uri.size() >= sos.size() && sip::iequals(uri.substr(0, sos.size()), sos) &&
           (uri.size() == sos.size() || uri[sos.size()] == '.');
}

verdict validate(request_context& ctx) noexcept {
    const sip::message& m = ctx.m;
    // Scanners learn from every answer we give (which users exist, which methods pass): they get none.
    if (is_scanner(m)) return verdict::silent(drop_cause::scanner);
    // §16.3 step 2: a scheme we can route. sips: asks for TLS on every hop (§26.2), which we do
    // not serve: forwarding it over UDP or TCP would break that promise.
    const sip::uri_scheme scheme = m.request_uri.scheme;
    // An emergency call is never refused for its scheme (TS 24.229 §5.2.10): it goes to the
    // emergency next hop, or is answered 503 when none is configured.
    ctx.emergency = scheme == sip::uri_scheme::other && is_emergency_urn(m.request_uri.text);
    if (ctx.emergency && !ctx.local.config().emergency_next_hop.valid())
        return verdict::answer(503, "Service Unavailable (No Emergency Route)");
    if (scheme != sip::uri_scheme::sip && scheme != sip::uri_scheme::tel && !ctx.emergency)
        return verdict::answer(416, "Unsupported URI Scheme");
    ctx.ruri_is_us = scheme != sip::uri_scheme::tel &&
                     ctx.local.is_us(m.request_uri.host, m.request_uri.port, m.request_uri.has_port);

    // §16.3 step 3: Max-Forwards; an OPTIONS to us at zero is ours to answer (§11).
    if (m.has_max_forwards && m.max_forwards == 0)
        return is_options_to_us(ctx) ? answer_options() : verdict::answer(483, "Too Many Hops");

    // §16.3 step 6: every option tag in Proxy-Require must be one we were told we support.
    if (const verdict v = refuse_unsupported(ctx, sip::header_id::proxy_require, {}); !v.go_on()) return v;

    // §16.3 step 4: a Via of ours carrying this request's loop hash means it came back unchanged.
    ctx.loop_hash = loop_hash(m);
    bool looped = false;
    m.for_each_value(sip::header_id::via, [&](std::string_view v) {
        if (v.find(txn::our_branch::prefix) == std::string_view::npos) return true;
        sip::via via;
        if (sip::parse_via(v, via) != sip::parse_error::none) return true;
        looped = ctx.local.is_us(via.host, via.port, via.has_port) && txn::branch_has_loop_hash(via.branch, ctx.loop_hash);
        return !looped;
    });
    if (looped) return verdict::answer(482, "Loop Detected");
    return verdict::next();
}

} // namespace sipfast::proxy
