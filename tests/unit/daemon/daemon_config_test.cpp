// SPDX-License-Identifier: Apache-2.0
#include "sipfast/daemon/daemon_config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace sipfast::daemon {
namespace {

TEST(DaemonConfig, EmbeddedDefaultIsEtcSipfastToml) {
    std::ifstream in(SIPFAST_SOURCE_DIR "/etc/sipfast.toml", std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    EXPECT_EQ(embedded_default_config(), s.str());
    daemon_config c;
    const config_error e = load_config(embedded_default_config(), "<embedded>", c);
    ASSERT_FALSE(e) << e.to_string();
    ASSERT_EQ(c.proxy.listen.size(), 2u);
    EXPECT_EQ(c.proxy.listen[0].transport, sip::transport::udp);
    EXPECT_EQ(c.proxy.listen[1].transport, sip::transport::tcp);
    EXPECT_EQ(c.proxy.listen[0].address.port, 5060);
    EXPECT_EQ(c.proxy.mode, proxy::proxy_mode::stateful);
    EXPECT_TRUE(c.steer_in_kernel_bpf);  // the kernel program steers unless told not to
    EXPECT_TRUE(c.proxy.record_route);
    EXPECT_EQ(c.workers, 0u);
}

TEST(DaemonConfig, ReadsRoutesAndLocations) {
    daemon_config c;
    const config_error e = load_config(R"(
listen = ["udp:[::1]:5070", "198.18.0.1"]
mode = "stateless"
workers = 2
domains = ["example.com"]
record_route = false
transactions_per_worker = 1000
[timers]
t1_ms = 250
t2_ms = 2000
t4_ms = 2500
[[route]]
domain = "carrier.example.net"
user_prefix = "+1"
next_hop = "udp:198.18.0.30:5080"
[[location]]
user = "bob"
domain = "example.com"
contact = "sip:bob@198.18.0.20:5062"
[[location]]
user = "carol"
domain = "example.com"
contact = "sip:carol@198.18.0.21:5064;transport=TCP"
[tcp]
idle_timeout_s = 30
connect_timeout_ms = 1500
max_connections = 100
max_connections_per_ip = 4
max_outbound_connections = 12
message_timeout_ms = 2500
max_pending_kib = 64
[metrics]
listen = "127.0.0.1:9999"
)", "test.toml", c);
    ASSERT_FALSE(e) << e.to_string();
    EXPECT_EQ(c.proxy.listen[0].address.family, 6);
    EXPECT_EQ(c.proxy.listen[0].address.port, 5070);
    EXPECT_EQ(c.proxy.listen[1].address.port, 5060);
    EXPECT_EQ(c.proxy.mode, proxy::proxy_mode::stateless);
    EXPECT_EQ(c.workers, 2u);
    EXPECT_FALSE(c.proxy.record_route);
    EXPECT_EQ(c.proxy.transactions_per_shard, 1000u);
    EXPECT_EQ(c.proxy.t1_ns, 250'000'000u);
    EXPECT_EQ(c.proxy.t2_ns, 2'000'000'000u);
    EXPECT_EQ(c.proxy.t4_ns, 2'500'000'000u);
    ASSERT_EQ(c.proxy.routes.size(), 1u);
    EXPECT_EQ(c.proxy.routes[0].user_prefix, "+1");
    EXPECT_EQ(c.proxy.routes[0].next_hop.port, 5080);
    ASSERT_EQ(c.proxy.locations.size(), 2u);
    EXPECT_EQ(c.proxy.locations[0].contact_address.port, 5062);
    EXPECT_EQ(c.proxy.locations[0].transport, sip::transport::udp);
    EXPECT_EQ(c.proxy.locations[1].transport, sip::transport::tcp);
    EXPECT_EQ(c.tcp.idle_timeout_ns, 30'000'000'000u);
    EXPECT_EQ(c.tcp.connect_timeout_ns, 1'500'000'000u);
    EXPECT_EQ(c.tcp.max_connections, 100u);
    EXPECT_EQ(c.tcp.max_connections_per_ip, 4u);
    EXPECT_EQ(c.tcp.max_outbound_connections, 12u);
    EXPECT_EQ(c.tcp.message_timeout_ns, 2'500'000'000u);
    EXPECT_EQ(c.tcp.max_pending_bytes, 64u * 1024);
    EXPECT_EQ(c.metrics_listen, "127.0.0.1:9999");
}

TEST(DaemonConfig, OpsKeys) {
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\ncontrol_socket = \"/tmp/x.sock\"\nshutdown_grace_ms = 250\n"
                             "[metrics]\nlisten = \"\"\n",
                             "ops.toml", c));
    EXPECT_EQ(c.control_socket, "/tmp/x.sock");
    EXPECT_EQ(c.shutdown_grace_ns, 250'000'000u);
    EXPECT_TRUE(c.metrics_listen.empty());  // metrics off
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "ops.toml", d));
    EXPECT_EQ(d.metrics_listen, "127.0.0.1:9160");
    EXPECT_EQ(d.control_socket, "/run/sipfast/sipfastd.sock");
}

TEST(DaemonConfig, DpdkPortAndAddressesFromFileAndCommandLine) {
    daemon_config c;
    const config_error e = load_config(R"(
listen = ["udp:0.0.0.0:5060"]
[dpdk]
port = "0000:3b:00.0"
addresses = ["198.18.0.2/24", "2001:db8::2/64"]
gateways = ["198.18.0.254", "2001:db8::1"]
exception_port = "net_tap0"
rx_descriptors = 2048
mbufs = 65536
)",
                                       "dpdk.toml", c);
    ASSERT_FALSE(e) << e.to_string();
    EXPECT_EQ(c.dpdk.port, "0000:3b:00.0");
    ASSERT_EQ(c.dpdk.addresses.size(), 2u);
    EXPECT_EQ(c.dpdk.addresses[0].prefix, 24u);
    EXPECT_EQ(c.dpdk.addresses[1].ip.family, 6);
    EXPECT_EQ(c.dpdk.addresses[1].prefix, 64u);
    ASSERT_EQ(c.dpdk.gateways.size(), 2u);
    EXPECT_EQ(c.dpdk.exception_port, "net_tap0");
    EXPECT_EQ(c.dpdk.rx_descriptors, 2048u);
    EXPECT_EQ(c.dpdk.tx_descriptors, 1024u);
    EXPECT_EQ(c.dpdk.mbufs, 65536u);

    // The command line replaces the file's addresses and gateways, and is checked the same way.
    const std::string path = ::testing::TempDir() + "dpdk_cli.toml";
    std::ofstream(path) << "listen = [\"udp:0.0.0.0:5060\"]\n[dpdk]\naddresses = [\"198.18.0.2/24\"]\n";
    command_line cli;
    cli.config_file = path;
    cli.addresses = {"198.18.5.9/16"};
    cli.gateways = {"198.18.0.1"};
    daemon_config d;
    std::string source;
    ASSERT_EQ(load_with_command_line(cli, d, source), "");
    ASSERT_EQ(d.dpdk.addresses.size(), 1u);
    EXPECT_EQ(d.dpdk.addresses[0].prefix, 16u);
    EXPECT_TRUE(core::same_subnet(d.dpdk.addresses[0].ip, d.dpdk.gateways[0], 16));
    EXPECT_FALSE(core::same_subnet(d.dpdk.addresses[0].ip, d.dpdk.gateways[0], 24));
    cli.gateways = {"203.0.113.1"};
    EXPECT_EQ(load_with_command_line(cli, d, source),
              "--address/--gateway: gateways: 203.0.113.1 is not on the subnet of an address of ours (give addresses as IP/PREFIX)");
    cli.addresses = {"fe80::1/129"};
    EXPECT_EQ(load_with_command_line(cli, d, source), "--address fe80::1/129: prefix is not 0..128");
}

TEST(DaemonConfig, ReloadTakesRoutesButNotListenAddresses) {
    daemon_config running, next, moved;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1:5060\"]\n", "a.toml", running));
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1:5060\"]\ndomains = [\"x\"]\nlog_level = \"debug\"\n"
                             "[[route]]\nnext_hop = \"udp:198.18.0.30\"\n[tcp]\nidle_timeout_s = 5\n",
                             "a.toml", next));
    EXPECT_EQ(reload_conflict(running, next), "");
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1:5061\"]\nworkers = 3\nmode = \"stateless\"\n", "a.toml", moved));
    EXPECT_EQ(reload_conflict(running, moved), "listen, workers, mode changed: a restart is needed to apply that");
    daemon_config elsewhere;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1:5060\"]\n[registrar]\ndatabase = \"/srv/b.db\"\n", "a.toml", elsewhere));
    EXPECT_EQ(reload_conflict(running, elsewhere), "registrar.database changed: a restart is needed to apply that");
    daemon_config unsteered;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1:5060\"]\nsteering = \"kernel\"\n", "k.toml", unsteered));
    EXPECT_FALSE(unsteered.steer_in_kernel_bpf);
    EXPECT_EQ(reload_conflict(running, unsteered), "steering changed: a restart is needed to apply that");
}

TEST(DaemonConfig, RegistrarKeys) {
    daemon_config on;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "reg.toml", on));
    EXPECT_TRUE(on.proxy.serve_registrations);  // the daemon is the registrar of its domains
    EXPECT_EQ(on.bindings_database, "/var/lib/sipfast/bindings.db");  // bindings survive a restart unless told
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n[registrar]\nenabled = false\ndatabase = \"\"\nmin_expires_s = 30\n"
                             "max_expires_s = 600\ndefault_expires_s = 300\nmax_bindings = 2\n",
                             "reg.toml", c));
    EXPECT_FALSE(c.proxy.serve_registrations);
    EXPECT_EQ(c.proxy.registrar_limits.min_expires_s, 30u);
    EXPECT_EQ(c.proxy.registrar_limits.max_expires_s, 600u);
    EXPECT_EQ(c.proxy.registrar_limits.default_expires_s, 300u);
    EXPECT_EQ(c.proxy.registrar_limits.max_bindings, 2u);
    daemon_config sr;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n[registrar]\nservice_route = [\"<sip:orig@scscf.example;lr>\"]\n",
                             "reg.toml", sr));
    EXPECT_EQ(sr.proxy.service_route, std::vector<std::string>{"<sip:orig@scscf.example;lr>"});
    EXPECT_EQ(c.bindings_database, "");
}

TEST(DaemonConfig, AuthAlgorithmsInTheOrderGiven) {
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "a.toml", d));
    EXPECT_EQ(d.proxy.auth.algorithms, (std::vector<auth::algorithm>{auth::algorithm::sha256, auth::algorithm::md5}));
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n[auth]\nalgorithms = [\"MD5\"]\n", "a.toml", c));
    EXPECT_EQ(c.proxy.auth.algorithms, std::vector<auth::algorithm>{auth::algorithm::md5});
}

TEST(DaemonConfig, PolicyAndPeers) {
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:198.18.0.1\"]\n", "p.toml", d));
    EXPECT_TRUE(d.proxy.policy.closed);  // closed unless told
    EXPECT_FALSE(d.proxy.policy.allow_loopback);
    EXPECT_TRUE(d.proxy.policy.peers.empty());
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:198.18.0.1\"]\n[policy]\nrelay = \"open\"\nallow_loopback = true\n"
                             "[[peer]]\naddress = \"198.18.0.0/24\"\nreach = [\"198.51.100.0/24\", \"198.18.2.2\"]\n"
                             "[[peer]]\naddress = \"2001:db8::5\"\n",
                             "p.toml", c));
    EXPECT_FALSE(c.proxy.policy.closed);
    EXPECT_TRUE(c.proxy.policy.allow_loopback);
    ASSERT_EQ(c.proxy.policy.peers.size(), 2u);
    EXPECT_EQ(c.proxy.policy.peers[0].from.prefix, 24u);
    ASSERT_EQ(c.proxy.policy.peers[0].reach.size(), 2u);
    EXPECT_EQ(c.proxy.policy.peers[0].reach[1].prefix, 32u);
    EXPECT_EQ(c.proxy.policy.peers[1].from.prefix, 128u);
    EXPECT_TRUE(c.proxy.policy.peers[1].reach.empty());  // anywhere but the deny list
}

TEST(DaemonConfig, EmergencyNextHop) {
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:198.18.0.1\"]\n", "e.toml", d));
    EXPECT_FALSE(d.proxy.emergency_next_hop.valid());  // none unless told: sos calls are answered 503
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:198.18.0.1\"]\n[emergency]\nnext_hop = \"tcp:198.18.0.50:5070\"\n", "e.toml", c));
    core::net_address expected;
    ASSERT_TRUE(core::parse_ip_port("198.18.0.50:5070", 5060, expected));
    EXPECT_EQ(c.proxy.emergency_next_hop, expected);
    EXPECT_EQ(c.proxy.emergency_transport, sip::transport::tcp);
}

TEST(DaemonConfig, Limits) {
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:198.18.0.1\"]\n", "l.toml", d));
    EXPECT_TRUE(d.proxy.limits.enabled());  // sipfastd sheds floods unless told
    EXPECT_EQ(d.proxy.limits.messages_per_s, proxy::default_source_limits.messages_per_s);
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:198.18.0.1\"]\n[limits]\nmessages_per_s = 50\nbytes_per_s = 0\nban_s = 30\n"
                             "sources_per_worker = 1024\n",
                             "l.toml", c));
    EXPECT_EQ(c.proxy.limits.messages_per_s, 50u);
    EXPECT_EQ(c.proxy.limits.message_burst, 100u);  // twice the rate when not given
    EXPECT_EQ(c.proxy.limits.bytes_per_s, 0u);
    EXPECT_EQ(c.proxy.limits.ban_ns, 30'000'000'000u);
    EXPECT_EQ(c.proxy.limited_sources, 1024u);
    daemon_config off;
    ASSERT_FALSE(load_config("listen = [\"udp:198.18.0.1\"]\n[limits]\nmessages_per_s = 0\nbytes_per_s = 0\n", "l.toml", off));
    EXPECT_FALSE(off.proxy.limits.enabled());
}

TEST(DaemonConfig, ForkingKeys) {
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "fork.toml", d));
    EXPECT_EQ(d.proxy.forking, proxy::fork_mode::parallel);  // every contact rings at once unless told
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n[forking]\nmode = \"sequential\"\nbranch_timeout_s = 12\n", "fork.toml", c));
    EXPECT_EQ(c.proxy.forking, proxy::fork_mode::sequential);
    EXPECT_EQ(c.proxy.branch_timeout_ns, 12'000'000'000u);
}

TEST(DaemonConfig, Aliases) {
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n[[alias]]\naor = \"sip:001010123456712@ims.example\"\n"
                             "identities = [\"sip:1012@ims.example\", \"tel:1012\"]\n",
                             "alias.toml", c));
    ASSERT_NE(c.proxy.aliases, nullptr);
    sip::uri tel;
    ASSERT_EQ(sip::parse_uri("tel:1012", tel), sip::parse_error::none);
    EXPECT_EQ(c.proxy.aliases->aor_of(tel), "001010123456712@ims.example");
}

TEST(DaemonConfig, AuthKeysAndUsers) {
    daemon_config none;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "auth.toml", none));
    EXPECT_EQ(none.proxy.auth.mode, proxy::auth_mode::none);  // no users: nobody to challenge for
    EXPECT_EQ(none.proxy.auth.users, nullptr);

    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\ndomains = [\"a.example\", \"b.example\"]\n"
                             "[auth]\ntrusted = [\"198.18.0.0/24\"]\nnonce_lifetime_s = 60\n"
                             "[[user]]\nname = \"bob\"\npassword = \"secret\"\n"
                             "[[user]]\nname = \"carol\"\npassword = \"x\"\nrealm = \"b.example\"\n",
                             "auth.toml", c));
    EXPECT_EQ(c.proxy.auth.mode, proxy::auth_mode::registrations);  // users, no mode written: registrations
    ASSERT_NE(c.proxy.auth.users, nullptr);
    EXPECT_NE(c.proxy.auth.users->find("bob", "a.example"), nullptr);  // a user of every domain
    EXPECT_NE(c.proxy.auth.users->find("bob", "b.example"), nullptr);
    EXPECT_EQ(c.proxy.auth.users->find("carol", "a.example"), nullptr);
    EXPECT_NE(c.proxy.auth.users->find("carol", "b.example"), nullptr);
    ASSERT_EQ(c.proxy.auth.trusted.size(), 1u);
    EXPECT_EQ(c.proxy.auth.trusted[0].prefix, 24u);
    EXPECT_EQ(c.proxy.auth.nonce_lifetime_ns, 60'000'000'000u);

    daemon_config all;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n[auth]\nauthenticate = \"all\"\n", "auth.toml", all));
    EXPECT_EQ(all.proxy.auth.mode, proxy::auth_mode::all);
}

TEST(DaemonConfig, TopologyHidingIsOffByDefaultAndNeedsStatefulMode) {
    daemon_config off;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "t.toml", off));
    EXPECT_FALSE(off.proxy.hide_topology);
    daemon_config on;
    const config_error e = load_config("listen = [\"udp:127.0.0.1\"]\n[topology]\nhide = true\n", "t.toml", on);
    ASSERT_FALSE(e) << e.to_string();
    EXPECT_TRUE(on.proxy.hide_topology);
    // --mode stateless on the command line is refused as the file's mode would be.
    const std::string path = ::testing::TempDir() + "topology_cli.toml";
    std::ofstream(path) << "listen = [\"udp:127.0.0.1\"]\n[topology]\nhide = true\n";
    command_line cli;
    cli.config_file = path;
    cli.mode = "stateless";
    daemon_config d;
    std::string source;
    EXPECT_EQ(load_with_command_line(cli, d, source).substr(0, 46), "--mode stateless: topology.hide: needs mode = ");
    cli.mode = "stateful";
    EXPECT_EQ(load_with_command_line(cli, d, source), "");
    EXPECT_TRUE(d.proxy.hide_topology);
}

TEST(DaemonConfig, BusyPollWindowIsOffUnlessGivenAndNeedsARestart) {
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "b.toml", d));
    EXPECT_EQ(d.proxy.busy_poll_ns, 0u);  // shared cores: a worker sleeps as soon as it has nothing
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\nbusy_poll_us = 50\n", "b.toml", c));
    EXPECT_EQ(c.proxy.busy_poll_ns, 50'000u);
    EXPECT_EQ(reload_conflict(d, c), "busy_poll_us changed: a restart is needed to apply that");
    daemon_config bad;
    const config_error e = load_config("listen = [\"udp:127.0.0.1\"]\nbusy_poll_us = 20000\n", "b.toml", bad);
    EXPECT_EQ(e.line, 2u);
    EXPECT_EQ(e.message, "busy_poll_us: expected microseconds from 0 to 10000");
}

TEST(DaemonConfig, SecAgreeAcceptedUnlessRefused) {
    daemon_config d;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n", "s.toml", d));
    EXPECT_EQ(d.proxy.sec_agree, proxy::sec_agree_mode::accept);  // what lets an IMS phone register
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\n[sec_agree]\nmode = \"refuse\"\n", "s.toml", c));
    EXPECT_EQ(c.proxy.sec_agree, proxy::sec_agree_mode::refuse);
}

TEST(DaemonConfig, SubscribersForAka) {
    // TS 35.208 test set 1: K and OP; the OPc derived from them is the set's.
    daemon_config c;
    ASSERT_FALSE(load_config("listen = [\"udp:127.0.0.1\"]\ndomains = [\"ims.example\"]\n[[subscriber]]\n"
                             "impi = \"001010123456712@ims.example\"\n"
                             "impu = [\"sip:001010123456712@IMS.example\", \"sip:1012@ims.example\"]\n"
                             "k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nop = \"cdc202d5123e20f62b6d676ac72cb318\"\n"
                             "amf = \"b9b9\"\nsqn = 4096\n",
                             "s.toml", c));
    ASSERT_TRUE(c.proxy.auth.subscribers);
    const auth::subscriber* s = c.proxy.auth.subscribers->by_impi("001010123456712@ims.example");
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(c.proxy.auth.subscribers->by_impu("1012@ims.example"), s);
    EXPECT_EQ(c.proxy.auth.subscribers->by_impu("001010123456712@ims.example"), s);  // the host keyed in lower case
    const auth::block opc{0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf};
    EXPECT_EQ(s->functions.opc(), opc);
    EXPECT_EQ(s->amf, (auth::amf_bytes{0xb9, 0xb9}));
    EXPECT_EQ(s->sqn.seq(), 4096u);
    // Subscribers alone turn authentication of registrations on, as users do.
    EXPECT_EQ(c.proxy.auth.mode, proxy::auth_mode::registrations);
}

TEST(DaemonConfig, RefusesWithFileLineAndReason) {
    struct row {
        const char* text;
        std::uint32_t line;
        const char* message;
    };
    const row rows[] = {
        {"listen = [\"udp:127.0.0.1:5060\"]\nmode = \"fast\"\n", 2, "mode: 'fast' is neither stateful nor stateless"},
        {"listen = [\"udp:127.0.0.1:5060\"]\nsteering = \"xdp\"\n", 2, "steering: 'xdp' is neither ebpf nor kernel"},
        {"listen = [\"udp:127.0.0.1:5060\"]\n\nbogus = 1\n", 3, "unknown key 'bogus'"},
        {"listen = [\"sctp:127.0.0.1:5060\"]\n", 1, "listen: 'sctp:127.0.0.1:5060' is not transport:ip:port (udp or tcp, a numeric address)"},
        {"listen = \"udp:127.0.0.1\"\n", 1, "listen: expected an array of strings"},
        {"listen = [\"udp:127.0.0.1\"]\nworkers = -1\n", 2, "workers: expected an integer from 0 to 256"},
        {"listen = [\"udp:127.0.0.1\"]\n[[route]]\ndomain = \"x\"\n", 2, "route: next_hop is required"},
        {"listen = [\"udp:127.0.0.1\"]\n[[location]]\nuser = \"a\"\ncontact = \"sip:a@host.example\"\n", 4,
         "location.contact: 'sip:a@host.example' is not a sip: URI with a numeric host"},
        {"listen = [\"udp:127.0.0.1\"\n", 1, ""},  // a TOML syntax error: toml++'s own description
        {"mode = \"stateless\"\n", 0, "listen: at least one address is needed"},
        {"listen = [\"udp:127.0.0.1\"]\n[timers]\nt3_ms = 5\n", 3, "timers: unknown key 't3_ms' (t1_ms, t2_ms, t4_ms, c_ms)"},
        {"listen = [\"udp:127.0.0.1\"]\n[timers]\nt1_ms = 900\nt2_ms = 800\n", 2, "timers: t2_ms must not be below t1_ms"},
        {"listen = [\"udp:127.0.0.1\"]\n[tcp]\nidle_timeout_s = 0\n", 3, "tcp.idle_timeout_s: expected seconds from 1 to 86400"},
        {"listen = [\"udp:127.0.0.1\"]\n[tcp]\nlinger = 1\n", 3,
         "tcp: unknown key 'linger' (idle_timeout_s, connect_timeout_ms, max_connections, max_connections_per_ip, "
         "max_outbound_connections, message_timeout_ms, max_pending_kib)"},
        {"listen = [\"udp:127.0.0.1\"]\n[tcp]\nmessage_timeout_ms = 99\n", 3,
         "tcp.message_timeout_ms: expected milliseconds from 100 to 600000"},
        {"listen = [\"udp:127.0.0.1\"]\n[tcp]\nmax_outbound_connections = 0\n", 3,
         "tcp.max_outbound_connections: expected connections from 1 to 1048576"},
        {"listen = [\"udp:127.0.0.1\"]\n[[location]]\nuser = \"a\"\ncontact = \"sip:a@198.18.0.2;transport=sctp\"\n", 4,
         "location.contact: transport 'sctp' is not udp or tcp"},
        {"listen = [\"udp:127.0.0.1\"]\n[metrics]\nlisten = \"localhost:9160\"\n", 3,
         "metrics.listen: 'localhost:9160' is not ip:port (\"\" turns metrics off)"},
        {"listen = [\"udp:127.0.0.1\"]\nshutdown_grace_ms = -5\n", 2, "shutdown_grace_ms: expected milliseconds from 0 to 3600000"},
        {"listen = [\"udp:127.0.0.1\"]\ntransactions_per_worker = 3\n", 2, "transactions_per_worker: expected an integer from 16 to 16777216"},
        {"listen = [\"udp:127.0.0.1\"]\n[dpdk]\naddresses = [\"198.18.0.2/33\"]\n", 3,
         "dpdk.addresses: '198.18.0.2/33': prefix is not 0..32"},
        {"listen = [\"udp:127.0.0.1\"]\n[dpdk]\naddresses = [\"198.18.0.2/24\", \"198.18.1.2/24\"]\n", 2,
         "dpdk.addresses: one address per family (IPv4 and IPv6), two given for IPv4"},
        {"listen = [\"udp:127.0.0.1\"]\n[dpdk]\naddresses = [\"198.18.0.2/24\"]\ngateways = [\"198.19.0.1\"]\n", 2,
         "dpdk.gateways: 198.19.0.1 is not on the subnet of an address of ours (give addresses as IP/PREFIX)"},
        {"listen = [\"udp:127.0.0.1\"]\n[registrar]\nenabled = 1\n", 3, "registrar.enabled: expected true or false"},
        {"listen = [\"udp:127.0.0.1\"]\n[auth]\nalgorithms = [\"MD5\", \"SHA-512\"]\n", 3,
         "auth.algorithms: 'SHA-512' is neither \"SHA-256\" nor \"MD5\""},
        {"listen = [\"udp:127.0.0.1\"]\n[policy]\nrelay = \"ajar\"\n", 3, "policy.relay: 'ajar' is neither closed nor open"},
        {"listen = [\"udp:127.0.0.1\"]\n[[peer]]\nreach = [\"198.18.0.0/24\"]\n", 2,
         "peer: address is required (\"198.18.0.0/24\")"},
        {"listen = [\"udp:127.0.0.1\"]\n[[peer]]\naddress = \"198.18.0.0/40\"\n", 3,
         "peer.address: '198.18.0.0/40': prefix is not 0..32"},
        {"listen = [\"udp:127.0.0.1\"]\nmode = \"stateless\"\n[topology]\nhide = true\n", 3,
         "topology.hide: needs mode = \"stateful\" (the Vias a request came with are kept in its transaction and put "
         "back on its responses; a stateless proxy has nowhere to keep them)"},
        {"listen = [\"udp:127.0.0.1\"]\n[topology]\nhide = \"yes\"\n", 3, "topology.hide: expected true or false"},
        {"listen = [\"udp:127.0.0.1\"]\n[topology]\nhide_all = true\n", 3, "topology: unknown key 'hide_all' (hide)"},
        {"listen = [\"udp:127.0.0.1\"]\n[forking]\nmode = \"serial\"\n", 3,
         "forking.mode: 'serial' is neither parallel nor sequential"},
        {"listen = [\"udp:127.0.0.1\"]\n[forking]\nbranch_timeout_s = 0\n", 3,
         "forking.branch_timeout_s: expected seconds from 1 to 3600"},
        {"listen = [\"udp:127.0.0.1\"]\n[registrar]\nservice_route = [\"sip:x;lr\"]\n", 3,
         "registrar.service_route: 'sip:x;lr' is not <sip:URI;lr>"},
        {"listen = [\"udp:127.0.0.1\"]\n[[alias]]\naor = \"sip:a@x\"\nidentities = [\"mailto:a@x\"]\n", 2,
         "alias: 'mailto:a@x' is not a sip: URI with a user or a tel: number"},
        {"listen = [\"udp:127.0.0.1\"]\n[sec_agree]\nmode = \"ipsec\"\n", 3, "sec_agree.mode: 'ipsec' is not accept or refuse"},
        {"listen = [\"udp:127.0.0.1\"]\n[[subscriber]]\nimpi = \"a@ims\"\nimpu = [\"sip:a@ims\"]\nk = \"00\"\n", 5,
         "subscriber.k: expected 32 hexadecimal digits, not 2 characters"},
        {"listen = [\"udp:127.0.0.1\"]\n[[subscriber]]\nimpi = \"a@ims\"\nimpu = [\"sip:a@ims\"]\n"
         "k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\n", 2, "subscriber: exactly one of opc and op is required"},
        {"listen = [\"udp:127.0.0.1\"]\n[[subscriber]]\nimpi = \"a@ims\"\nimpu = [\"tel:1012\"]\n"
         "k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nopc = \"cd63cb71954a9f4e48a5994e37a02baf\"\n", 2,
         "subscriber.impu: 'tel:1012' is not a sip: URI with a user (tel: identities go in [[alias]])"},
        {"listen = [\"udp:127.0.0.1\"]\n[[subscriber]]\nimpi = \"a@ims\"\nimpu = [\"sip:a@ims\"]\n"
         "k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nopc = \"cd63cb71954a9f4e48a5994e37a02bag\"\n", 6,
         "subscriber.opc: 'cd63cb71954a9f4e48a5994e37a02bag' is not hexadecimal"},
        {"listen = [\"udp:127.0.0.1\"]\n[[subscriber]]\nimpi = \"a@ims\"\nimpu = [\"sip:a@ims\"]\n"
         "k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nop = \"cdc202d5123e20f62b6d676ac72cb318\"\n"
         "[[subscriber]]\nimpi = \"b@ims\"\nimpu = [\"sip:a@IMS\"]\n"
         "k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nop = \"cdc202d5123e20f62b6d676ac72cb318\"\n", 7,
         "subscriber: IMPU 'a@ims' belongs to another subscriber"},
        {"listen = [\"udp:127.0.0.1\"]\n[auth]\nauthenticate = \"some\"\n", 3,
         "auth.authenticate: 'some' is not none, register or all"},
        {"listen = [\"udp:127.0.0.1\"]\n[auth]\ntrusted = [\"198.18.0.0/40\"]\n", 3, "auth.trusted: '198.18.0.0/40': prefix is not 0..32"},
        {"listen = [\"udp:127.0.0.1\"]\n[[user]]\nname = \"bob\"\n", 2, "user: name and password are required"},
        {"listen = [\"udp:127.0.0.1\"]\n[auth]\nusers_file = \"/nonexistent/users\"\n", 0,
         "users: /nonexistent/users:0: cannot be read"},
        {"listen = [\"udp:127.0.0.1\"]\n[registrar]\nmin_expires_s = 5000\n", 2,
         "registrar: expected min_expires_s <= default_expires_s <= max_expires_s"},
        {"listen = [\"udp:127.0.0.1\"]\n[registrar]\nmax_bindings = 65\n", 3, "registrar.max_bindings: expected bindings from 1 to 64"},
        {"listen = [\"udp:127.0.0.1\"]\n[registrar]\ndatabase = false\n", 3, "registrar.database: expected a string"},
        {"listen = [\"udp:127.0.0.1\"]\n[registrar]\nfile = \"b.db\"\n", 3,
         "registrar: unknown key 'file' (enabled, database, service_route, min_expires_s, max_expires_s, default_expires_s, max_bindings)"},
        {"listen = [\"udp:127.0.0.1\"]\n[dpdk]\nrx_descriptors = 8\n", 3, "dpdk.rx_descriptors: expected descriptors from 64 to 32768"},
        {"listen = [\"udp:127.0.0.1\"]\n[emergency]\nnext_hop = \"e-cscf.example.net\"\n", 3,
         "emergency.next_hop: 'e-cscf.example.net' is not transport:ip:port (a numeric address)"},
        {"listen = [\"udp:127.0.0.1\"]\n[emergency]\nroute = 1\n", 3, "emergency: unknown key 'route' (next_hop)"},
        {"listen = [\"udp:127.0.0.1\"]\n[limits]\nbyte_burst = 1500\n", 3, "limits.byte_burst: expected bytes from 65535 to 2000000000"},
        {"listen = [\"udp:127.0.0.1\"]\n[limits]\nmessages_per_s = 0\nbytes_per_s = 0\nban_s = 5\n", 2,
         "limits: ban_s needs messages_per_s or bytes_per_s"},
        {"listen = [\"udp:127.0.0.1\"]\n[dpdk]\nqueues = 2\n", 3,
         "dpdk: unknown key 'queues' (port, addresses, gateways, exception_port, rx_descriptors, tx_descriptors, mbufs, mailbox_kib)"},
    };
    for (const row& r : rows) {
        daemon_config c;
        c.workers = 77;
        const config_error e = load_config(r.text, "bad.toml", c);
        ASSERT_TRUE(e) << r.text;
        EXPECT_EQ(e.source, "bad.toml");
        EXPECT_EQ(e.line, r.line) << r.text << " -> " << e.to_string();
        if (*r.message) {
            EXPECT_EQ(e.message, r.message) << r.text;
        }
        EXPECT_EQ(c.workers, 77u) << "a refused file leaves the running config alone";
    }
    EXPECT_EQ((config_error{"a.toml", 3, "boom"}).to_string(), "a.toml:3: boom");
}

} // namespace
} // namespace sipfast::daemon
