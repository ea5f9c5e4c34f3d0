// SPDX-License-Identifier: Apache-2.0
#include "sipfast/daemon/daemon_config.hpp"

#include <algorithm>

#include "sipfast/core/timer_wheel.hpp"
#include "sipfast/sip/name_addr.hpp"
#include "sipfast/txn/transaction_table.hpp"

#include <toml++/toml.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "sipfast/registrar/aor.hpp"
#include "sipfast/sip/uri.hpp"

namespace sipfast::daemon {

namespace {

#include "embedded_config.inc"  // constexpr std::string_view embedded_toml

struct context {
    std::string_view source;
    config_error error;

    bool fail(const toml::node& at, std::string message) {
        if (!error) error = config_error{std::string(source), static_cast<std::uint32_t>(at.source().begin.line), std::move(message)};
        return false;
    }
};

bool read_string(context& c, const toml::node& n, std::string_view key, std::string& out) {
    const auto* s = n.as_string();
    if (s == nullptr) return c.fail(n, std::string(key) + ": expected a string");
    out = s->get();
    return true;
}

bool read_strings(context& c, const toml::node& n, std::string_view key, std::vector<std::string>& out) {
    const auto* a = n.as_array();
    if (a == nullptr) return c.fail(n, std::string(key) + ": expected an array of strings");
    out.clear();
    for (const toml::node& item : *a) {
        std::string s;
        if (!read_string(c, item, key, s)) return false;
        out.push_back(std::move(s));
    }
    return true;
}

// One integer key of a table such as [timers] or [tcp]: its range as written and how it is stored.
struct int_key {
    std::string_view name;
    std::int64_t min;
    std::int64_t max;
    std::uint64_t scale;  // stored value = written value * scale
    std::uint64_t* u64 = nullptr;
    std::uint32_t* u32 = nullptr;
    std::size_t* size = nullptr;
    std::string_view unit;  // for the refusal: "milliseconds"
};

// One integer key: range-checked, scaled, stored; refused as "LABEL: expected UNIT from MIN to MAX".
bool read_int(context& c, const toml::node& v, const int_key& key, const std::string& label) {
    const auto* i = v.as_integer();
    if (i == nullptr || i->get() < key.min || i->get() > key.max)
        return c.fail(v, label + ": expected " + std::string(key.unit) + " from " + std::to_string(key.min) + " to " +
                             std::to_string(key.max));
    const std::uint64_t value = static_cast<std::uint64_t>(i->get()) * key.scale;
    if (key.u64) *key.u64 = value;
    if (key.u32) *key.u32 = static_cast<std::uint32_t>(value);
    if (key.size) *key.size = static_cast<std::size_t>(value);
    return true;
}

bool read_int_table(context& c, const toml::node& n, std::string_view table, std::initializer_list<int_key> keys) {
    std::string names;
    for (const int_key& k : keys) names += (names.empty() ? "" : ", ") + std::string(k.name);
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, std::string(table) + ": expected a table ([" + std::string(table) + "] with " + names + ")");
    for (auto&& [tk, tv] : *t) {
        const std::string_view name = tk.str();
        const int_key* key = nullptr;
        for (const int_key& k : keys)
            if (k.name == name) key = &k;
        if (key == nullptr)
            return c.fail(tv, std::string(table) + ": unknown key '" + std::string(name) + "' (" + names + ")");
        if (!read_int(c, tv, *key, std::string(table) + "." + std::string(name))) return false;
    }
    return true;
}

std::string host_text(const core::net_address& a) {
    std::array<char, 48> buf{};
    return std::string(core::format_host(a, buf));
}

// What makes the addresses and gateways of [dpdk] (or the command line) unusable together: "" when
// nothing does.
std::string check_owned(const dpdk_config& d) {
    for (std::size_t i = 0; i < d.addresses.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
            if (d.addresses[i].ip.family == d.addresses[j].ip.family)
                return "addresses: one address per family (IPv4 and IPv6), two given for IPv" +
                       std::to_string(d.addresses[i].ip.family);
    for (std::size_t i = 0; i < d.gateways.size(); ++i) {
        const core::net_address& g = d.gateways[i];
        for (std::size_t j = 0; j < i; ++j)
            if (d.gateways[j].family == g.family) return "gateways: one gateway per family, two given for IPv" + std::to_string(g.family);
        const owned_address* own = nullptr;
        for (const owned_address& a : d.addresses)
            if (a.ip.family == g.family) own = &a;
        if (own == nullptr || !core::same_subnet(own->ip, g, own->prefix) || own->prefix == 0 ||
            own->prefix == (g.family == 4 ? 32u : 128u))
            return "gateways: " + host_text(g) + " is not on the subnet of an address of ours (give addresses as IP/PREFIX)";
    }
    return {};
}

bool read_dpdk(context& c, const toml::node& n, dpdk_config& d) {
    constexpr std::string_view names =
        "port, addresses, gateways, exception_port, rx_descriptors, tx_descriptors, mbufs, mailbox_kib";
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "dpdk: expected a table ([dpdk] with " + std::string(names) + ")");
    const int_key ints[] = {
        {"rx_descriptors", 64, 32768, 1, nullptr, &d.rx_descriptors, nullptr, "descriptors"},
        {"tx_descriptors", 64, 32768, 1, nullptr, &d.tx_descriptors, nullptr, "descriptors"},
        {"mbufs", 0, 1 << 24, 1, nullptr, &d.mbufs, nullptr, "mbufs (0: sized from the rings)"},
        {"mailbox_kib", 64, 1 << 20, 1, nullptr, &d.mailbox_kib, nullptr, "KiB"},
    };
    for (auto&& [tk, tv] : *t) {
        const std::string_view name = tk.str();
        const std::string label = "dpdk." + std::string(name);
        const int_key* integer = nullptr;
        for (const int_key& k : ints)
            if (k.name == name) integer = &k;
        std::vector<std::string> items;
        if (integer != nullptr) {
            if (!read_int(c, tv, *integer, label)) return false;
        } else if (name == "port") {
            if (!read_string(c, tv, label, d.port)) return false;
        } else if (name == "exception_port") {
            if (!read_string(c, tv, label, d.exception_port)) return false;
        } else if (name == "addresses") {
            if (!read_strings(c, tv, label, items)) return false;
            for (const std::string& item : items) {
                owned_address a;
                if (const std::string why = parse_owned_address(item, a); !why.empty())
                    return c.fail(tv, label + ": '" + item + "': " + why);
                d.addresses.push_back(a);
            }
        } else if (name == "gateways") {
            if (!read_strings(c, tv, label, items)) return false;
            for (const std::string& item : items) {
                core::net_address g;
                if (!core::parse_ip(item, g)) return c.fail(tv, label + ": '" + item + "' is not an IP address");
                d.gateways.push_back(g);
            }
        } else {
            return c.fail(tv, "dpdk: unknown key '" + std::string(name) + "' (" + std::string(names) + ")");
        }
    }
    if (const std::string why = check_owned(d); !why.empty()) return c.fail(n, "dpdk." + why);
    return true;
}

// A next hop, "transport:ip:port" (transport and port optional, as in listen).
bool read_next_hop(context& c, const toml::node& v, const std::string& label, core::net_address& to, sip::transport& t) {
    std::string hop;
    proxy::listen_point lp;
    if (!read_string(c, v, label, hop)) return false;
    if (!parse_listen(hop, lp)) return c.fail(v, label + ": '" + hop + "' is not transport:ip:port (a numeric address)");
    to = lp.address;
    t = lp.transport;
    return true;
}

// [emergency]: where urn:service:sos calls go.
bool read_emergency(context& c, const toml::node& n, proxy::proxy_config& p) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "emergency: expected a table ([emergency] with next_hop)");
    for (auto&& [k, v] : *t) {
        if (k.str() != "next_hop") return c.fail(v, "emergency: unknown key '" + std::string(k.str()) + "' (next_hop)");
        if (!read_next_hop(c, v, "emergency.next_hop", p.emergency_next_hop, p.emergency_transport)) return false;
    }
    return true;
}

bool read_route(context& c, const toml::node& n, proxy::route_rule& r) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "route: expected a table ([[route]])");
    bool have_hop = false;
    for (auto&& [k, v] : *t) {
        const std::string_view key = k.str();
        if (key == "domain") {
            if (!read_string(c, v, "route.domain", r.domain)) return false;
        } else if (key == "user_prefix") {
            if (!read_string(c, v, "route.user_prefix", r.user_prefix)) return false;
        } else if (key == "next_hop") {
            if (!read_next_hop(c, v, "route.next_hop", r.next_hop, r.transport)) return false;
            have_hop = true;
        } else {
            return c.fail(v, "route: unknown key '" + std::string(key) + "'");
        }
    }
    if (!have_hop) return c.fail(n, "route: next_hop is required");
    return true;
}

// "198.18.0.0/24" (or an address alone) as a subnet; fails naming `label` and the text.
bool read_subnets(context& c, const toml::node& v, const std::string& label, std::vector<proxy::subnet>& out) {
    std::vector<std::string> nets;
    if (!read_strings(c, v, label, nets)) return false;
    for (const std::string& text : nets) {
        owned_address o;
        if (const std::string err = parse_owned_address(text, o); !err.empty())
            return c.fail(v, label + ": '" + text + "': " + err);
        out.push_back({o.ip, o.prefix});
    }
    return true;
}

// [limits]: what a source that is not a [[peer]] may send. A burst not given is twice its rate; a
// byte burst must hold the largest datagram, or such a message could never pass.
bool read_limits(context& c, const toml::node& n, proxy::proxy_config& p) {
    core::source_limits l = p.limits;
    std::uint64_t ban_ns = l.ban_ns;
    std::uint32_t message_burst = 0;
    std::uint32_t byte_burst = 0;
    if (!read_int_table(c, n, "limits",
                        {{"messages_per_s", 0, 10'000'000, 1, nullptr, &l.messages_per_s, nullptr, "messages a second (0: off)"},
                         {"message_burst", 1, 100'000'000, 1, nullptr, &message_burst, nullptr, "messages"},
                         {"bytes_per_s", 0, 1'000'000'000, 1, nullptr, &l.bytes_per_s, nullptr, "bytes a second (0: off)"},
                         {"byte_burst", 65'535, 2'000'000'000, 1, nullptr, &byte_burst, nullptr, "bytes"},
                         {"ban_s", 0, 86'400, 1'000'000'000, &ban_ns, nullptr, nullptr, "seconds (0: no ban)"},
                         {"sources_per_worker", 8, 1 << 24, 1, nullptr, &p.limited_sources, nullptr, "sources"}}))
        return false;
    const auto* t = n.as_table();
    const auto twice = [](std::uint32_t rate) { return rate > 1'000'000'000 ? 2'000'000'000u : 2 * rate; };
    l.message_burst = message_burst != 0 ? message_burst : twice(l.messages_per_s);
    l.byte_burst = byte_burst != 0 ? byte_burst : std::max<std::uint32_t>(twice(l.bytes_per_s), 65'535);
    l.ban_ns = ban_ns;
    if (l.ban_ns != 0 && !l.enabled()) return c.fail(*t, "limits: ban_s needs messages_per_s or bytes_per_s");
    p.limits = l;
    return true;
}

// [policy]: whether we relay for strangers, and loopback destinations.
bool read_policy(context& c, const toml::node& n, proxy::relay_policy& p) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "policy: expected a table ([policy] with relay, allow_loopback)");
    for (auto&& [tk, tv] : *t) {
        const std::string_view name = tk.str();
        if (name == "relay") {
            std::string m;
            if (!read_string(c, tv, "policy.relay", m)) return false;
            if (m == "closed") p.closed = true;
            else if (m == "open") p.closed = false;
            else return c.fail(tv, "policy.relay: '" + m + "' is neither closed nor open");
        } else if (name == "allow_loopback") {
            const auto* b = tv.as_boolean();
            if (b == nullptr) return c.fail(tv, "policy.allow_loopback: expected true or false");
            p.allow_loopback = b->get();
        } else {
            return c.fail(tv, "policy: unknown key '" + std::string(name) + "' (relay, allow_loopback)");
        }
    }
    return true;
}

// [[peer]]: address (a subnet) and reach (subnets, all when absent).
bool read_peer(context& c, const toml::node& n, proxy::trusted_peer& peer) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "peer: expected [[peer]] tables");
    bool have_address = false;
    for (auto&& [tk, tv] : *t) {
        const std::string_view name = tk.str();
        if (name == "address") {
            std::string text;
            if (!read_string(c, tv, "peer.address", text)) return false;
            owned_address o;
            if (const std::string err = parse_owned_address(text, o); !err.empty())
                return c.fail(tv, "peer.address: '" + text + "': " + err);
            peer.from = {o.ip, o.prefix};
            have_address = true;
        } else if (name == "reach") {
            if (!read_subnets(c, tv, "peer.reach", peer.reach)) return false;
        } else {
            return c.fail(tv, "peer: unknown key '" + std::string(name) + "' (address, reach)");
        }
    }
    if (!have_address) return c.fail(n, "peer: address is required (\"198.18.0.0/24\")");
    return true;
}

// [forking]: how a request to a user with several contacts is tried (RFC 3261 §16.6).
bool read_forking(context& c, const toml::node& n, proxy::proxy_config& p) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "forking: expected a table ([forking] with mode, branch_timeout_s)");
    for (auto&& [tk, tv] : *t) {
        const std::string_view name = tk.str();
        if (name == "mode") {
            std::string m;
            if (!read_string(c, tv, "forking.mode", m)) return false;
            if (m == "parallel") p.forking = proxy::fork_mode::parallel;
            else if (m == "sequential") p.forking = proxy::fork_mode::sequential;
            else return c.fail(tv, "forking.mode: '" + m + "' is neither parallel nor sequential");
        } else if (name == "branch_timeout_s") {
            if (!read_int(c, tv, {"branch_timeout_s", 1, 3600, 1'000'000'000, &p.branch_timeout_ns, nullptr, nullptr, "seconds"},
                          "forking.branch_timeout_s"))
                return false;
        } else {
            return c.fail(tv, "forking: unknown key '" + std::string(name) + "' (mode, branch_timeout_s)");
        }
    }
    return true;
}

// [topology]: hide (docs/configuration.md): what each side sees of the other.
bool read_topology(context& c, const toml::node& n, proxy::proxy_config& p) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "topology: expected a table ([topology] with hide)");
    for (auto&& [tk, tv] : *t) {
        if (tk.str() != "hide") return c.fail(tv, "topology: unknown key '" + std::string(tk.str()) + "' (hide)");
        const auto* b = tv.as_boolean();
        if (b == nullptr) return c.fail(tv, "topology.hide: expected true or false");
        p.hide_topology = b->get();
    }
    return true;
}

// [sec_agree] mode = "accept" | "refuse" (stages/sec_agree.hpp).
bool read_sec_agree(context& c, const toml::node& n, proxy::proxy_config& p) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "sec_agree: expected a table ([sec_agree] with mode)");
    for (auto&& [tk, tv] : *t) {
        if (tk.str() != "mode") return c.fail(tv, "sec_agree: unknown key '" + std::string(tk.str()) + "' (mode)");
        std::string mode;
        if (!read_string(c, tv, "sec_agree.mode", mode)) return false;
        if (mode == "accept") p.sec_agree = proxy::sec_agree_mode::accept;
        else if (mode == "refuse") p.sec_agree = proxy::sec_agree_mode::refuse;
        else return c.fail(tv, "sec_agree.mode: '" + mode + "' is not accept or refuse");
    }
    return true;
}

// Exactly `out.size()` bytes written as hexadecimal digits.
template <std::size_t N>
bool read_hex(context& c, const toml::node& n, std::string_view key, std::array<std::uint8_t, N>& out) {
    std::string text;
    if (!read_string(c, n, key, text)) return false;
    const auto digit = [](char ch) {
        return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    };
    if (text.size() != 2 * N)
        return c.fail(n, std::string(key) + ": expected " + std::to_string(2 * N) + " hexadecimal digits, not " +
                             std::to_string(text.size()) + " characters");
    for (std::size_t i = 0; i < N; ++i) {
        const int hi = digit(text[2 * i]);
        const int lo = digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0) return c.fail(n, std::string(key) + ": '" + text + "' is not hexadecimal");
        out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

// [[subscriber]]: impi, impu = [...], k, opc (or op), amf, sqn: an IMS AKA subscriber (auth/subscribers.hpp).
bool read_subscriber(context& c, const toml::node& n, auth::subscriber_directory& out) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "subscriber: expected [[subscriber]] tables");
    std::string impi;
    std::vector<std::string> impus;
    auth::block k{}, opc{}, op{};
    bool have_k = false, have_opc = false, have_op = false;
    auth::amf_bytes amf{};
    std::uint64_t seq = 0;
    for (auto&& [tk, tv] : *t) {
        const std::string_view key = tk.str();
        if (key == "impi") {
            if (!read_string(c, tv, "subscriber.impi", impi)) return false;
        } else if (key == "impu") {
            if (!read_strings(c, tv, "subscriber.impu", impus)) return false;
        } else if (key == "k") {
            if (!(have_k = read_hex(c, tv, "subscriber.k", k))) return false;
        } else if (key == "opc") {
            if (!(have_opc = read_hex(c, tv, "subscriber.opc", opc))) return false;
        } else if (key == "op") {
            if (!(have_op = read_hex(c, tv, "subscriber.op", op))) return false;
        } else if (key == "amf") {
            if (!read_hex(c, tv, "subscriber.amf", amf)) return false;
        } else if (key == "sqn") {
            const auto* v = tv.as_integer();
            if (v == nullptr || v->get() < 0 || static_cast<std::uint64_t>(v->get()) > auth::sqn_generator::seq_max)
                return c.fail(tv, "subscriber.sqn: expected the last SEQ issued, 0 to " + std::to_string(auth::sqn_generator::seq_max));
            seq = static_cast<std::uint64_t>(v->get());
        } else {
            return c.fail(tv, "subscriber: unknown key '" + std::string(key) + "' (impi, impu, k, opc, op, amf, sqn)");
        }
    }
    if (impi.empty() || impus.empty() || !have_k) return c.fail(n, "subscriber: impi, impu and k are required");
    if (have_opc == have_op) return c.fail(n, "subscriber: exactly one of opc and op is required");
    if (have_op) {
        const std::optional<auth::block> derived = auth::milenage::opc_from_op(k, op);
        if (!derived) return c.fail(n, "subscriber: OPc could not be derived from op (OpenSSL failed)");
        opc = *derived;
    }
    std::vector<std::string> keys;
    for (const std::string& text : impus) {
        sip::uri u;
        core::text<256> key;
        if (sip::parse_uri(text, u) != sip::parse_error::none || !registrar::write_aor(u, key))
            return c.fail(n, "subscriber.impu: '" + text + "' is not a sip: URI with a user (tel: identities go in [[alias]])");
        keys.emplace_back(key.view());
    }
    if (std::string err = out.add(impi, std::move(keys), k, opc, amf, seq); !err.empty()) return c.fail(n, "subscriber: " + err);
    return true;
}

// Topology hiding keeps the Vias of each request in its transaction: there is none statelessly.
std::string topology_fault(const proxy::proxy_config& p) {
    if (p.hide_topology && p.mode == proxy::proxy_mode::stateless)
        return "topology.hide: needs mode = \"stateful\" (the Vias a request came with are kept in its transaction "
               "and put back on its responses; a stateless proxy has nowhere to keep them)";
    return {};
}

// [registrar]: enabled, where bindings are kept, the expiry limits and bindings per address-of-record.
bool read_registrar(context& c, const toml::node& n, daemon_config& cfg) {
    proxy::proxy_config& p = cfg.proxy;
    registrar::registrar_limits& l = p.registrar_limits;
    const int_key ints[] = {
        {"min_expires_s", 1, 86400, 1, nullptr, &l.min_expires_s, nullptr, "seconds"},
        {"max_expires_s", 1, 604800, 1, nullptr, &l.max_expires_s, nullptr, "seconds"},
        {"default_expires_s", 1, 604800, 1, nullptr, &l.default_expires_s, nullptr, "seconds"},
        {"max_bindings", 1, 64, 1, nullptr, &l.max_bindings, nullptr, "bindings"},
    };
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "registrar: expected a table ([registrar])");
    for (auto&& [tk, tv] : *t) {
        const std::string_view name = tk.str();
        if (name == "enabled") {
            const auto* b = tv.as_boolean();
            if (b == nullptr) return c.fail(tv, "registrar.enabled: expected true or false");
            p.serve_registrations = b->get();
            continue;
        }
        if (name == "database") {
            if (!read_string(c, tv, "registrar.database", cfg.bindings_database)) return false;
            continue;
        }
        if (name == "service_route") {
            if (!read_strings(c, tv, "registrar.service_route", p.service_route)) return false;
            for (const std::string& r : p.service_route) {
                sip::name_addr na;
                if (sip::parse_name_addr(r, na) != sip::parse_error::none || !na.angle_brackets)
                    return c.fail(tv, "registrar.service_route: '" + r + "' is not <sip:URI;lr>");
            }
            continue;
        }
        const int_key* key = nullptr;
        for (const int_key& k : ints)
            if (k.name == name) key = &k;
        if (key == nullptr)
            return c.fail(tv, "registrar: unknown key '" + std::string(name) +
                                  "' (enabled, database, service_route, min_expires_s, max_expires_s, default_expires_s, max_bindings)");
        if (!read_int(c, tv, *key, "registrar." + std::string(name))) return false;
    }
    if (l.min_expires_s > l.default_expires_s || l.default_expires_s > l.max_expires_s)
        return c.fail(n, "registrar: expected min_expires_s <= default_expires_s <= max_expires_s");
    return true;
}

// [auth]: who is challenged, where the users are, whom we trust, how long a nonce lives.
bool read_auth(context& c, const toml::node& n, daemon_config& cfg) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "auth: expected a table ([auth])");
    proxy::auth_config& a = cfg.proxy.auth;
    for (auto&& [tk, tv] : *t) {
        const std::string_view name = tk.str();
        if (name == "authenticate") {
            std::string mode;
            if (!read_string(c, tv, "auth.authenticate", mode)) return false;
            if (mode == "none") a.mode = proxy::auth_mode::none;
            else if (mode == "register") a.mode = proxy::auth_mode::registrations;
            else if (mode == "all") a.mode = proxy::auth_mode::all;
            else return c.fail(tv, "auth.authenticate: '" + mode + "' is not none, register or all");
            cfg.auth_mode_given = true;
        } else if (name == "users_file") {
            if (!read_string(c, tv, "auth.users_file", cfg.users_file)) return false;
        } else if (name == "trusted") {
            if (!read_subnets(c, tv, "auth.trusted", a.trusted)) return false;
        } else if (name == "nonce_lifetime_s") {
            if (!read_int(c, tv, {"nonce_lifetime_s", 10, 86400, 1'000'000'000, &a.nonce_lifetime_ns, nullptr, nullptr, "seconds"},
                          "auth.nonce_lifetime_s"))
                return false;
        } else if (name == "algorithms") {
            std::vector<std::string> names;
            if (!read_strings(c, tv, "auth.algorithms", names)) return false;
            if (names.empty()) return c.fail(tv, "auth.algorithms: at least one of \"SHA-256\" and \"MD5\" is needed");
            a.algorithms.clear();
            for (const std::string& text : names) {
                const auth::algorithm alg = text == "MD5" ? auth::algorithm::md5 : auth::algorithm::sha256;
                if (text != "MD5" && text != "SHA-256")
                    return c.fail(tv, "auth.algorithms: '" + text + "' is neither \"SHA-256\" nor \"MD5\"");
                if (std::find(a.algorithms.begin(), a.algorithms.end(), alg) == a.algorithms.end()) a.algorithms.push_back(alg);
            }
        } else {
            return c.fail(tv, "auth: unknown key '" + std::string(name) +
                                  "' (authenticate, users_file, trusted, nonce_lifetime_s, algorithms)");
        }
    }
    return true;
}

// [[alias]]: aor = "sip:...", identities = ["sip:...", "tel:..."] reached through its bindings.
bool read_alias(context& c, const toml::node& n, registrar::alias_map& aliases) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "alias: expected [[alias]] tables");
    std::string aor;
    std::vector<std::string> identities;
    for (auto&& [tk, tv] : *t) {
        const std::string_view key = tk.str();
        if (key == "aor") {
            if (!read_string(c, tv, "alias.aor", aor)) return false;
        } else if (key == "identities") {
            if (!read_strings(c, tv, "alias.identities", identities)) return false;
        } else {
            return c.fail(tv, "alias: unknown key '" + std::string(key) + "' (aor, identities)");
        }
    }
    if (aor.empty() || identities.empty()) return c.fail(n, "alias: aor and identities are required");
    if (std::string err = aliases.add(aor, identities); !err.empty()) return c.fail(n, "alias: " + err);
    return true;
}

// [[user]]: name and password, and the realm (one of the domains) when not every one.
bool read_user(context& c, const toml::node& n, daemon_config::user_account& u) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "user: expected [[user]] tables");
    for (auto&& [tk, tv] : *t) {
        const std::string_view key = tk.str();
        std::string* field = key == "name" ? &u.name : key == "password" ? &u.password : key == "realm" ? &u.realm : nullptr;
        if (field == nullptr) return c.fail(tv, "user: unknown key '" + std::string(key) + "' (name, password, realm)");
        if (!read_string(c, tv, "user." + std::string(key), *field)) return false;
    }
    if (u.name.empty() || u.password.empty()) return c.fail(n, "user: name and password are required");
    return true;
}

bool read_location(context& c, const toml::node& n, proxy::location_entry& e) {
    const auto* t = n.as_table();
    if (t == nullptr) return c.fail(n, "location: expected a table ([[location]])");
    for (auto&& [k, v] : *t) {
        const std::string_view key = k.str();
        if (key == "user") {
            if (!read_string(c, v, "location.user", e.user)) return false;
        } else if (key == "domain") {
            if (!read_string(c, v, "location.domain", e.domain)) return false;
        } else if (key == "contact") {
            if (!read_string(c, v, "location.contact", e.contact_uri)) return false;
            sip::uri u;
            if (sip::parse_uri(e.contact_uri, u) != sip::parse_error::none || u.scheme != sip::uri_scheme::sip ||
                !core::parse_ip(u.host, e.contact_address))
                return c.fail(v, "location.contact: '" + e.contact_uri + "' is not a sip: URI with a numeric host");
            e.contact_address.port = u.has_port ? u.port : std::uint16_t{5060};
            if (const sip::param tp = u.params.find("transport"); !tp.name.empty()) {
                e.transport = sip::classify_transport(tp.value);
                if (e.transport != sip::transport::udp && e.transport != sip::transport::tcp)
                    return c.fail(v, "location.contact: transport '" + std::string(tp.value) + "' is not udp or tcp");
            }
        } else {
            return c.fail(v, "location: unknown key '" + std::string(key) + "'");
        }
    }
    if (e.user.empty() || e.contact_uri.empty()) return c.fail(n, "location: user and contact are required");
    return true;
}

} // namespace

std::string config_error::to_string() const {
    return line ? source + ":" + std::to_string(line) + ": " + message : source + ": " + message;
}

std::string_view embedded_default_config() noexcept { return embedded_toml; }

std::string load_with_command_line(const command_line& cli, daemon_config& cfg, std::string& source) {
    source = "<embedded default>";
    std::string text(embedded_default_config());
    if (!cli.config_file.empty()) {
        std::ifstream in(cli.config_file, std::ios::binary);
        if (!in) return cli.config_file + ": cannot open: " + std::strerror(errno);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        source = cli.config_file;
    }
    if (const config_error e = load_config(text, source, cfg)) return e.to_string();
    if (!cli.listen.empty()) {
        cfg.proxy.listen.clear();
        for (const std::string& l : cli.listen) {
            proxy::listen_point lp;
            if (!parse_listen(l, lp)) return "--listen " + l + ": not transport:ip:port (udp or tcp, a numeric address)";
            cfg.proxy.listen.push_back(lp);
        }
    }
    if (cli.workers) cfg.workers = cli.workers;
    if (!cli.mode.empty()) cfg.proxy.mode = cli.mode == "stateless" ? proxy::proxy_mode::stateless : proxy::proxy_mode::stateful;
    if (!cli.domains.empty()) cfg.proxy.domains = cli.domains;
    if (!cli.mode.empty())
        if (std::string err = topology_fault(cfg.proxy); !err.empty()) return "--mode " + cli.mode + ": " + err;
    if (!cli.record_route.empty()) cfg.proxy.record_route = cli.record_route == "on";
    if (!cli.log_level.empty()) cfg.log_level = cli.log_level;
    if (!cli.users.empty()) cfg.users_file = cli.users;
    // [[user]] without a realm is a user of every domain, which --domains may have changed.
    if (!cli.users.empty() || !cli.domains.empty())
        if (std::string err = build_users(cfg); !err.empty()) return (cli.users.empty() ? "" : "--users ") + err;
    if (!cli.port.empty()) cfg.dpdk.port = cli.port;
    if (!cli.exception_port.empty()) cfg.dpdk.exception_port = cli.exception_port;
    if (!cli.addresses.empty()) {
        cfg.dpdk.addresses.clear();
        for (const std::string& a : cli.addresses) {
            owned_address own;
            if (const std::string why = parse_owned_address(a, own); !why.empty()) return "--address " + a + ": " + why;
            cfg.dpdk.addresses.push_back(own);
        }
    }
    if (!cli.gateways.empty()) {
        cfg.dpdk.gateways.clear();
        for (const std::string& g : cli.gateways) {
            core::net_address ip;
            if (!core::parse_ip(g, ip)) return "--gateway " + g + ": not an IP address";
            cfg.dpdk.gateways.push_back(ip);
        }
    }
    if (!cli.addresses.empty() || !cli.gateways.empty())
        if (const std::string why = check_owned(cfg.dpdk); !why.empty()) return "--address/--gateway: " + why;
    return {};
}

std::string reload_conflict(const daemon_config& running, const daemon_config& next) {
    const auto same_listen = [](const std::vector<proxy::listen_point>& a, const std::vector<proxy::listen_point>& b) {
        if (a.size() != b.size()) return false;
        for (std::size_t i = 0; i < a.size(); ++i)
            if (a[i].transport != b[i].transport || !(a[i].address == b[i].address)) return false;
        return true;
    };
    std::string changed;
    const auto check = [&](bool same, std::string_view key) {
        if (!same) changed += (changed.empty() ? "" : ", ") + std::string(key);
    };
    check(same_listen(running.proxy.listen, next.proxy.listen), "listen");
    check(running.workers == next.workers, "workers");
    check(running.steer_in_kernel_bpf == next.steer_in_kernel_bpf, "steering");
    check(running.proxy.busy_poll_ns == next.proxy.busy_poll_ns, "busy_poll_us");
    check(running.proxy.mode == next.proxy.mode, "mode");
    check(running.proxy.transactions_per_shard == next.proxy.transactions_per_shard, "transactions_per_worker");
    check(running.proxy.memory_per_shard == next.proxy.memory_per_shard, "memory.per_worker_mb");
    check(running.proxy.dialogs_per_shard == next.proxy.dialogs_per_shard, "dialogs_per_worker");
    check(running.proxy.limited_sources == next.proxy.limited_sources, "limits.sources_per_worker");
    check(running.metrics_listen == next.metrics_listen, "metrics.listen");
    check(running.control_socket == next.control_socket, "control_socket");
    check(running.bindings_database == next.bindings_database, "registrar.database");
    return changed.empty() ? std::string() : changed + " changed: a restart is needed to apply that";
}

std::string parse_owned_address(std::string_view text, owned_address& out) {
    const std::size_t slash = text.find('/');
    owned_address a;
    if (!core::parse_ip(text.substr(0, slash), a.ip)) return "not IP/PREFIX with a numeric IP";
    const unsigned bits = a.ip.family == 4 ? 32u : 128u;
    a.prefix = bits;
    if (slash != std::string_view::npos) {
        const std::string_view p = text.substr(slash + 1);
        if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string_view::npos ||
            std::stoul(std::string(p)) > bits)
            return "prefix is not 0.." + std::to_string(bits);
        a.prefix = static_cast<unsigned>(std::stoul(std::string(p)));
    }
    out = a;
    return {};
}

bool parse_listen(std::string_view text, proxy::listen_point& out) {
    proxy::listen_point lp;
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.substr(0, colon).find_first_of(".[") == std::string_view::npos &&
        text.substr(0, colon).size() <= 4 && text.front() != '[') {
        const std::string_view t = text.substr(0, colon);
        lp.transport = sip::classify_transport(t);
        if (lp.transport != sip::transport::udp && lp.transport != sip::transport::tcp) return false;
        text.remove_prefix(colon + 1);
    }
    if (!core::parse_ip_port(text, 5060, lp.address)) return false;
    out = lp;
    return true;
}

config_error load_config(std::string_view toml_text, std::string_view source, daemon_config& out) {
    context c{source, {}};
    toml::table root;
    try {
        root = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        return config_error{std::string(source), static_cast<std::uint32_t>(e.source().begin.line),
                            std::string(e.description())};
    }
    daemon_config cfg;
    cfg.proxy.limits = proxy::default_source_limits;
    const int_key top_ints[] = {
        {"workers", 0, 256, 1, nullptr, &cfg.workers, nullptr, "an integer"},
        {"transactions_per_worker", 16, 1 << 24, 1, nullptr, &cfg.proxy.transactions_per_shard, nullptr, "an integer"},
        {"dialogs_per_worker", 16, 1 << 24, 1, nullptr, &cfg.proxy.dialogs_per_shard, nullptr, "an integer"},
        {"dialog_timeout_s", 1, 7 * 86400, 1'000'000'000, &cfg.proxy.dialog_timeout_ns, nullptr, nullptr, "seconds"},
        {"shutdown_grace_ms", 0, 3'600'000, 1'000'000, &cfg.shutdown_grace_ns, nullptr, nullptr, "milliseconds"},
        {"busy_poll_us", 0, 10'000, 1'000, &cfg.proxy.busy_poll_ns, nullptr, nullptr, "microseconds"},
    };
    std::uint32_t topology_line = 0;  // where [topology] is, for a fault found once every key is read
    for (auto&& [k, v] : root) {
        const std::string_view key = k.str();
        const int_key* integer = nullptr;
        for (const int_key& ik : top_ints)
            if (ik.name == key) integer = &ik;
        if (integer != nullptr) {
            (void)read_int(c, v, *integer, std::string(key));
        } else if (key == "listen") {
            std::vector<std::string> items;
            if (!read_strings(c, v, "listen", items)) break;
            if (items.empty()) {
                c.fail(v, "listen: at least one address is needed");
                break;
            }
            for (const std::string& item : items) {
                proxy::listen_point lp;
                if (!parse_listen(item, lp)) {
                    c.fail(v, "listen: '" + item + "' is not transport:ip:port (udp or tcp, a numeric address)");
                    break;
                }
                cfg.proxy.listen.push_back(lp);
            }
        } else if (key == "mode") {
            std::string m;
            if (read_string(c, v, "mode", m)) {
                if (m == "stateful") cfg.proxy.mode = proxy::proxy_mode::stateful;
                else if (m == "stateless") cfg.proxy.mode = proxy::proxy_mode::stateless;
                else c.fail(v, "mode: '" + m + "' is neither stateful nor stateless");
            }
        } else if (key == "domains") {
            (void)read_strings(c, v, "domains", cfg.proxy.domains);
        } else if (key == "extensions") {
            (void)read_strings(c, v, "extensions", cfg.proxy.extensions);
        } else if (key == "record_route") {
            const auto* b = v.as_boolean();
            if (b == nullptr) c.fail(v, "record_route: expected true or false");
            else cfg.proxy.record_route = b->get();
        } else if (key == "metrics") {
            const auto* t = v.as_table();
            if (t == nullptr) {
                c.fail(v, "metrics: expected a table ([metrics] with listen)");
                break;
            }
            for (auto&& [mk, mv] : *t) {
                core::net_address a;
                if (mk.str() != "listen") {
                    c.fail(mv, "metrics: unknown key '" + std::string(mk.str()) + "' (listen)");
                } else if (read_string(c, mv, "metrics.listen", cfg.metrics_listen) && !cfg.metrics_listen.empty() &&
                           !core::parse_ip_port(cfg.metrics_listen, 9160, a, true)) {
                    c.fail(mv, "metrics.listen: '" + cfg.metrics_listen + "' is not ip:port (\"\" turns metrics off)");
                }
            }
        } else if (key == "dpdk") {
            (void)read_dpdk(c, v, cfg.dpdk);
        } else if (key == "control_socket") {
            (void)read_string(c, v, "control_socket", cfg.control_socket);
        } else if (key == "steering") {
            std::string m;
            if (read_string(c, v, "steering", m)) {
                if (m == "ebpf" || m == "kernel") cfg.steer_in_kernel_bpf = m == "ebpf";
                else c.fail(v, "steering: '" + m + "' is neither ebpf nor kernel");
            }
        } else if (key == "log_level") {
            if (read_string(c, v, "log_level", cfg.log_level) && cfg.log_level != "error" && cfg.log_level != "warn" &&
                cfg.log_level != "info" && cfg.log_level != "debug")
                c.fail(v, "log_level: '" + cfg.log_level + "' is not error, warn, info or debug");
        } else if (key == "timers") {
            constexpr std::uint64_t ms = 1'000'000;
            if (read_int_table(c, v, "timers",
                               {{"t1_ms", 1, 600000, ms, &cfg.proxy.t1_ns, nullptr, nullptr, "milliseconds"},
                                {"t2_ms", 1, 600000, ms, &cfg.proxy.t2_ns, nullptr, nullptr, "milliseconds"},
                                {"t4_ms", 1, 600000, ms, &cfg.proxy.t4_ns, nullptr, nullptr, "milliseconds"},
                                {"c_ms", 1000, 3600000, ms, &cfg.proxy.timer_c_ns, nullptr, nullptr, "milliseconds"}}) &&
                cfg.proxy.t2_ns < cfg.proxy.t1_ns)
                c.fail(v, "timers: t2_ms must not be below t1_ms");
        } else if (key == "auth") {
            (void)read_auth(c, v, cfg);
        } else if (key == "user") {
            const auto* a = v.as_array();
            if (a == nullptr) {
                c.fail(v, "user: expected [[user]] tables");
                break;
            }
            for (const toml::node& item : *a) {
                daemon_config::user_account u;
                if (!read_user(c, item, u)) break;
                cfg.users.push_back(std::move(u));
            }
        } else if (key == "subscriber") {
            const auto* a = v.as_array();
            if (a == nullptr) {
                c.fail(v, "subscriber: expected [[subscriber]] tables");
                break;
            }
            auto subscribers = std::make_shared<auth::subscriber_directory>();
            for (const toml::node& item : *a)
                if (!read_subscriber(c, item, *subscribers)) break;
            cfg.proxy.auth.subscribers = std::move(subscribers);
        } else if (key == "sec_agree") {
            (void)read_sec_agree(c, v, cfg.proxy);
        } else if (key == "alias") {
            const auto* a = v.as_array();
            if (a == nullptr) {
                c.fail(v, "alias: expected [[alias]] tables");
                break;
            }
            auto aliases = std::make_shared<registrar::alias_map>();
            for (const toml::node& item : *a)
                if (!read_alias(c, item, *aliases)) break;
            cfg.proxy.aliases = std::move(aliases);
        } else if (key == "registrar") {
            (void)read_registrar(c, v, cfg);
        } else if (key == "forking") {
            (void)read_forking(c, v, cfg.proxy);
        } else if (key == "emergency") {
            (void)read_emergency(c, v, cfg.proxy);
        } else if (key == "limits") {
            (void)read_limits(c, v, cfg.proxy);
        } else if (key == "topology") {
            if (read_topology(c, v, cfg.proxy)) topology_line = static_cast<std::uint32_t>(v.source().begin.line);
        } else if (key == "policy") {
            (void)read_policy(c, v, cfg.proxy.policy);
        } else if (key == "peer") {
            const auto* a = v.as_array();
            if (a == nullptr) {
                c.fail(v, "peer: expected [[peer]] tables");
                break;
            }
            for (const toml::node& item : *a) {
                proxy::trusted_peer peer;
                if (!read_peer(c, item, peer)) break;
                cfg.proxy.policy.peers.push_back(std::move(peer));
            }
        } else if (key == "memory") {
            (void)read_int_table(c, v, "memory",
                                 {{"per_worker_mb", 16, 1 << 20, 1 << 20, nullptr, nullptr, &cfg.proxy.memory_per_shard, "MiB"}});
        } else if (key == "tcp") {
            io::tcp_limits& l = cfg.tcp;
            (void)read_int_table(
                c, v, "tcp",
                {{"idle_timeout_s", 1, 86400, 1'000'000'000, &l.idle_timeout_ns, nullptr, nullptr, "seconds"},
                 {"connect_timeout_ms", 10, 600000, 1'000'000, &l.connect_timeout_ns, nullptr, nullptr, "milliseconds"},
                 {"max_connections", 1, 1 << 20, 1, nullptr, &l.max_connections, nullptr, "connections"},
                 {"max_connections_per_ip", 1, 1 << 20, 1, nullptr, &l.max_connections_per_ip, nullptr, "connections"},
                 {"max_outbound_connections", 1, 1 << 20, 1, nullptr, &l.max_outbound_connections, nullptr, "connections"},
                 {"message_timeout_ms", 100, 600000, 1'000'000, &l.message_timeout_ns, nullptr, nullptr, "milliseconds"},
                 {"max_pending_kib", 4, 1 << 20, 1024, nullptr, nullptr, &l.max_pending_bytes, "KiB"}});
        } else if (key == "route" || key == "location") {
            const auto* a = v.as_array();
            if (a == nullptr) {
                c.fail(v, std::string(key) + ": expected [[" + std::string(key) + "]] tables");
                break;
            }
            for (const toml::node& item : *a) {
                if (key == "route") {
                    proxy::route_rule r;
                    if (!read_route(c, item, r)) break;
                    cfg.proxy.routes.push_back(std::move(r));
                } else {
                    proxy::location_entry e;
                    if (!read_location(c, item, e)) break;
                    cfg.proxy.locations.push_back(std::move(e));
                }
            }
        } else {
            c.fail(v, "unknown key '" + std::string(key) + "'");
        }
        if (c.error) break;
    }
    if (!c.error && cfg.proxy.transactions_per_shard != 0) {
        // An explicit slot count must leave the stored messages room within the memory budget.
        const std::size_t need = cfg.proxy.transactions_per_shard *
                                 txn::transaction_table::slot_bytes(core::timer_wheel::bytes_per_timer());
        if (need + txn::message_store::chunk_bytes > cfg.proxy.memory_per_shard)
            c.error = config_error{std::string(source), 0,
                                   "transactions_per_worker: " + std::to_string(cfg.proxy.transactions_per_shard) +
                                       " transactions need " + std::to_string((need >> 20) + 1) +
                                       " MiB, more than [memory] per_worker_mb (" +
                                       std::to_string(cfg.proxy.memory_per_shard >> 20) + ")"};
    }
    if (!c.error)
        if (std::string err = topology_fault(cfg.proxy); !err.empty()) c.error = config_error{std::string(source), topology_line, std::move(err)};
    if (!c.error && cfg.proxy.listen.empty()) c.error = config_error{std::string(source), 0, "listen: at least one address is needed"};
    if (!c.error)
        if (std::string err = build_users(cfg); !err.empty()) c.error = config_error{std::string(source), 0, std::move(err)};
    if (!c.error) out = std::move(cfg);
    return c.error;
}

std::string build_users(daemon_config& cfg) {
    auto users = std::make_shared<auth::user_directory>();
    if (!cfg.users_file.empty())
        if (std::string err = users->load_htdigest(cfg.users_file); !err.empty()) return "users: " + err;
    for (const daemon_config::user_account& u : cfg.users) {
        if (!u.realm.empty()) {
            users->add_password(u.name, u.realm, u.password);
            continue;
        }
        for (const std::string& d : cfg.proxy.domains) users->add_password(u.name, d, u.password);
    }
    const bool subscribers = cfg.proxy.auth.subscribers && cfg.proxy.auth.subscribers->size() != 0;
    if (!cfg.auth_mode_given)
        cfg.proxy.auth.mode = users->size() == 0 && !subscribers ? proxy::auth_mode::none : proxy::auth_mode::registrations;
    cfg.proxy.auth.users = users->size() == 0 ? nullptr : std::move(users);
    return {};
}

} // namespace sipfast::daemon
