// SPDX-License-Identifier: Apache-2.0
#include "sipfast/registrar/reginfo.hpp"

#include <algorithm>

#include "binding_key.hpp"

namespace sipfast::registrar {

namespace {

constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t fnv_prime = 0x100000001b3ULL;

std::uint64_t fnv(std::uint64_t h, std::string_view s) noexcept {
    for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * fnv_prime;
    return h;
}


// XML 1.0 §2.4 and §3.3.3: these five escaped, in content and in double-quoted attributes alike.
void escaped(core::text_writer& w, std::string_view s) noexcept {
    std::size_t from = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        std::string_view entity;
        switch (s[i]) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&apos;"; break;
        default: continue;
        }
        w.put(s.substr(from, i - from)).put(entity);
        from = i + 1;
    }
    w.put(s.substr(from));
}

void hex(core::text_writer& w, std::uint64_t v) noexcept {
    constexpr std::string_view digits = "0123456789abcdef";
    char buf[16];
    for (int i = 15; i >= 0; --i, v >>= 4) buf[i] = digits[v & 15];
    w.put(std::string_view(buf, 16));
}

std::string_view state_name(registration_state s) noexcept {
    switch (s) {
    case registration_state::init: return "init";
    case registration_state::active: return "active";
    case registration_state::terminated: return "terminated";
    }
    return "init";
}

void write_registration(core::text_writer& w, const reginfo_doc& d, std::string_view aor) noexcept {
    w.put("  <registration aor=\"");
    escaped(w, aor);
    w.put("\" id=\"");
    hex(w, registration_id(aor));
    w.put("\" state=\"").put(state_name(d.state)).put("\">\n");
    for (const contact_report& c : d.contacts) {
        const binding& b = *c.b;
        w.put("    <contact id=\"");
        hex(w, contact_id(b));
        w.put("\" state=\"").put(c.active ? "active" : "terminated").put("\" event=\"").put(event_name(c.event));
        w.put("\" expires=\"").number(c.active ? b.seconds_left(d.now_ns) : 0u).put('"');
        if (b.has_q) {
            // q as the REGISTER wrote it, in thousandths: 0.5 -> "0.500".
            w.put(" q=\"").number(b.q_milli / 1000).put('.').number(b.q_milli % 1000, 3).put('"');
        }
        if (!b.call_id.empty()) {
            w.put(" callid=\"");
            escaped(w, b.call_id);
            w.put("\" cseq=\"").number(b.cseq).put('"');
        }
        w.put(">\n      <uri>");
        escaped(w, b.contact);
        w.put("</uri>\n    </contact>\n");
    }
    w.put("  </registration>\n");
}

} // namespace

std::string_view event_name(contact_event e) noexcept {
    switch (e) {
    case contact_event::registered: return "registered";
    case contact_event::created: return "created";
    case contact_event::refreshed: return "refreshed";
    case contact_event::shortened: return "shortened";
    case contact_event::expired: return "expired";
    case contact_event::deactivated: return "deactivated";
    case contact_event::probation: return "probation";
    case contact_event::unregistered: return "unregistered";
    case contact_event::rejected: return "rejected";
    }
    return "registered";
}

std::uint64_t registration_id(std::string_view aor) noexcept { return fnv(fnv_offset, aor); }

std::uint64_t contact_id(const binding& b) noexcept {
    if (b.instance.empty()) return fnv(fnv_offset, b.contact);
    std::uint64_t h = fnv(fnv_offset, b.instance);
    char id[10];
    std::size_t n = 0;
    for (std::uint32_t r = b.reg_id; n == 0 || r != 0; r /= 10) id[n++] = static_cast<char>('0' + r % 10);
    return fnv(fnv(h, "/"), std::string_view(id, n));
}

void full_state(const binding_list& now_list, std::uint64_t now_ns, std::vector<contact_report>& out) {
    out.clear();
    if (!now_list) return;
    for (const binding& b : *now_list)
        if (b.live(now_ns)) out.push_back({&b, true, contact_event::registered});
}

void changes(const binding_list& before, std::uint64_t before_ns, const binding_list& after, std::uint64_t now_ns,
             std::vector<contact_report>& out) {
    out.clear();
    if (after)
        for (const binding& b : *after) {
            if (!b.live(now_ns)) continue;
            const binding* old = find_binding(before, b);
            if (old == nullptr || !old->live(before_ns)) {
                out.push_back({&b, true, contact_event::registered});
            } else if (old->expires_ns != b.expires_ns || old->cseq != b.cseq) {
                // A REGISTER that kept it: later is a refresh (RFC 3680 §5.2), earlier shortened it.
                out.push_back({&b, true, b.expires_ns < old->expires_ns ? contact_event::shortened : contact_event::refreshed});
            }
        }
    if (before)
        for (const binding& old : *before) {
            if (!old.live(before_ns)) continue;  // reported gone already
            const binding* now = find_binding(after, old);
            if (now != nullptr && now->live(now_ns)) continue;
            // Its own expiry came: it lapsed. Taken out before it: a REGISTER removed it.
            const bool lapsed = !old.live(now_ns) || now != nullptr;
            const binding& shown = now != nullptr ? *now : old;
            out.push_back({&shown, false, lapsed ? contact_event::expired : contact_event::unregistered});
        }
}

bool write_reginfo(core::text_writer& w, const reginfo_doc& d) noexcept {
    w.put("<?xml version=\"1.0\"?>\n<reginfo xmlns=\"urn:ietf:params:xml:ns:reginfo\" version=\"").number(d.version);
    w.put("\" state=\"").put(d.full ? "full" : "partial").put("\">\n");
    write_registration(w, d, d.aor);
    for (const std::string& other : d.identities)
        if (other != d.aor) write_registration(w, d, other);
    w.put("</reginfo>\n");
    return w.ok();
}

} // namespace sipfast::registrar
