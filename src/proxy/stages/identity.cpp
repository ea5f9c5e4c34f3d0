// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/identity.hpp"

#include "sipfast/sip/editor.hpp"
#include "sipfast/sip/params.hpp"

namespace sipfast::proxy {

namespace {

// Whether a Privacy header asks for its identity to be withheld (RFC 3323 "id" among its values).
bool wants_id_privacy(const sip::message& m) noexcept {
    bool id = false;
    m.for_each_value(sip::header_id::privacy, [&](std::string_view v) {
        // Privacy: id; header — the values are separated by ';' as well as ','.
        while (!v.empty()) {
            const std::size_t semi = v.find(';');
            std::string_view token = v.substr(0, semi);
            while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
            while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
            if (sip::iequals(token, "id")) id = true;
            v = semi == std::string_view::npos ? std::string_view{} : v.substr(semi + 1);
        }
        return !id;
    });
    return id;
}

} // namespace

verdict assert_identity(request_context& ctx) noexcept {
    const relay_policy& policy = ctx.local.config().policy;
    const sip::message& m = ctx.m;
    const bool from_trusted = policy.peer_of(ctx.in.source) != nullptr;
    const bool to_trusted = policy.peer_of(ctx.destination) != nullptr;
    const bool asserting = !ctx.authenticated_user.empty() && to_trusted;
    const bool withhold = !to_trusted && wants_id_privacy(m);
    const sip::header* from = nullptr;
    for (const sip::header& h : m.headers) {
        if (h.id == sip::header_id::from && from == nullptr) from = &h;
        const bool drop = (h.id == sip::header_id::p_asserted_identity && (!from_trusted || asserting || withhold)) ||
                          (h.id == sip::header_id::p_preferred_identity && !ctx.authenticated_user.empty());
        if (drop) ctx.note(ctx.editor.remove(sip::header_line(ctx.editor.original(), h)));
    }
    if (!asserting || from == nullptr) return verdict::next();
    // The digest proved the From's user of this domain (authenticate refuses another username).
    const sip::uri& aor = m.from.address;
    const std::string_view line =
        ctx.editor.keep({"P-Asserted-Identity: <sip:", aor.user, "@", aor.host, ">\r\n"}, ctx.err);
    if (!line.empty()) ctx.note(ctx.editor.insert(from->name.data(), line));
    return verdict::next();
}

} // namespace sipfast::proxy
