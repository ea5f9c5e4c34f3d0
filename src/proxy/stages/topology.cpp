// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/topology.hpp"

#include <array>

#include "sipfast/proxy/response.hpp"
#include "sipfast/sip/params.hpp"
#include "sipfast/txn/branch.hpp"

namespace sipfast::proxy {

namespace {

constexpr std::string_view contact_purpose = "contact";
constexpr std::string_view route_purpose = "route";
// What seal() writes for the longest text it takes: 4 characters per 3 bytes of IV and text.
constexpr std::size_t sealed_chars = (8 + txn::max_sealed_plain + 2) / 3 * 4;
constexpr std::size_t max_route_values = 16;

void note(sip::edit_error& err, sip::edit_error e) noexcept {
    if (e != sip::edit_error::none) err = e;
}

// A Contact URI of ours facing `side` with `real` sealed in its user part (bracketed when the value
// had none, so that our URI's parameters are not read as the header's).
std::string_view our_contact(sip::message_editor& e, const listen_point& side, std::string_view real, bool bracket,
                             sip::edit_error& err) noexcept {
    core::text<sealed_chars + 128> uri;
    std::array<char, 48> host{};
    if (bracket) uri.put('<');
    uri.put("sip:").put(sealed_contact_prefix);
    if (!txn::seal(contact_purpose, {}, real, uri)) {
        err = sip::edit_error::scratch_full;
        return {};
    }
    uri.put('@').put(format_host(side.address, host)).put(':').number(side.address.port);
    if (side.transport == sip::transport::tcp) uri.put(";transport=tcp");
    if (bracket) uri.put('>');
    if (!uri.ok()) {
        err = sip::edit_error::scratch_full;
        return {};
    }
    return e.keep({uri.view()}, err);
}

// Every Contact URI of `m` replaced by one of ours; '*' stays.
void hide_contacts(const sip::message& m, sip::message_editor& e, const listen_point& side, sip::edit_error& err) noexcept {
    for (const sip::header& h : m.headers) {
        if (h.id != sip::header_id::contact) continue;
        std::string_view rest = h.value;
        while (!rest.empty() && err == sip::edit_error::none) {
            sip::contact c;
            if (sip::parse_contact(rest, c, &rest) != sip::parse_error::none) {
                err = sip::edit_error::outside_message;  // one we cannot read we cannot hide either
                return;
            }
            if (c.star) continue;
            const std::string_view ours = our_contact(e, side, c.addr.address.text, !c.addr.angle_brackets, err);
            if (ours.empty()) return;
            note(err, e.replace(c.addr.address.text, ours));
        }
    }
}

// Our Record-Route value `v` with `sealed` as its sealed route set (none when empty), in place of
// the one it had: we write sfr last before the closing bracket.
void put_ours(core::text_writer& w, std::string_view v, std::string_view sealed) noexcept {
    std::size_t cut = v.find(";sfr=");
    std::size_t resume = cut == std::string_view::npos ? std::string_view::npos : v.find_first_of(";>", cut + 1);
    if (cut == std::string_view::npos) cut = resume = v.rfind('>');
    if (cut == std::string_view::npos) {  // not as we write it; left as it is
        w.put(v);
        return;
    }
    w.put(v.substr(0, cut));
    if (!sealed.empty()) w.put(';').put(sealed_route_param).put('=').put(sealed);
    if (resume != std::string_view::npos) w.put(v.substr(resume));
}

} // namespace

bool write_received_vias(const sip::message& m, const net_address& source, bool stream, core::text_writer& out) noexcept {
    const sip::via& top = m.top_via;
    for (const sip::header& h : m.headers) {
        if (h.id != sip::header_id::via) continue;
        out.put("Via: ");
        const bool is_top = h.value.data() <= top.text.data() && top.text.data() < h.value.data() + h.value.size();
        const via_marks marks = is_top && !top.text.empty() ? via_marks::of(top, source, stream) : via_marks{};
        if (marks.any()) {
            const auto from = static_cast<std::size_t>(marks.at.data() - h.value.data());
            out.put(h.value.substr(0, from));
            marks.write(out, source);
            out.put(h.value.substr(from + marks.at.size()));
        } else {
            out.put(h.value);
        }
        out.put("\r\n");
    }
    return out.ok();
}

void hide_request(request_context& ctx, const listen_point& side, std::string_view& sealed_route) noexcept {
    const sip::message& m = ctx.m;
    sip::message_editor& e = ctx.editor;
    sealed_route = {};
    core::text<txn::max_sealed_plain> routes;
    for (const sip::header& h : m.headers) {
        if (h.id == sip::header_id::via) {
            ctx.note(e.remove(sip::header_line(e.original(), h)));
        } else if (h.id == sip::header_id::record_route) {
            std::string_view rest = h.value;
            while (!rest.empty()) {
                const std::string_view v = sip::next_value(rest);
                if (v.empty()) continue;
                if (routes.size() != 0) routes.put(", ");
                routes.put(v);
            }
            ctx.note(e.remove(sip::header_line(e.original(), h)));
        }
    }
    if (!routes.ok()) return ctx.note(sip::edit_error::scratch_full);
    if (routes.size() != 0) {
        core::text<sealed_chars> sealed;
        if (!txn::seal(route_purpose, m.call_id, routes.view(), sealed)) return ctx.note(sip::edit_error::scratch_full);
        sealed_route = e.keep({sealed.view()}, ctx.err);
    }
    if (m.method != sip::method::register_) hide_contacts(m, e, side, ctx.err);
}

bool hide_response(const sip::message& m, sip::message_editor& e, const local_identity& local, const listen_point& side,
                   std::string_view vias, const sip::header& our_via) noexcept {
    sip::edit_error err = sip::edit_error::none;
    const std::string_view line = sip::header_line(e.original(), our_via);
    const std::string_view span = sip::first_value_span(e.original(), our_via);
    if (span.data() == line.data()) {
        note(err, e.replace(line, vias));
    } else {  // a Via line of more than ours: ours goes, the kept lines come before it
        note(err, e.remove(span));
        note(err, e.insert(line.data(), vias));
    }

    if (m.has(sip::header_id::record_route)) {
        // The downstream side's values (before ours, nearest it first) are sealed into ours, in the
        // order a request toward it takes them; the upstream side's come back from ours after them.
        std::array<std::string_view, max_route_values> theirs{};
        std::array<std::string_view, 4> ours{};
        std::size_t n_theirs = 0, n_ours = 0;
        std::string_view upstream_sealed;
        const sip::header* first = nullptr;
        bool fits = true;
        for (const sip::header& h : m.headers) {
            if (h.id != sip::header_id::record_route) continue;
            if (first == nullptr) first = &h;
            std::string_view rest = h.value;
            while (!rest.empty()) {
                const std::string_view v = sip::next_value(rest);
                sip::name_addr na;
                if (v.empty() || sip::parse_name_addr(v, na) != sip::parse_error::none) continue;
                if (local.is_us(na.address.host, na.address.port, na.address.has_port)) {
                    if (n_ours == ours.size()) fits = false;
                    else ours[n_ours++] = v;
                    const sip::param p = na.address.params.find(sealed_route_param);
                    if (!p.name.empty() && upstream_sealed.empty()) upstream_sealed = p.value;
                } else if (n_theirs == theirs.size()) {
                    fits = false;
                } else {
                    theirs[n_theirs++] = v;
                }
            }
            note(err, e.remove(sip::header_line(e.original(), h)));
        }
        core::text<txn::max_sealed_plain> upstream;
        if (!upstream_sealed.empty() && !txn::unseal(route_purpose, m.call_id, upstream_sealed, upstream)) return false;
        core::text<txn::max_sealed_plain> downstream;
        for (std::size_t i = n_theirs; i-- > 0;) {
            if (downstream.size() != 0) downstream.put(", ");
            downstream.put(theirs[i]);
        }
        core::text<sealed_chars> sealed;
        if (!fits || !downstream.ok() || (n_theirs != 0 && !txn::seal(route_purpose, m.call_id, downstream.view(), sealed)))
            return false;
        // Not ours: a dialog we did not record-route shows no route set at all.
        if (n_ours != 0) {
            core::text<sip::message_editor::scratch_bytes> rr;
            rr.put("Record-Route: ");
            for (std::size_t i = 0; i < n_ours; ++i) {
                if (i != 0) rr.put(", ");
                put_ours(rr, ours[i], sealed.view());
            }
            if (upstream.size() != 0) rr.put(", ").put(upstream.view());
            rr.put("\r\n");
            if (!rr.ok()) return false;
            note(err, e.insert(first->name.data(), e.keep({rr.view()}, err)));
        }
    }
    if (m.cseq.method != sip::method::register_) hide_contacts(m, e, side, err);
    return err == sip::edit_error::none;
}

verdict restore_topology(request_context& ctx) noexcept {
    if (!ctx.sealed_route.empty() && !ctx.have_next_route) {
        core::text<txn::max_sealed_plain> routes;
        if (!txn::unseal(route_purpose, ctx.m.call_id, ctx.sealed_route, routes))
            return verdict::answer(403, "Forbidden (Route Not Ours)", {}, drop_cause::unverified);
        const std::string_view line = ctx.editor.keep({"Route: ", routes.view(), "\r\n"}, ctx.err);
        if (line.empty()) return verdict::answer(500, "Request Too Complex To Forward");
        std::string_view values = line.substr(7, routes.size());
        if (sip::parse_name_addr(values, ctx.next_route, &values) != sip::parse_error::none)
            return verdict::answer(403, "Forbidden (Route Not Ours)", {}, drop_cause::unverified);
        ctx.have_next_route = true;
        ctx.route = line;
    }
    const sip::uri& u = ctx.target;
    if (ctx.ruri_is_us && u.user.size() > sealed_contact_prefix.size() &&
        u.user.substr(0, sealed_contact_prefix.size()) == sealed_contact_prefix) {
        // One we did not seal is left as it is: a user of that name, or nobody.
        core::text<txn::max_sealed_plain> real;
        if (!txn::unseal(contact_purpose, {}, u.user.substr(sealed_contact_prefix.size()), real)) return verdict::next();
        const std::string_view kept = ctx.editor.keep({real.view()}, ctx.err);
        sip::uri target;
        if (kept.empty() || sip::parse_uri(kept, target) != sip::parse_error::none) return verdict::next();
        ctx.target = target;
        ctx.new_ruri = kept;
        ctx.ruri_is_us = target.scheme != sip::uri_scheme::tel && ctx.local.is_us(target.host, target.port, target.has_port);
    }
    return verdict::next();
}

} // namespace sipfast::proxy
