// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/identity.hpp"

#include "sipfast/core/text_writer.hpp"
#include "sipfast/registrar/aor.hpp"
#include "sipfast/sip/editor.hpp"
#include "sipfast/sip/name_addr.hpp"
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

/// The address-of-record key an identity belongs to: its own, or the one an [[alias]] reaches.
bool aor_key_of(const request_context& ctx, const sip::uri& identity, core::text_writer& key) noexcept {
    if (const registrar::alias_map* aliases = ctx.local.config().aliases.get())
        if (const std::string_view aor = aliases->aor_of(identity); !aor.empty()) return key.put(aor).ok();
    return registrar::write_aor(identity, key);
}

/// Whether a live binding of `aor_key` was registered from where this request comes.
bool registered_from_here(const request_context& ctx, const registrar::location_store& bindings, std::uint64_t now_ns,
                          std::string_view aor_key) noexcept {
    registrar::binding_list list;
    try {
        list = bindings.lookup(aor_key);
    } catch (const std::bad_alloc&) {
        return false;  // not asserted: the peer judges the request as it comes
    }
    if (!list) return false;
    for (const registrar::binding& b : *list)
        if (b.live(now_ns) && b.received.transport == ctx.in.transport() && b.received.source == ctx.in.source) return true;
    return false;
}

/// The identity a phone registered from here asserts: its preferred one when it belongs to the
/// same registration as its From, else the From's; empty when the From's is not registered here.
std::string_view registered_identity(request_context& ctx, const registrar::location_store& bindings,
                                     std::uint64_t now_ns) noexcept {
    const sip::message& m = ctx.m;
    const sip::name_addr* from_value = m.from.get();  // a malformed From asserts nothing
    core::text<256> from_key;
    if (from_value == nullptr || !aor_key_of(ctx, from_value->address, from_key) ||
        !registered_from_here(ctx, bindings, now_ns, from_key.view()))
        return {};
    if (const sip::header* ppi = m.find(sip::header_id::p_preferred_identity)) {
        sip::name_addr preferred;
        core::text<256> key;
        if (sip::parse_name_addr(ppi->value, preferred) == sip::parse_error::none &&
            aor_key_of(ctx, preferred.address, key) && key.view() == from_key.view())
            return ctx.editor.keep({"P-Asserted-Identity: <", preferred.address.text, ">\r\n"}, ctx.err);
    }
    const sip::uri& from = from_value->address;
    if (from.scheme == sip::uri_scheme::tel) return ctx.editor.keep({"P-Asserted-Identity: <tel:", from.user, ">\r\n"}, ctx.err);
    return ctx.editor.keep({"P-Asserted-Identity: <sip:", from.user, "@", from.host, ">\r\n"}, ctx.err);
}

} // namespace

verdict assert_identity(request_context& ctx, const registrar::location_store* bindings, std::uint64_t now_ns) noexcept {
    const relay_policy& policy = ctx.local.config().policy;
    const sip::message& m = ctx.m;
    const bool from_trusted = policy.peer_of(ctx.in.source) != nullptr;
    const bool to_trusted = policy.peer_of(ctx.destination) != nullptr;
    // The digest proved the From's user of this domain (authenticate refuses another username, and
    // decoded the From to compare).
    const sip::name_addr* proved = ctx.authenticated_user.empty() ? nullptr : m.from.get();
    std::string_view line;
    if (to_trusted && proved != nullptr)
        line = ctx.editor.keep({"P-Asserted-Identity: <sip:", proved->address.user, "@", proved->address.host, ">\r\n"}, ctx.err);
    else if (to_trusted && !from_trusted && bindings != nullptr && !ctx.in_dialog())
        line = registered_identity(ctx, *bindings, now_ns);
    const bool asserting = !line.empty();
    const bool withhold = !to_trusted && wants_id_privacy(m);
    // Most requests carry neither identity header and assert none: nothing to remove or insert.
    if (!asserting && !m.has(sip::header_id::p_asserted_identity) && !m.has(sip::header_id::p_preferred_identity))
        return verdict::next();
    const sip::header* from = nullptr;
    for (const sip::header& h : m.headers) {
        if (h.id == sip::header_id::from && from == nullptr) from = &h;
        const bool drop = (h.id == sip::header_id::p_asserted_identity && (!from_trusted || asserting || withhold)) ||
                          (h.id == sip::header_id::p_preferred_identity && (!ctx.authenticated_user.empty() || asserting));
        if (drop) ctx.note(ctx.editor.remove(sip::header_line(ctx.editor.original(), h)));
    }
    if (asserting && from != nullptr) ctx.note(ctx.editor.insert(from->name.data(), line));
    return verdict::next();
}

} // namespace sipfast::proxy
