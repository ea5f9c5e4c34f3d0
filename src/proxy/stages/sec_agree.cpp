// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/sec_agree.hpp"

#include "sipfast/core/text_writer.hpp"
#include "sipfast/proxy/stages/registrar_service.hpp"
#include "sipfast/sip/editor.hpp"
#include "sipfast/sip/params.hpp"
#include "sipfast/txn/branch.hpp"

namespace sipfast::proxy {

namespace {

constexpr std::string_view option_tag = "sec-agree";
constexpr std::string_view mac_param = ";sfv=";
constexpr std::size_t mac_digits = 16;

/// Our MAC of a list of mechanisms, fed one by one as written (without our parameter).
struct list_mac {
    core::siphash h = txn::secret_mac("sec-agree");
    void add(std::string_view mechanism) noexcept { h.update(mechanism).update(std::uint64_t{0x1f}); }
    void write(core::text_writer& w) noexcept { w.hex(h.finish(), mac_digits); }
};

/// Security-Server for the mechanisms of the request's Security-Client headers, in their order.
bool write_security_server(const sip::message& m, core::text_writer& w) noexcept {
    list_mac mac;
    std::size_t count = 0;
    m.for_each_value(sip::header_id::security_client, [&](std::string_view v) {
        mac.add(v);
        ++count;
        return true;
    });
    if (count == 0) return false;
    core::text<mac_digits> sfv;
    mac.write(sfv);
    w.put("Security-Server: ");
    std::size_t i = 0;
    m.for_each_value(sip::header_id::security_client, [&](std::string_view v) {
        w.put(i++ == 0 ? "" : ", ").put(v).put(mac_param).put(sfv.view());
        return true;
    });
    w.put("\r\n");
    return w.ok();
}

/// Whether every Security-Verify value is a mechanism of one list we sent, each with the list's MAC.
bool verifies(const sip::message& m) noexcept {
    list_mac mac;
    std::string_view claimed;
    bool well_formed = true;
    m.for_each_value(sip::header_id::security_verify, [&](std::string_view v) {
        const std::size_t at = v.rfind(mac_param);
        if (at == std::string_view::npos || v.size() - at - mac_param.size() != mac_digits) return well_formed = false;
        const std::string_view sfv = v.substr(at + mac_param.size());
        if (!claimed.empty() && sfv != claimed) return well_formed = false;
        claimed = sfv;
        mac.add(v.substr(0, at));
        return true;
    });
    core::text<mac_digits> ours;
    mac.write(ours);
    return well_formed && !claimed.empty() && ours.view() == claimed;
}

/// Takes the sec-agree tag out of each Require or Proxy-Require line that has it: the whole line
/// when it is the only tag, else the line's value without it.
void strip_option_tag(request_context& ctx, sip::header_id which) noexcept {
    const std::string_view original = ctx.editor.original();
    for (const sip::header& h : ctx.m.headers) {
        if (h.id != which) continue;
        core::text<256> rest;
        bool found = false;
        for (std::string_view left = h.value; !left.empty();) {
            const std::string_view tag = sip::next_value(left);
            if (sip::iequals(tag, option_tag)) found = true;
            else if (!tag.empty()) rest.put(rest.size() == 0 ? "" : ", ").put(tag);
        }
        if (!found || !rest.ok()) continue;  // a list too long to rewrite keeps the tag: harmless past us
        if (rest.size() == 0) ctx.note(ctx.editor.remove(sip::header_line(original, h)));
        else ctx.note(ctx.editor.replace(h.value, ctx.editor.keep({rest.view()}, ctx.err)));
    }
}

} // namespace

verdict sec_agree(request_context& ctx, std::span<char> room) noexcept {
    if (ctx.local.config().sec_agree != sec_agree_mode::accept) return verdict::next();
    const sip::message& m = ctx.m;
    const bool offers = m.find(sip::header_id::security_client) != nullptr;
    // An ACK or CANCEL cannot be answered (nor refused): it is only stripped below.
    if (m.method != sip::method::ack && m.method != sip::method::cancel) {
        core::text_writer w(room);
        if (offers && is_register_for_us(ctx) && write_security_server(m, w)) ctx.security_server = w.view();
        if (m.find(sip::header_id::security_verify) != nullptr && !verifies(m))
            return verdict::answer(494, "Security Agreement Required (Security-Verify Is Not Ours)", ctx.security_server);
    }

    // Most requests have none of it: the presence bits answer without a walk over the headers.
    if (offers || m.find(sip::header_id::security_server) != nullptr || m.find(sip::header_id::security_verify) != nullptr)
        for (const sip::header& h : m.headers)
            if (h.id == sip::header_id::security_client || h.id == sip::header_id::security_server ||
                h.id == sip::header_id::security_verify)
                ctx.note(ctx.editor.remove(sip::header_line(ctx.editor.original(), h)));
    if (m.find(sip::header_id::require) != nullptr) strip_option_tag(ctx, sip::header_id::require);
    if (m.find(sip::header_id::proxy_require) != nullptr) strip_option_tag(ctx, sip::header_id::proxy_require);
    return verdict::next();
}

} // namespace sipfast::proxy
