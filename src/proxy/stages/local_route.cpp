// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/local_route.hpp"

#include <cstdint>

#include "sipfast/sip/params.hpp"
#include "sipfast/txn/branch.hpp"

namespace sipfast::proxy {

namespace {

// A URI of ours with our dialog mark for this request's Call-ID: we record-routed its dialog.
void note_our_mark(request_context& ctx, const sip::uri& ours) noexcept {
    const sip::param mark = ours.params.find("sfd");
    if (!mark.name.empty() && txn::dialog_mark_verifies(mark.value, ctx.m.call_id)) ctx.our_dialog = true;
    // Topology hiding: the other side's route set, sealed (stages/topology.hpp).
    if (const sip::param sealed = ours.params.find("sfr"); !sealed.name.empty() && ctx.sealed_route.empty())
        ctx.sealed_route = sealed.value;
}

// What popping Route values found.
enum class popped : std::uint8_t {
    done,
    not_strict,       ///< the last value does not parse: not a strict router's target
    unreadable_next,  ///< the value after ours, which would lead the request on, does not parse
};

// A strict router (RFC 2543) put our Record-Route URI in the Request-URI and the real target last
// in Route: that value becomes the Request-URI and leaves the Route set.
popped pop_strict_route(request_context& ctx) noexcept {
    const sip::message& m = ctx.m;
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
    if (value.empty() || sip::parse_name_addr(value, na) != sip::parse_error::none) return popped::not_strict;
    note_our_mark(ctx, ctx.m.request_uri);  // our Record-Route URI, put in the Request-URI
    ctx.target = na.address;
    ctx.new_ruri = na.address.text;
    if (before.empty()) {
        ctx.note(ctx.editor.remove(sip::header_line(ctx.editor.original(), *last)));
    } else {  // ", <last>" after the previous value
        const char* from = before.data() + before.size();
        ctx.note(ctx.editor.remove({from, static_cast<std::size_t>(value.data() + value.size() - from)}));
    }
    ctx.ruri_is_us = ctx.target.scheme != sip::uri_scheme::tel &&
                     ctx.local.is_us(ctx.target.host, ctx.target.port, ctx.target.has_port);
    // What is left of the Route set still leads: its first value, as the parser decoded it, is the
    // next hop (none when that value was the one popped).
    const sip::name_addr& lead = m.top_route;
    if (lead.text.data() == value.data()) return popped::done;
    ctx.next_route = lead;
    ctx.have_next_route = !ctx.local.is_us(lead.address.host, lead.address.port, lead.address.has_port);
    return popped::done;
}

// §16.4 with RFC 5658: every leading Route value that is ours goes; the transport of the last one
// names the side to leave by.
popped pop_our_routes(request_context& ctx) noexcept {
    const sip::name_addr& top = ctx.m.top_route;  // the first value, decoded by the parser
    for (const sip::header& h : ctx.m.headers) {
        if (h.id != sip::header_id::route) continue;
        std::string_view rest = h.value;
        while (!rest.empty()) {
            const std::size_t ws = rest.find_first_not_of(" \t\r\n");
            if (ws == std::string_view::npos) break;
            const char* value = rest.data() + ws;
            sip::name_addr decoded;
            const sip::name_addr* at = &decoded;
            if (value == top.text.data()) {  // not decoded twice
                at = &top;
                rest = sip::rest_after(rest, top.text);
            } else if (sip::parse_name_addr(rest, decoded, &rest) != sip::parse_error::none) {
                return popped::unreadable_next;
            }
            const sip::name_addr& na = *at;
            if (!ctx.local.is_us(na.address.host, na.address.port, na.address.has_port)) {
                ctx.next_route = na;
                ctx.have_next_route = true;
                // The values of ours before it in this header go, with their commas.
                if (value != h.value.data())
                    ctx.note(ctx.editor.remove({h.value.data(), static_cast<std::size_t>(value - h.value.data())}));
                return popped::done;
            }
            note_our_mark(ctx, na.address);
            const sip::param tp = na.address.params.find("transport");
            ctx.left_by = tp.name.empty() ? sip::transport::udp : sip::classify_transport(tp.value);
        }
        ctx.note(ctx.editor.remove(sip::header_line(ctx.editor.original(), h)));  // every value was ours
    }
    return popped::done;
}

} // namespace

verdict route_locally(request_context& ctx) noexcept {
    if (!ctx.m.has_route) return verdict::next();
    // A strict route popped leaves the rest of the set as it is.
    popped p = ctx.ruri_is_us && ctx.m.request_uri.user.empty() ? pop_strict_route(ctx) : popped::not_strict;
    if (p == popped::not_strict) p = pop_our_routes(ctx);
    // The parser decodes the first value only. One that would lead the request on and does not parse
    // names no next hop; forwarded, it would be the first value of a request nobody can read, our
    // own copy included.
    if (p == popped::unreadable_next) return verdict::answer(400, "Bad Request (Malformed Route)", {}, drop_cause::malformed);
    return verdict::next();
}

} // namespace sipfast::proxy
