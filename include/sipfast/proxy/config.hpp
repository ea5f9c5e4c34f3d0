// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sipfast/auth/subscribers.hpp"
#include "sipfast/auth/users.hpp"
#include "sipfast/core/net_address.hpp"
#include "sipfast/core/source_limiter.hpp"
#include "sipfast/registrar/aliases.hpp"
#include "sipfast/registrar/register_rules.hpp"
#include "sipfast/sip/via.hpp"

namespace sipfast::proxy {

// Addresses are core's; the proxy names them as its own.
using core::net_address;
using core::format_host;
using core::parse_ip;
using core::parse_ip_port;
using core::same_ip;
using core::same_subnet;

enum class proxy_mode : std::uint8_t { stateless, stateful };

/// An address and transport sipfast listens on; its host is what goes into our Via and
/// Record-Route.
struct listen_point {
    sip::transport transport = sip::transport::udp;
    net_address address;
};

/// A static route (docs/architecture.md, "The request path"): requests whose Request-URI matches go
/// to next_hop.
struct route_rule {
    std::string domain;       ///< Request-URI host to match, empty for any
    std::string user_prefix;  ///< Request-URI user prefix to match, empty for any
    net_address next_hop;
    sip::transport transport = sip::transport::udp;
};

/// A static binding of the location service: user@domain reaches contact.
struct location_entry {
    std::string user;
    std::string domain;
    std::string contact_uri;   ///< the URI the request is retargeted to
    net_address contact_address;
    sip::transport transport = sip::transport::udp;  ///< the contact's transport= (UDP when absent)
};

inline constexpr std::size_t default_max_stream_message = 4000;

/// A network by address and prefix length ("198.18.0.0/24").
struct subnet {
    net_address address;
    unsigned prefix = 32;
    [[nodiscard]] bool contains(const net_address& a) const noexcept {
        return a.family == address.family && same_subnet(a, address, prefix);
    }
};

/// Who must prove who they are (RFC 3261 §22): nobody, those who register, or also every user of
/// our domains who starts a dialog or sends a request out of one.
enum class auth_mode : std::uint8_t { none, registrations, all };

struct auth_config {
    auth_mode mode = auth_mode::none;
    std::shared_ptr<const auth::user_directory> users;  ///< shared by every shard, read only
    /// IMS subscribers ([[subscriber]]): a REGISTER from one is challenged with AKAv1-MD5 (RFC 3310)
    /// instead of a password digest. Shared by every shard; only their sequence numbers change.
    std::shared_ptr<const auth::subscriber_directory> subscribers;
    std::vector<subnet> trusted;                        ///< peers never challenged (by source address)
    std::uint64_t nonce_lifetime_ns = 300'000'000'000;  ///< older nonces are answered stale=true
    /// What a challenge offers, most preferred first (RFC 8760 §2.4: a client takes the first it
    /// supports); SHA-256 only where every user of the realm has its secret. Credentials in another
    /// algorithm are challenged again.
    std::vector<auth::algorithm> algorithms{auth::algorithm::sha256, auth::algorithm::md5};
};

/// A neighbour we trust ([[peer]]: a gateway, an S-CSCF, a trunk): its requests are forwarded
/// wherever `reach` allows (anywhere but the deny list when empty).
struct trusted_peer {
    subnet from;
    std::vector<subnet> reach;
};

/// Who may have requests forwarded (docs/configuration.md, [policy]). Closed: only requests for our
/// domains' users, from users of ours who proved who they are, within dialogs we record-routed, from
/// a [[peer]], or toward a [[peer]]; never to the deny list (loopback unless allowed, unspecified,
/// link-local, multicast, broadcast, port 0, our own listen addresses).
struct relay_policy {
    bool closed = true;
    bool allow_loopback = false;
    std::vector<trusted_peer> peers;
    /// The [[peer]] whose network `a` is in, or null.
    [[nodiscard]] const trusted_peer* peer_of(const net_address& a) const noexcept {
        for (const trusted_peer& peer : peers)
            if (peer.from.contains(a)) return &peer;
        return nullptr;
    }
};

/// What a source that is not a [[peer]] may send before it is shed (docs/configuration.md,
/// [limits]): 200 messages and 400 kB a second, with bursts of twice that, no ban. A phone sends a
/// few messages a second; a NAT in front of an office of them, some dozens.
inline constexpr core::source_limits default_source_limits{200, 400, 400'000, 800'000, 0};

/// What a request requiring sec-agree (RFC 3329) gets: see stages/sec_agree.hpp.
enum class sec_agree_mode : std::uint8_t {
    accept,  ///< the option tag is supported, Security-Server answered and checked, all stripped when forwarding
    refuse,  ///< the option tag is not supported: 420 Bad Extension (unless listed in extensions)
};

/// How a request with several targets (a user's registered contacts) is forked (RFC 3261 §16.6).
enum class fork_mode : std::uint8_t {
    parallel,    ///< every branch at once
    sequential,  ///< best q first, the next when one fails or rings past branch_timeout_ns
};

/// The configuration the pipeline runs on: immutable while workers read it (a reload swaps in a
/// new one).
struct proxy_config {
    std::vector<listen_point> listen;
    proxy_mode mode = proxy_mode::stateful;
    std::vector<std::string> domains;  ///< domains we serve: their Request-URIs go through location
    bool record_route = true;
    /// [topology] hide (stateful mode only): what leaves toward one side names no element of the
    /// other: only our Via (the others are kept in the transaction and restored on the responses),
    /// our Record-Route (the others sealed in it), our URIs as Contact (the real one sealed in them).
    /// Dialog-forming requests are then always record-routed.
    bool hide_topology = false;
    std::vector<std::string> extensions;  ///< option tags a Proxy-Require may name (else 420)
    sec_agree_mode sec_agree = sec_agree_mode::accept;
    std::vector<route_rule> routes;
    std::vector<location_entry> locations;
    /// REGISTERs for our domains are answered by our registrar (when the host gave the shards a
    /// location store); off, they follow the routes like any request.
    bool serve_registrations = false;
    registrar::registrar_limits registrar_limits;
    std::shared_ptr<const registrar::alias_map> aliases;
    /// Route values our 200 to a REGISTER carries as Service-Route (RFC 3608): the route the
    /// user's own requests are to take (an S-CSCF, a home proxy).
    std::vector<std::string> service_route;  ///< [[alias]]: identities reached through another's bindings
    auth_config auth;
    std::uint32_t default_max_forwards = 70;
    /// Largest message the backend's TCP path carries (its mailbox slot): a larger request is not
    /// moved from UDP to TCP.
    std::size_t max_stream_message = default_max_stream_message;
    /// Stateful mode: what each shard's transactions may use (table, timers, stored messages); the
    /// table's slots are derived from it unless transactions_per_shard names them.
    std::size_t memory_per_shard = std::size_t{256} << 20;
    std::uint32_t transactions_per_shard = 0;     ///< stateful mode: slots, 0 to derive from memory_per_shard; a full table answers 503
    std::uint32_t dialogs_per_shard = 32768;      ///< stateful mode: dialogs tracked (counts, timeouts)
    /// Stateful mode with a registrar: reg-event subscriptions a shard holds; more are answered 503.
    std::uint32_t subscriptions_per_shard = 16384;
    std::uint64_t dialog_timeout_ns = 7'200'000'000'000;  ///< a dialog with no request this long is over
    std::uint64_t t1_ns = 500'000'000;            ///< RFC 3261 timers, stateful mode
    std::uint64_t t2_ns = 4'000'000'000;
    std::uint64_t t4_ns = 5'000'000'000;
    std::uint64_t timer_c_ns = 180'000'000'000;   ///< §16.6 step 11: an INVITE ringing this long is cancelled
    relay_policy policy;
    /// Where emergency calls go ([emergency] next_hop: an E-CSCF, an ESRP): a Request-URI
    /// urn:service:sos or one of its sub-services, from anyone, without authentication. None: such
    /// a request is answered 503.
    net_address emergency_next_hop;
    sip::transport emergency_transport = sip::transport::udp;
    fork_mode forking = fork_mode::parallel;
    std::uint64_t branch_timeout_ns = 20'000'000'000;  ///< sequential forking: how long a branch is tried before the next
    /// Per-source rate limits, checked before a datagram is parsed ([limits]; off in a library
    /// default, on in sipfastd's); each shard keeps `limited_sources` sources.
    core::source_limits limits;
    std::uint32_t limited_sources = 16384;
    /// The kernel backend's busy-poll window (busy_poll_us, for dedicated cores): after a turn that
    /// found traffic, a worker keeps polling its sockets without sleeping this long, so the next
    /// datagram finds it awake (no wake-up, no inter-processor interrupt); 0 sleeps at once.
    std::uint64_t busy_poll_ns = 0;

    /// Whether `a` is a neighbour we configured (a [[peer]], an [auth] trusted network): one whose
    /// word on where to reach it (a Record-Route) we take, and whose address nobody forges to aim
    /// our messages at a victim.
    [[nodiscard]] bool vouches_for(const net_address& a) const noexcept {
        for (const subnet& t : auth.trusted)
            if (t.contains(a)) return true;
        return policy.peer_of(a) != nullptr;
    }
};

} // namespace sipfast::proxy
