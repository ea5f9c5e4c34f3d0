// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/forward.hpp"

#include <array>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/response.hpp"
#include "sipfast/proxy/stages/topology.hpp"
#include "sipfast/sip/params.hpp"
#include "sipfast/txn/branch.hpp"

namespace sipfast::proxy {

namespace {

// Our Record-Route URI carries the dialog's mark (sfd): requests within the dialog bring it back in
// their Route, and the relay policy admits them for it (docs/configuration.md, [policy]).
// With topology hiding it also carries the Record-Route values we took out, sealed (sfr).
std::string_view record_route_line(request_context& ctx, const listen_point& side, std::string_view sealed_route) noexcept {
    std::array<char, 48> host_buf{};
    core::text<16> mark;
    txn::write_dialog_mark(ctx.m.call_id, mark);
    return ctx.editor.keep({"Record-Route: <sip:", format_host(side.address, host_buf), ":",
                            ctx.editor.keep_number(side.address.port, ctx.err),
                            side.transport == sip::transport::tcp ? ";transport=tcp;lr;sfd=" : ";lr;sfd=", mark.view(),
                            sealed_route.empty() ? "" : ";", sealed_route.empty() ? "" : sealed_route_param,
                            sealed_route.empty() ? "" : "=", sealed_route, ">\r\n"},
                           ctx.err);
}

// RFC 3327: in front of a registrar we put ourselves in the REGISTER's Path, so requests to the
// user come back through us; only when the user agent said it supports path (§5.1).
bool wants_path(const request_context& ctx) noexcept {
    if (ctx.m.method != sip::method::register_ || !(ctx.local.config().record_route || ctx.hide)) return false;
    bool path = false;
    ctx.m.for_each_value(sip::header_id::supported, [&](std::string_view tag) {  // values come trimmed
        path = sip::iequals(tag, "path");
        return !path;
    });
    return path;
}

std::string_view path_line(request_context& ctx, const listen_point& side) noexcept {
    std::array<char, 48> host_buf{};
    return ctx.editor.keep({"Path: <sip:", format_host(side.address, host_buf), ":",
                            ctx.editor.keep_number(side.address.port, ctx.err),
                            side.transport == sip::transport::tcp ? ";transport=tcp;lr>\r\n" : ";lr>\r\n"},
                           ctx.err);
}

bool is_dialog_forming(sip::method m) noexcept {
    return m == sip::method::invite || m == sip::method::subscribe || m == sip::method::refer || m == sip::method::notify;
}

void mark_received(request_context& ctx) noexcept {
    const via_marks marks = via_marks::of(ctx.m.top_via, ctx.in.source, ctx.in.transport() != sip::transport::udp);
    if (!marks.any()) return;
    core::text<80> text;  // ";received=" + a bracketed IPv6 address + ";rport=" + a port
    marks.write(text, ctx.in.source);
    ctx.note(ctx.editor.replace(marks.at, ctx.editor.keep({text.view()}, ctx.err)));
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
    // Hiding: the Vias go (the transaction keeps them, received and rport included), and so do the
    // Record-Routes (sealed into ours); our URIs stand for the Contacts.
    std::string_view sealed_route;
    if (ctx.hide) hide_request(ctx, *ctx.leave, sealed_route);
    else mark_received(ctx);

    // Our Via and Record-Route name the side the request leaves by; when it arrived by another
    // (UDP to TCP, IPv4 to IPv6) both sides are recorded (RFC 5658), the leaving one first, so each
    // end's route set starts at the side facing it.
    const listen_point& arrived = ctx.in.local ? *ctx.in.local : ctx.local.config().listen.front();
    // Hiding needs the dialog's requests to come through us: the route sets are sealed in our
    // Record-Route.
    const bool record =
        (ctx.local.config().record_route || ctx.hide) && !ctx.in_dialog() && is_dialog_forming(m.method);
    std::string_view via_line, rr_lines;
    const auto build = [&](const listen_point& side) {
        std::array<char, 48> host_buf{};
        via_line = e.keep({"Via: SIP/2.0/", side.transport == sip::transport::tcp ? "TCP " : "UDP ",
                           format_host(side.address, host_buf), ":", e.keep_number(side.address.port, ctx.err),
                           ";branch=", branch, "\r\n"},
                          ctx.err);
        rr_lines = {};
        if (!record) return;
        rr_lines = record_route_line(ctx, side, sealed_route);
        // By value: `arrived` may point into the configuration the message was received under.
        if (side.transport != arrived.transport || !(side.address == arrived.address))
            rr_lines = e.keep({rr_lines, record_route_line(ctx, arrived, sealed_route)}, ctx.err);
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
    if (!ctx.route.empty()) ctx.note(e.insert(top, ctx.route));  // a binding's Path (RFC 3327 §5.3)
    if (wants_path(ctx)) {  // topmost: before any Path an earlier proxy put
        const sip::header* first = m.find(sip::header_id::path);
        ctx.note(e.insert(first != nullptr && first->name.data() < top ? first->name.data() : top, path_line(ctx, *ctx.leave)));
    }
    if (!rr_lines.empty()) ctx.note(e.insert(top, rr_lines));
    ctx.note(e.insert(top, via_line));
    if (ctx.err != sip::edit_error::none) return verdict::answer(500, "Request Too Complex To Forward");
    return verdict::next();
}

} // namespace sipfast::proxy
