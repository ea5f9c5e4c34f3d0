// SPDX-License-Identifier: Apache-2.0
#include "sipfast/registrar/register_rules.hpp"

#include <algorithm>

#include "sipfast/sip/params.hpp"
#include "sipfast/sip/uri_equal.hpp"

namespace sipfast::registrar {

namespace {

constexpr std::uint64_t ns_per_s = 1'000'000'000;

/// Whether `b` is the binding `c` names: by instance and reg-id when the contact has an instance
/// (RFC 5626 §6), else by URI (RFC 3261 §19.1.4) among bindings without one.
bool names(const binding& b, const contact_request& c, const sip::uri& curi) noexcept {
    if (!c.instance.empty()) return b.instance == c.instance && b.reg_id == c.reg_id;
    if (!b.instance.empty()) return false;
    sip::uri buri;
    return sip::parse_uri(b.contact, buri) == sip::parse_error::none && sip::uri_equal(buri, curi);
}

/// The contact's header parameters without expires (the 200 writes the expires granted).
std::string without_expires(std::string_view params) {
    std::string out;
    sip::param_list(params).for_each([&](const sip::param& p) {
        if (sip::iequals(p.name, "expires")) return true;
        if (!out.empty()) out += ';';
        out.append(p.name);
        if (p.has_value) out.append("=").append(p.value);
        return true;
    });
    return out;
}

/// A retransmission, a change to make, or a refusal, for one existing binding.
enum class order { newer, same, older };
order compare(const binding& b, const register_request& r) noexcept {
    if (b.call_id != r.call_id || r.cseq > b.cseq) return order::newer;
    return r.cseq == b.cseq ? order::same : order::older;
}

} // namespace

fault_answer answer_for(register_fault f) noexcept {
    switch (f) {
    case register_fault::none: return {200, "OK"};
    case register_fault::star_not_alone: return {400, "Contact * Needs Expires 0 And No Other Contact"};
    case register_fault::bad_contact: return {400, "Bad Contact"};
    case register_fault::too_brief: return {423, "Interval Too Brief"};
    case register_fault::out_of_order: return {500, "Out Of Order CSeq"};
    case register_fault::too_many_bindings: return {403, "Too Many Bindings"};
    // 503 rather than 500: a user agent with another registrar to try goes there (RFC 3263 §4.3).
    case register_fault::not_stored: return {503, "Bindings Not Stored"};
    }
    return {500, "Server Internal Error"};
}

register_fault apply_register(const register_request& r, std::vector<binding>& bindings, std::uint64_t now_ns,
                              const registrar_limits& limits) {
    std::vector<binding> next;
    next.reserve(bindings.size() + r.contacts.size());
    for (const binding& b : bindings)
        if (b.live(now_ns)) next.push_back(b);

    if (r.star) {
        if (!r.contacts.empty() || !r.has_expires || r.expires_s != 0) return register_fault::star_not_alone;
        // A binding the same Call-ID refreshed at this CSeq or later outranks it (a retransmitted "*"
        // finds no binding left to compare with).
        for (const binding& b : next)
            if (compare(b, r) != order::newer) return register_fault::out_of_order;
        bindings.clear();
        return register_fault::none;
    }

    for (const contact_request& c : r.contacts) {
        const std::uint32_t asked = c.has_expires ? c.expires_s : r.has_expires ? r.expires_s : limits.default_expires_s;
        if (asked != 0 && asked < limits.min_expires_s) return register_fault::too_brief;
    }
    for (const contact_request& c : r.contacts) {
        sip::uri curi;
        if (sip::parse_uri(c.uri, curi) != sip::parse_error::none) return register_fault::bad_contact;
        const std::uint32_t asked = c.has_expires ? c.expires_s : r.has_expires ? r.expires_s : limits.default_expires_s;
        const std::uint32_t granted = std::min(asked, limits.max_expires_s);
        const auto it = std::find_if(next.begin(), next.end(), [&](const binding& b) { return names(b, c, curi); });
        if (it != next.end()) {
            const order o = compare(*it, r);
            if (o == order::older) return register_fault::out_of_order;
            // The same request again: what it did stands, and it gets the same answer.
            if (o == order::same) {
                bindings = std::move(next);
                return register_fault::none;
            }
            if (granted == 0) {
                next.erase(it);
                continue;
            }
        } else if (granted == 0) {
            continue;  // removing what is not there changes nothing
        }
        binding& b = it != next.end() ? *it : next.emplace_back();
        b.contact.assign(c.uri);
        b.params = without_expires(c.params);
        b.instance.assign(c.instance);
        b.reg_id = c.reg_id;
        b.has_q = c.has_q;
        b.q_milli = c.q_milli;
        b.expires_ns = now_ns + granted * ns_per_s;
        b.call_id.assign(r.call_id);
        b.cseq = r.cseq;
        b.path.assign(r.path.begin(), r.path.end());
        b.received = r.received;
    }
    if (next.size() > limits.max_bindings) return register_fault::too_many_bindings;
    bindings = std::move(next);
    return register_fault::none;
}

void order_by_preference(std::vector<binding>& bindings) {
    std::stable_sort(bindings.begin(), bindings.end(), [](const binding& a, const binding& b) {
        const std::uint16_t qa = a.has_q ? a.q_milli : 1000, qb = b.has_q ? b.q_milli : 1000;
        return qa != qb ? qa > qb : a.expires_ns > b.expires_ns;
    });
}

} // namespace sipfast::registrar
