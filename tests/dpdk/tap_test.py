#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfast-dpdk on a net_tap port whose kernel side plays the SIP peers, in a network namespace the
test makes and removes: the kernel is the strictest peer there is. It drops a UDP datagram whose
checksum is wrong (so checksum offload, which the tap port offers, must be right; and the app must
drop what the port flags as bad on receive), reassembles the
fragments the app sends for datagrams over the MTU, fragments what it sends over the MTU (so the
app must reassemble, IPv4 and IPv6), resolves the app's addresses by ARP and neighbour
solicitation and answers the app's own (IPv6: the app asks for a neighbour it never heard from).
(VLAN tags are checked in the pcap replay: this kernel has no 802.1Q interfaces.)
Usage: tap_test.py SIPFAST_DPDK"""
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from packet import csum, totals

APP = os.path.abspath(sys.argv.pop(1))
NS = f"sftap{os.getpid()}"
IFACE = "sft0"
PROXY4, PROXY6 = "198.18.7.2", "2001:db8:7::2"
ALICE4, BOB4, ALICE6, BOB6 = "198.18.7.1", "198.18.7.20", "2001:db8:7::1", "2001:db8:7::20"
CONFIG = f"""listen = ["udp:{PROXY4}:5060", "udp:[{PROXY6}]:5060"]
mode = "stateless"
domains = ["example.com"]
[metrics]
listen = ""
[dpdk]
addresses = ["{PROXY4}/24", "{PROXY6}/64"]
[[location]]
user = "bob"
domain = "example.com"
contact = "sip:bob@{BOB4}:5062"
[[location]]
user = "bob6"
domain = "example.com"
contact = "sip:bob6@[{BOB6}]:5062"
"""


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, timeout=30)


def request(method, ruri, family, src, sport, body="", call="c1"):
    host = f"[{src}]" if family == socket.AF_INET6 else src
    return (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{sport};branch=z9hG4bK-{call}-{method}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:alice@example.com>;tag=a-{call}\r\nTo: <{ruri}>\r\n"
            f"Call-ID: {call}@example.com\r\nCSeq: 1 {method}\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\n\r\n{body}").encode()


def answer(req, status, body=""):
    """The callee's response to `req`: its Vias, From, To (tagged), Call-ID, CSeq."""
    head = req.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
    keep = [h for h in head if re.match(r"(Via|From|Call-ID|CSeq):", h)]
    to = next(h for h in head if h.startswith("To:")) + ";tag=b1"
    return (f"SIP/2.0 {status} OK\r\n" + "\r\n".join(keep + [to]) +
            f"\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode()


def ipv4_udp_frame(dst_mac, src_mac, src, sport, dst, dport, payload, spoil_checksum):
    """An Ethernet/IPv4/UDP frame with a right IPv4 header checksum and a right (or spoilt) UDP one."""
    s4, d4 = socket.inet_aton(src), socket.inet_aton(dst)
    udp_len = 8 + len(payload)
    good = csum(s4 + d4 + struct.pack("!BBH", 0, 17, udp_len) + struct.pack("!HHHH", sport, dport, udp_len, 0) + payload) or 0xFFFF
    udp_sum = (good % 0xFFFF) + 1 if spoil_checksum else good
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 7, 0, 64, 17, 0, s4, d4)
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return dst_mac + src_mac + b"\x08\x00" + hdr + struct.pack("!HHHH", sport, dport, udp_len, udp_sum) + payload


def udp(family, addr, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, port))
    s.settimeout(0.3)
    return s


def exchange(test, family, caller, callee, payload, proxy, tries=20):
    """Sends `payload` to the proxy from `caller` until `callee` receives it (the first tries may
    find the proxy still asking where the callee is); returns what the callee got."""
    for _ in range(tries):
        caller.sendto(payload, (proxy, 5060))
        try:
            got, _ = callee.recvfrom(65535)
            return got
        except socket.timeout:
            continue
    test.fail("the proxy never delivered the message")


def inside():
    """Runs in the namespace: the app on the tap, the kernel side set up, then the tests."""

    class Tap(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            cls.dir = tempfile.mkdtemp()
            cfg = os.path.join(cls.dir, "tap.toml")
            with open(cfg, "w") as f:
                f.write(CONFIG + f'[registrar]\ndatabase = "{os.path.join(cls.dir, "bindings.db")}"\n')
            cls.log = open(os.path.join(cls.dir, "app.log"), "w+")
            cls.app = subprocess.Popen([APP, "--no-huge", "-m", "256", "--no-shconf", "--no-pci", "-l", "0",
                                        "--log-level", "lib.eal:error", "--vdev", f"net_tap0,iface={IFACE}", "--",
                                        "--config", cfg], stdout=cls.log, stderr=subprocess.STDOUT)
            for _ in range(100):
                cls.log.seek(0)
                text = cls.log.read()
                if "ready" in text or cls.app.poll() is not None:
                    break
                time.sleep(0.1)
            if "EAL initialisation failed" in text or "ready" not in text:
                cls.app.kill()
                raise unittest.SkipTest("DPDK net_tap cannot run here: " + text[-400:])
            cls.banner = text
            try:
                cls.kernel_side()
            except BaseException:
                cls.app.kill()  # tearDownClass does not run when setUpClass fails
                raise

        @classmethod
        def kernel_side(cls):
            sh("ip", "link", "set", "lo", "up")
            sh("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0")
            sh("ip", "link", "set", IFACE, "up")
            sh("ip", "addr", "add", f"{ALICE4}/24", "dev", IFACE)
            sh("ip", "addr", "add", f"{BOB4}/24", "dev", IFACE)
            sh("ip", "-6", "addr", "add", f"{ALICE6}/64", "dev", IFACE, "nodad")
            sh("ip", "-6", "addr", "add", f"{BOB6}/64", "dev", IFACE, "nodad")

        @classmethod
        def tearDownClass(cls):
            cls.app.terminate()
            try:
                cls.app.wait(timeout=20)
            except subprocess.TimeoutExpired:
                cls.app.kill()
            cls.log.seek(0)
            print(cls.log.read()[-1500:], file=sys.stderr)
            shutil.rmtree(cls.dir, ignore_errors=True)

        def test_1_checksums_are_offloaded_and_right(self):
            self.assertIn("checksums offloaded", self.banner)
            with udp(socket.AF_INET, ALICE4, 5070) as alice, udp(socket.AF_INET, BOB4, 5062) as bob:
                got = exchange(self, socket.AF_INET, alice, bob, request("MESSAGE", "sip:bob@example.com",
                                                                         socket.AF_INET, ALICE4, 5070, "hi"), PROXY4)
                self.assertTrue(got.startswith(f"MESSAGE sip:bob@{BOB4}:5062 SIP/2.0\r\n".encode()), got[:80])
                bob.sendto(answer(got, 200), (PROXY4, 5060))
                back, _ = alice.recvfrom(65535)
                self.assertTrue(back.startswith(b"SIP/2.0 200 OK\r\n"), back[:80])
            # Every datagram the kernel took had a right checksum: none was dropped for a bad one.
            snmp = sh("cat", "/proc/net/snmp").stdout.decode()
            udp_rows = [r.split() for r in snmp.splitlines() if r.startswith("Udp:")]
            self.assertEqual(udp_rows[1][udp_rows[0].index("InCsumErrors")], "0")

        def test_2_a_datagram_with_a_bad_udp_checksum_is_dropped(self):
            # The tap port checks checksums on receive: a MESSAGE whose UDP checksum is spoilt must
            # not reach bob; the same frame with its checksum right must (bob is known from test 1).
            self.assertIn("checked by the port on receive", self.banner)
            app_mac = bytes.fromhex(re.search(r"port net_tap0 \(([0-9a-f:]{17})", self.banner).group(1).replace(":", ""))
            with open(f"/sys/class/net/{IFACE}/address") as f:
                our_mac = bytes.fromhex(f.read().strip().replace(":", ""))
            msg = request("MESSAGE", "sip:bob@example.com", socket.AF_INET, ALICE4, 5074, "checksum", call="csum")
            with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as raw, udp(socket.AF_INET, BOB4, 5062) as bob:
                raw.bind((IFACE, 0))
                raw.send(ipv4_udp_frame(app_mac, our_mac, ALICE4, 5074, PROXY4, 5060, msg, True))
                bob.settimeout(1.0)
                with self.assertRaises(socket.timeout):
                    bob.recvfrom(65535)
                raw.send(ipv4_udp_frame(app_mac, our_mac, ALICE4, 5074, PROXY4, 5060, msg, False))
                got, _ = bob.recvfrom(65535)
                self.assertTrue(got.startswith(b"MESSAGE sip:bob@") and got.endswith(b"checksum"), got[:80])

        def large(self, family, alice_addr, bob_addr, proxy, user):
            body = "".join(f"line {i:04d} of a large message body, over the MTU both ways\n" for i in range(60))
            with udp(family, alice_addr, 5072) as alice, udp(family, bob_addr, 5062) as bob:
                # The kernel fragments our 3.6 kB MESSAGE; the app reassembles, forwards it as
                # fragments of its own (no TCP here), and the callee's kernel reassembles those.
                req = request("MESSAGE", f"sip:{user}@example.com", family, alice_addr, 5072, body, call=f"big{family}")
                got = exchange(self, family, alice, bob, req, proxy)
                self.assertGreater(len(req), 1500)
                self.assertTrue(got.endswith(body.encode()), got[-120:])
                self.assertIn(b"Max-Forwards: 69\r\n", got)
                # A 200 over the MTU on the way back, fragmented by the app.
                bob.sendto(answer(got, 200, body), (proxy, 5060))
                back, _ = alice.recvfrom(65535)
                self.assertTrue(back.startswith(b"SIP/2.0 200 OK\r\n") and back.endswith(body.encode()), back[:80])

        def test_3_large_datagrams_ipv4(self):
            self.large(socket.AF_INET, ALICE4, BOB4, PROXY4, "bob")

        def test_4_large_datagrams_ipv6_with_neighbour_discovery(self):
            # bob6 never spoke to the app: it must solicit his address (NS) and learn the answer (NA).
            self.large(socket.AF_INET6, ALICE6, BOB6, PROXY6, "bob6")

        def test_5_counters(self):
            self.app.terminate()
            self.app.wait(timeout=20)
            self.log.seek(0)
            text = self.log.read()
            t = totals(text)
            self.assertIn("bad checksum", t, text[-600:])
            nd, no_neighbour, reassembled, fragmented, bad = (
                t[k] for k in ("nd answered", "no neighbour", "reassembled", "fragmented", "bad checksum"))
            self.assertEqual(bad, 1)  # test 2's spoilt datagram
            self.assertGreaterEqual(nd, 1)          # the kernel asked for the app's IPv6 address
            self.assertGreaterEqual(no_neighbour, 1)  # the app had to ask for bob (and bob6)
            self.assertGreaterEqual(reassembled, 2)   # the large MESSAGE over IPv4 and over IPv6
            self.assertGreaterEqual(fragmented, 4)    # it and its 200, both families

    result = unittest.TextTestRunner(verbosity=2).run(unittest.defaultTestLoader.loadTestsFromTestCase(Tap))
    # Meson reports 77 as skipped; a skip in setUpClass counts no test run, so any skip is reported.
    sys.exit(1 if not result.wasSuccessful() else 77 if result.skipped else 0)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        sys.argv.pop(1)
        inside()
    if os.geteuid() != 0:  # what the machine cannot do here: skipped, and counted as skipped
        print("skipped: needs root to make a network namespace", file=sys.stderr)
        sys.exit(77)
    if shutil.which("ip") is None:  # tools/setup installs it: missing, it is a failure
        print("FAIL: ip is not installed: install the Debian package iproute2 (tools/setup does)", file=sys.stderr)
        sys.exit(1)
    sh("ip", "netns", "add", NS)
    try:
        r = subprocess.run(["ip", "netns", "exec", NS, sys.executable, os.path.abspath(__file__), APP, "--inside"],
                           timeout=180)
        code = r.returncode
    finally:
        # Whatever is still running in the namespace (an app the test could not stop) ends with it.
        pids = sh("ip", "netns", "pids", NS, check=False).stdout.split()
        if pids:
            sh("kill", "-9", *[p.decode() for p in pids], check=False)
        sh("ip", "netns", "del", NS, check=False)  # the tap interface goes with it
    sys.exit(code)
