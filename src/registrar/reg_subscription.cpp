// SPDX-License-Identifier: Apache-2.0
#include "sipfast/registrar/reg_subscription.hpp"

#include <algorithm>

#include "sipfast/registrar/reginfo.hpp"

namespace sipfast::registrar {

namespace {

std::string dialog_key(std::string_view call_id, std::string_view remote_tag) {
    std::string k;
    k.reserve(call_id.size() + 1 + remote_tag.size());
    k.append(call_id).push_back('\n');
    k.append(remote_tag);
    return k;
}

std::uint64_t first_lapse(const std::shared_ptr<const std::vector<binding>>& list, std::uint64_t now_ns) noexcept {
    std::uint64_t first = std::numeric_limits<std::uint64_t>::max();
    if (list)
        for (const binding& b : *list)
            if (b.live(now_ns)) first = std::min(first, b.expires_ns);
    return first;
}

subscribe_result refused(int status, std::string_view reason) noexcept {
    subscribe_result r;
    r.status = status;
    r.reason = reason;
    return r;
}

} // namespace

subscribe_result subscription_table::subscribe(const subscribe_request& r, std::uint64_t now_ns, const registrar_limits& limits) {
    const std::uint32_t asked = r.has_expires ? r.expires_s : default_reg_subscription_s;
    // RFC 6665 §4.2.1.1: too short a subscription may be refused with 423, as a binding is.
    if (asked != 0 && asked < limits.min_expires_s) return refused(423, "Interval Too Brief");
    const std::uint32_t granted = std::min(asked, limits.max_expires_s);
    reg_subscription* s = find(r.call_id, r.from_tag);
    if (s == nullptr && !r.to_tag.empty()) return refused(481, "Subscription Does Not Exist");  // §4.1.2.2
    subscribe_result out;
    out.status = 200;
    out.reason = "OK";
    out.granted_s = granted;
    if (s != nullptr) {
        if (!r.to_tag.empty() && r.to_tag != s->local_tag) return refused(481, "Subscription Does Not Exist");
        if (r.cseq == s->remote_cseq) {  // answered again as before, statelessly
            out.kind = subscribe_kind::retransmission;
            out.granted_s = s->expires_ns > now_ns ? static_cast<std::uint32_t>((s->expires_ns - now_ns) / 1'000'000'000) : 0;
            return out;
        }
        if (r.cseq < s->remote_cseq) return refused(500, "Server Internal Error (CSeq Out Of Order)");  // RFC 3261 §12.2.2
        s->remote_cseq = r.cseq;
        s->expires_ns = now_ns + std::uint64_t{granted} * 1'000'000'000;
        // A refresh may come from where the subscriber is now (a new flow, a new Contact).
        if (s->received.transport != r.received.transport || !(s->received.source == r.received.source)) s->reached = false;
        s->received = r.received;
        if (!r.remote_target.empty()) s->remote_target = r.remote_target;
        s->synced = false;  // a full document answers every refresh
        out.kind = granted == 0 ? subscribe_kind::ended : subscribe_kind::refreshed;
        out.sub = s;
        return out;
    }
    reg_subscription n;
    n.aor = r.aor;
    n.identity = r.identity;
    n.call_id = r.call_id;
    n.local_tag = r.local_tag;
    n.remote_tag = r.from_tag;
    n.local_uri = r.local_uri;
    n.remote_uri = r.remote_uri;
    n.remote_target = r.remote_target;
    n.route_set = r.route_set;
    n.received = r.received;
    n.remote_cseq = r.cseq;
    n.expires_ns = now_ns + std::uint64_t{granted} * 1'000'000'000;
    s = add(std::move(n));
    if (s == nullptr) return refused(503, "Service Unavailable");
    // An initial SUBSCRIBE with Expires: 0 is a fetch (RFC 6665 §4.4.3): one NOTIFY, terminated.
    out.kind = granted == 0 ? subscribe_kind::ended : subscribe_kind::created;
    out.sub = s;
    return out;
}

poll_result subscription_table::poll(reg_subscription& s, const std::shared_ptr<const std::vector<binding>>& current,
                                     std::uint64_t now_ns, std::vector<contact_report>& out,
                                     std::shared_ptr<const std::vector<binding>>& hold) {
    out.clear();
    if (now_ns >= s.expires_ns) {
        full_state(current, now_ns, out);
        hold = current;
        return poll_result::expired;
    }
    if (s.notify_in_flight) return poll_result::nothing;
    // The list a REGISTER or a sweep replaces is a new one: the same list, with none of what it told
    // lapsed since, is the same state.
    if (s.synced && current.get() == s.reported.get() && now_ns < s.next_lapse_ns) return poll_result::nothing;
    poll_result r = poll_result::full;
    if (s.synced) {
        changes(s.reported, s.reported_ns, current, now_ns, out);
        r = out.empty() ? poll_result::nothing : poll_result::partial;
    } else {
        full_state(current, now_ns, out);
    }
    hold = std::move(s.reported);  // what a terminated contact's report may view into
    s.reported = current;
    s.reported_ns = now_ns;
    s.next_lapse_ns = first_lapse(current, now_ns);
    s.synced = true;
    return r;
}

bool subscription_table::answered(reg_subscription& s, int status) noexcept {
    if (status < 200) return false;
    s.notify_in_flight = false;
    return status >= 300;
}

reg_subscription* subscription_table::restore(reg_subscription&& s) {
    s.synced = false;
    s.notify_in_flight = false;
    s.reported = nullptr;
    return add(std::move(s));
}

reg_subscription* subscription_table::find(std::string_view call_id, std::string_view remote_tag) {
    const auto it = by_dialog_.find(dialog_key(call_id, remote_tag));
    return it == by_dialog_.end() ? nullptr : slots_[it->second].get();
}

reg_subscription* subscription_table::add(reg_subscription&& s) {
    if (used_ >= capacity_) return nullptr;
    std::string key = dialog_key(s.call_id, s.remote_tag);
    if (by_dialog_.count(key) != 0) return nullptr;
    std::uint32_t slot = 0;
    if (!free_.empty()) {
        slot = free_.back();
        free_.pop_back();
    } else {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
        generations_.push_back(0);
    }
    s.slot = slot;
    slots_[slot] = std::make_unique<reg_subscription>(std::move(s));
    by_dialog_.emplace(std::move(key), slot);
    ++used_;
    return slots_[slot].get();
}

void subscription_table::erase(reg_subscription& s) {
    const std::uint32_t slot = s.slot;
    by_dialog_.erase(dialog_key(s.call_id, s.remote_tag));
    ++generations_[slot];
    slots_[slot].reset();
    free_.push_back(slot);
    --used_;
}

} // namespace sipfast::registrar
