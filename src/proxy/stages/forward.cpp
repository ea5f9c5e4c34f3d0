// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/forward.hpp"

#include <array>

namespace sipfast::proxy {

namespace {

std::string_view record_route_line(request_context& ctx, const listen_point& side) noexcept {
    std::array<char, 48> host_buf{};
    return ctx.editor.keep({"Record-Route: <sip:", format_host(side.address, host_buf), ":",
                            ctx.editor.keep_number(side.address.port, ctx.err),
                            side.transport == sip::transport::tcp ? ";transport=tcp;lr>\r\n" : ";lr>\r\n"},
                           ctx.err);
}

bool is_dialog_forming(sip::method m) noexcept {
    return m == sip::method::invite || m == sip::method::subscribe || m == sip::method::refer || m == sip::method::notify;
}

// RFC 3581 §4 and RFC 3261 §18.2.1 on the Via we received: received when the sent-by is not the
// source address, rport filled in when the client asked for it. Over a connection both are always
// written: the answer must go back on that connection, whose port the sent-by is not.
void mark_received(request_context& ctx) noexcept {
    const sip::via& v = ctx.m.top_via;
    const net_address& source = ctx.in.source;
    std::array<char, 48> src_buf{};
    const std::string_view src_ip = format_host(source, src_buf);
    const std::string_view src_port = ctx.editor.keep_number(source.port, ctx.err);
    const char* after = v.text.data() + v.text.size();
    if (v.rport == sip::rport_state::empty) {
        // A Via that has a received already keeps it: one received, then the port asked for.
        ctx.note(ctx.editor.replace(v.params.find("rport").name,
                                    v.received.empty() ? ctx.editor.keep({"received=", src_ip, ";rport=", src_port}, ctx.err)
                                                       : ctx.editor.keep({"rport=", src_port}, ctx.err)));
    } else if (ctx.in.transport() != sip::transport::udp && v.rport == sip::rport_state::absent) {
        ctx.note(ctx.editor.insert(after, v.received.empty() ? ctx.editor.keep({";received=", src_ip, ";rport=", src_port}, ctx.err)
                                                             : ctx.editor.keep({";rport=", src_port}, ctx.err)));
    } else if (!same_ip(v.host, source) && v.received.empty()) {
        ctx.note(ctx.editor.insert(after, ctx.editor.keep({";received=", src_ip}, ctx.err)));
    }
}

} // namespace

verdict forward(request_context& ctx, std::string_view branch) noexcept {
    const sip::message& m = ctx.m;
    sip::message_editor& e = ctx.editor;
    if (!ctx.new_ruri.empty()) ctx.note(e.replace(m.request_uri_text, ctx.new_ruri));
    const char* top = m.find(sip::header_id::via)->name.data();
    if (m.has_max_forwards)
        ctx.note(e.replace(m.find(sip::header_id::max_forwards)->value, e.keep_number(m.max_forwards - 1, ctx.err)));
    else
        ctx.note(e.insert(top, "Max-Forwards: 70\r\n"));
    mark_received(ctx);

    // Our Via and Record-Route name the side the request leaves by; when it arrived by another
    // (UDP to TCP, IPv4 to IPv6) both sides are recorded (RFC 5658), the leaving one first, so each
    // end's route set starts at the side facing it.
    const listen_point& arrived = ctx.in.local ? *ctx.in.local : ctx.local.config().listen.front();
    const bool record = ctx.local.config().record_route && !ctx.in_dialog() && is_dialog_forming(m.method);
    std::string_view via_line, rr_lines;
    const auto build = [&](const listen_point& side) {
        std::array<char, 48> host_buf{};
        via_line = e.keep({"Via: SIP/2.0/", side.transport == sip::transport::tcp ? "TCP " : "UDP ",
                           format_host(side.address, host_buf), ":", e.keep_number(side.address.port, ctx.err),
                           ";branch=", branch, "\r\n"},
                          ctx.err);
        rr_lines = {};
        if (!record) return;
        rr_lines = record_route_line(ctx, side);
        // By value: `arrived` may point into the configuration the message was received under.
        if (side.transport != arrived.transport || !(side.address == arrived.address))
            rr_lines = e.keep({rr_lines, record_route_line(ctx, arrived)}, ctx.err);
    };
    build(*ctx.leave);
    const std::size_t size = e.size() + via_line.size() + rr_lines.size();
    if (ctx.transport == sip::transport::udp && size > max_udp_request && size + 64 <= ctx.local.config().max_stream_message) {
        if (const listen_point* tcp = ctx.local.local_for(sip::transport::tcp, ctx.destination.family, ctx.in.local)) {
            ctx.transport = sip::transport::tcp;
            ctx.leave = tcp;
            build(*tcp);
        }
    }
    if (!rr_lines.empty()) ctx.note(e.insert(top, rr_lines));
    ctx.note(e.insert(top, via_line));
    if (ctx.err != sip::edit_error::none) return verdict::answer(500, "Request Too Complex To Forward");
    return verdict::next();
}

} // namespace sipfast::proxy
