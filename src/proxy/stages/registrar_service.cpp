// SPDX-License-Identifier: Apache-2.0
#include "sipfast/proxy/stages/registrar_service.hpp"

#include <ctime>
#include <new>

#include "sipfast/core/text_writer.hpp"
#include "sipfast/registrar/aor.hpp"
#include "sipfast/proxy/stages/validate.hpp"
#include "sipfast/registrar/read_register.hpp"

namespace sipfast::proxy {

namespace {

// RFC 3261 §20.17: rfc1123-date, always GMT.
void write_date(core::text_writer& w, std::int64_t unix_s) noexcept {
    const std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) return;
    constexpr std::string_view days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    w.put("Date: ").put(days[tm.tm_wday % 7]).put(", ").number(tm.tm_mday, 2).put(' ').put(months[tm.tm_mon % 12]);
    w.put(' ').number(tm.tm_year + 1900).put(' ').number(tm.tm_hour, 2).put(':').number(tm.tm_min, 2);
    w.put(':').number(tm.tm_sec, 2).put(" GMT\r\n");
}

void write_bindings(core::text_writer& w, const registrar::binding_list& list, std::uint64_t now_ns) noexcept {
    if (!list) return;
    for (const registrar::binding& b : *list) {
        if (!b.live(now_ns)) continue;
        // The contact's own parameters come back as registered (feature tags, +sip.instance,
        // reg-id: RFC 3840, RFC 5626 §6), with the expires granted.
        w.put("Contact: <").put(b.contact).put(">;expires=").number(b.seconds_left(now_ns));
        if (!b.params.empty()) w.put(';').put(b.params);
        w.put("\r\n");
    }
}

} // namespace

bool is_register_for_us(const request_context& ctx) noexcept {
    const sip::uri& target = ctx.target;
    return ctx.m.method == sip::method::register_ && ctx.local.config().serve_registrations && !ctx.have_next_route &&
           (ctx.ruri_is_us || ctx.local.is_our_domain(target.host, target.port, target.has_port));
}

verdict serve_register(request_context& ctx, const registrar_host& host) noexcept {
    if (host.store == nullptr || !is_register_for_us(ctx)) return verdict::next();

    // §10.3 step 2: what the REGISTER requires of us (Path we do: RFC 3327).
    if (const verdict v = refuse_unsupported(ctx, sip::header_id::require, {"path"}); !v.go_on()) return v;

    // §10.3 step 5: the To URI is the address-of-record; it must be a user of a domain we serve.
    verdict refusal;
    const sip::name_addr* to_value = ctx.decoded(ctx.m.to, sip::header_id::to, refusal);
    if (to_value == nullptr) return refusal;
    const sip::uri& to = to_value->address;
    core::text<256> aor;
    if (!registrar::write_aor(to, aor) || !ctx.local.is_our_domain(to.host, to.port, to.has_port))
        return verdict::answer(404, "Not Found");

    registrar::register_room room;
    registrar::register_request r;
    registrar::register_fault fault = registrar::read_register(ctx.m, {ctx.in.transport(), ctx.in.source}, room, r);
    registrar::binding_list after;
    if (fault == registrar::register_fault::none) {
        try {
            fault = host.store->update(aor.view(), r, host.now, *host.limits, after);
        } catch (const std::bad_alloc&) {
            return verdict::answer(500, "Out Of Memory", "Retry-After: 5\r\n");
        }
    }
    core::text_writer w(host.room);
    if (fault == registrar::register_fault::too_brief) w.put("Min-Expires: ").number(host.limits->min_expires_s).put("\r\n");
    if (fault == registrar::register_fault::not_stored) w.put("Retry-After: 5\r\n");
    if (fault != registrar::register_fault::none) {
        const registrar::fault_answer a = registrar::answer_for(fault);
        return verdict::answer(a.status, a.reason, w.view());
    }
    write_bindings(w, after, host.now.monotonic_ns);
    for (std::string_view p : r.path) w.put("Path: ").put(p).put("\r\n");
    // The route the user's own requests are to take (RFC 3608 §5).
    const std::vector<std::string>& service_route = ctx.local.config().service_route;
    for (std::size_t i = 0; i < service_route.size(); ++i)
        w.put(i == 0 ? "Service-Route: " : ", ").put(service_route[i]).put(i + 1 == service_route.size() ? "\r\n" : "");
    // The identities this registration also makes reachable (TS 24.229 §5.4.1.2.2).
    if (const registrar::alias_map* aliases = ctx.local.config().aliases.get())
        if (const std::vector<std::string>* ids = aliases->identities_of(aor.view())) {
            w.put("P-Associated-URI: ");
            for (std::size_t i = 0; i < ids->size(); ++i) w.put(i == 0 ? "<" : ", <").put((*ids)[i]).put('>');
            w.put("\r\n");
        }
    w.put(ctx.auth_info);
    write_date(w, host.now.unix_ns / 1'000'000'000);
    if (!w.ok()) return verdict::answer(500, "Too Many Bindings To List");
    return verdict::answer(200, "OK", w.view());
}

} // namespace sipfast::proxy
