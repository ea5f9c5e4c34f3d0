// SPDX-License-Identifier: Apache-2.0
// The daemons' configuration, which sipfastd, sipfastctl and sipfast-dpdk load: the TOML file
// (docs/architecture.md, "Operations") and the command-line overrides, turned into the proxy's config
// model. Refusals name the file, the line and the fault.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sipfast/io/tcp_server.hpp"
#include "sipfast/proxy/config.hpp"

namespace sipfast::daemon {

/// An address sipfast-dpdk owns on its port, with the prefix of the subnet it sits on.
struct owned_address {
    core::net_address ip;
    unsigned prefix = 0;
};

/// Parses "IP/PREFIX" ("198.18.0.2/24", "2001:db8::2/64"; no prefix: a host route). Returns "" or
/// what is wrong with it ("prefix is not 0..32").
[[nodiscard]] std::string parse_owned_address(std::string_view text, owned_address& out);

/// sipfast-dpdk's port and what it owns there ([dpdk]; sipfastd ignores it, so one file serves both).
struct dpdk_config {
    std::string port;                          ///< PCI address or vdev name; empty: the first port
    std::vector<owned_address> addresses;      ///< at most one per family; listen points take them
    std::vector<core::net_address> gateways;  ///< next hop off the subnet, at most one per family
    std::string exception_port;                ///< a net_tap port: what is not SIP over UDP goes to the kernel
    std::uint32_t rx_descriptors = 1024;       ///< per RX queue
    std::uint32_t tx_descriptors = 1024;       ///< per TX queue
    std::uint32_t mbufs = 0;                   ///< the mbuf pool; 0: sized from the rings and lcores
    std::uint32_t mailbox_kib = 1024;          ///< bytes one lcore may have waiting for another, in KiB
};

struct daemon_config {
    daemon_config() { proxy.serve_registrations = true; }  // the daemon is a registrar unless told not to be

    proxy::proxy_config proxy;
    unsigned workers = 0;  ///< 0: one per core
    bool steer_in_kernel_bpf = true;  ///< steering: "ebpf" (datagrams go to their owner's socket) or "kernel"
    io::tcp_limits tcp;
    std::string log_level = "info";
    std::string metrics_listen = "127.0.0.1:9160";  ///< Prometheus /metrics; empty: off
    std::string control_socket = "/run/sipfast/sipfastd.sock";  ///< sipfastctl; empty: off
    std::uint64_t shutdown_grace_ns = 5'000'000'000;  ///< SIGTERM: how long transactions may finish
    std::string bindings_database = "/var/lib/sipfast/bindings.db";  ///< [registrar] database; empty: memory only
    dpdk_config dpdk;
    // Digest authentication: where the users come from ([auth] users_file or --users, [[user]]);
    // proxy.auth.users is built from them at load and at every reload.
    struct user_account {
        std::string name, password, realm;  ///< realm empty: every one of the domains
    };
    std::string users_file;
    std::vector<user_account> users;
    bool auth_mode_given = false;  ///< [auth] authenticate was written (else: registrations once there are users)
};

/// Why a configuration was refused: "<source>:<line>: <what>".
struct config_error {
    std::string source;
    std::uint32_t line = 0;  ///< 0 when the fault has no line (a command-line value)
    std::string message;

    [[nodiscard]] std::string to_string() const;
    [[nodiscard]] explicit operator bool() const noexcept { return !message.empty(); }
};

/// The configuration sipfastd runs with no --config: etc/sipfast.toml, compiled in.
[[nodiscard]] std::string_view embedded_default_config() noexcept;

/// Parses TOML text (`source` names it in errors) into `out`, starting from defaults. Every key is
/// checked: unknown keys, wrong types and bad values are refused.
[[nodiscard]] config_error load_config(std::string_view toml_text, std::string_view source, daemon_config& out);

/// Builds proxy.auth.users from users_file and [[user]] (and, when [auth] authenticate was not
/// written, turns authentication of registrations on once there are users). "" or the fault,
/// "FILE:LINE: what" for the users file.
[[nodiscard]] std::string build_users(daemon_config& cfg);

/// What the command line says over the file, as sipfastd and sipfast-dpdk take it.
struct command_line {
    std::string config_file;  ///< empty: the embedded default
    std::vector<std::string> listen;
    unsigned workers = 0;
    std::string mode;  ///< "stateless", "stateful" or empty
    std::vector<std::string> domains;
    std::string record_route;  ///< "on", "off" or empty
    std::string log_level;
    // sipfast-dpdk's own: each replaces the [dpdk] key of the same meaning.
    std::string port;
    std::vector<std::string> addresses;  ///< IP/PREFIX, one per family
    std::vector<std::string> gateways;
    std::string exception_port;
    std::string users;  ///< --users: an htdigest file, over [auth] users_file
};

/// The configuration file (or the embedded default) with the command line applied over it: at
/// start and at every reload, so a reload keeps what the command line said. Sets `source` to what
/// was read; returns "" or why it was refused ("file:line: reason", "--listen X: ...").
[[nodiscard]] std::string load_with_command_line(const command_line& cli, daemon_config& out, std::string& source);

/// Why `next` cannot replace `running` without a restart ("" when it can): listen addresses,
/// workers, mode, table sizes and the ops sockets are fixed for the life of the process.
[[nodiscard]] std::string reload_conflict(const daemon_config& running, const daemon_config& next);

/// Parses a listen URI as operators write it: "udp:127.0.0.1:5060", "tcp:[::1]:5060"
/// (transport optional, udp by default; port optional, 5060 by default).
[[nodiscard]] bool parse_listen(std::string_view text, proxy::listen_point& out);

} // namespace sipfast::daemon
