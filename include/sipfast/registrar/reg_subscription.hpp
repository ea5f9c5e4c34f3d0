// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sipfast/registrar/binding.hpp"
#include "sipfast/registrar/register_rules.hpp"

namespace sipfast::registrar {

struct contact_report;

/// RFC 3680 §6.6: a reg subscription lasts this long when the SUBSCRIBE says nothing.
inline constexpr std::uint32_t default_reg_subscription_s = 3761;

/// One subscription to the reg event package (RFC 3680) of an address-of-record, as the notifier
/// keeps it: the dialog its NOTIFYs go in (RFC 6665 §4.1.2), what it watches, and what its last
/// NOTIFY told. The first block is what a store keeps across a restart; the rest is rebuilt.
struct reg_subscription {
    std::string aor;            ///< the watched address-of-record's key (write_aor)
    std::string identity;       ///< the URI subscribed to: the <registration aor=...> attribute
    std::string call_id;
    std::string local_tag;      ///< ours: the To tag of our 200, the From tag of our NOTIFYs
    std::string remote_tag;     ///< the subscriber's From tag
    std::string local_uri;      ///< our NOTIFYs' From, before its tag (the SUBSCRIBE's To, as written)
    std::string remote_uri;     ///< our NOTIFYs' To (the SUBSCRIBE's From, its tag included)
    std::string remote_target;  ///< the subscriber's Contact URI: our NOTIFYs' Request-URI
    std::vector<std::string> route_set;  ///< the SUBSCRIBE's Record-Route values, in order (§12.1.1)
    flow received;              ///< where the SUBSCRIBE came from: our NOTIFYs go back this way
    std::uint32_t remote_cseq = 0;  ///< the last SUBSCRIBE's CSeq
    std::uint32_t local_cseq = 0;   ///< the last NOTIFY's CSeq
    std::uint32_t version = 0;      ///< the version of the next reginfo document (RFC 3680 §5.2)
    std::uint64_t expires_ns = 0;   ///< when it ends, on the registrar's monotonic clock

    // Not kept by a store.
    std::shared_ptr<const std::vector<binding>> reported;  ///< the bindings as the last NOTIFY told them
    std::uint64_t reported_ns = 0;  ///< when it did: a binding live then was reported active
    std::uint64_t next_lapse_ns = std::numeric_limits<std::uint64_t>::max();  ///< the first reported to lapse
    bool synced = false;            ///< a full state was sent in this process: partial documents may follow
    bool notify_in_flight = false;  ///< one NOTIFY at a time: the next waits for its answer
    /// The subscriber answered a NOTIFY of ours at `received`: that address is where it says, not
    /// a victim's a forged SUBSCRIBE named (docs/architecture.md, "Reg event").
    bool reached = false;
    std::uint32_t slot = 0;         ///< where its table keeps it
};

/// What a SUBSCRIBE asks of the table (RFC 6665 §4.2.1): views into the request, for the call.
struct subscribe_request {
    std::string_view aor, identity, call_id;
    std::string_view from_tag, to_tag;  ///< to_tag empty: an initial SUBSCRIBE
    std::string_view local_tag;         ///< the tag our 200 gives the dialog
    std::string_view local_uri, remote_uri, remote_target;
    std::vector<std::string> route_set;
    flow received;
    std::uint32_t cseq = 0;
    bool has_expires = false;
    std::uint32_t expires_s = 0;
};

/// What the table made of a SUBSCRIBE.
enum class subscribe_kind : std::uint8_t {
    created,         ///< 200, a full NOTIFY follows
    refreshed,       ///< 200, a full NOTIFY follows (RFC 6665 §4.2.1.2)
    ended,           ///< 200 to Expires: 0 (or a fetch): a terminated NOTIFY follows, then it is gone
    retransmission,  ///< the same SUBSCRIBE again: 200 again, no NOTIFY
    refused,         ///< answered with `status`
};

struct subscribe_result {
    subscribe_kind kind = subscribe_kind::refused;
    int status = 500;
    std::string_view reason;
    std::uint32_t granted_s = 0;      ///< the Expires of our 200
    reg_subscription* sub = nullptr;  ///< created, refreshed, ended
};

/// What a subscription needs at a moment (poll).
enum class poll_result : std::uint8_t {
    nothing,  ///< no NOTIFY
    full,     ///< a full document (none sent in this process yet: after a SUBSCRIBE, after a restart)
    partial,  ///< a partial document with the changes since the last
    expired,  ///< its time is up: a terminated NOTIFY (reason=timeout), then it goes
};

/// The reg subscriptions of one shard (docs/architecture.md, "Reg event"): a slot table with
/// generations, so a NOTIFY's transaction names its subscription by (slot, generation) and finds
/// nothing once it is gone. The clock is the caller's; written by its worker only.
class subscription_table {
public:
    explicit subscription_table(std::size_t capacity) : capacity_(capacity) {}

    /// RFC 6665 §4.2.1: applies a SUBSCRIBE at `now_ns`. A SUBSCRIBE in a dialog we do not know is
    /// 481; an older CSeq than the last 500 (§12.2.2); a non-zero Expires below the registrar's
    /// min_expires_s 423 (the caller adds Min-Expires); a full table 503. Expiry is bounded like a
    /// binding's: max_expires_s at most, default_reg_subscription_s when the request says none.
    [[nodiscard]] subscribe_result subscribe(const subscribe_request& r, std::uint64_t now_ns, const registrar_limits& limits);

    /// What `s` needs at `now_ns`, the watched bindings being `current`. For full and partial,
    /// `out` holds the contacts to report and `hold` keeps alive the list they view into; `s`
    /// then counts them as reported. Never while a NOTIFY of it is in flight, but for expired.
    [[nodiscard]] static poll_result poll(reg_subscription& s, const std::shared_ptr<const std::vector<binding>>& current,
                                          std::uint64_t now_ns, std::vector<contact_report>& out,
                                          std::shared_ptr<const std::vector<binding>>& hold);

    /// The final answer to a NOTIFY of `s` (408 for a timeout): true when the subscription ends
    /// (RFC 6665 §4.2.2: 481, a timeout, any failure), false when it goes on (2xx).
    [[nodiscard]] static bool answered(reg_subscription& s, int status) noexcept;

    /// Puts a subscription kept by a store back (restart): it sends a full document at its next poll.
    reg_subscription* restore(reg_subscription&& s);

    [[nodiscard]] reg_subscription* find(std::string_view call_id, std::string_view remote_tag);
    [[nodiscard]] reg_subscription* at(std::uint32_t slot, std::uint32_t generation) noexcept {
        return slot < slots_.size() && generations_[slot] == generation && slots_[slot] ? slots_[slot].get() : nullptr;
    }
    [[nodiscard]] std::uint32_t generation(const reg_subscription& s) const noexcept { return generations_[s.slot]; }
    void erase(reg_subscription& s);
    [[nodiscard]] std::size_t size() const noexcept { return used_; }

    /// Calls f(reg_subscription&) for each; f may erase the one it is given.
    template <class F>
    void each(F&& f) {
        for (std::size_t i = 0; i < slots_.size(); ++i)
            if (slots_[i]) f(*slots_[i]);
    }

private:
    reg_subscription* add(reg_subscription&& s);

    std::size_t capacity_;
    std::size_t used_ = 0;
    std::vector<std::unique_ptr<reg_subscription>> slots_;
    std::vector<std::uint32_t> generations_;
    std::vector<std::uint32_t> free_;
    std::unordered_map<std::string, std::uint32_t> by_dialog_;  ///< Call-ID, '\n', the subscriber's tag -> slot
};

} // namespace sipfast::registrar
