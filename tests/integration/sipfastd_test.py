#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfastd as a user runs it, stateless and stateful, with two workers: real processes on loopback,
SIPp agents that keep the route set, and raw datagrams for the answers the proxy gives itself. Every
process started is stopped, even on failure. Usage: sipfastd_test.py SIPFASTD SIPP_SCENARIO_DIR"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (DEFAULT_T1_MS, Daemon, DaemonClass, arrivals, ipv6_loopback_port, main, need, outlasting_t1,
                     sipp_calls, unmarked)

SIPFASTD = sys.argv.pop(1)
SCENARIOS = sys.argv.pop(1)
SIPP = shutil.which("sipp")


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProxyBase(DaemonClass):
    mode = "stateless"

    @classmethod
    def setUpClass(cls):
        need("sipp", "sip-tester")
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-it-")
        cls.proxy_port = free_udp_port()
        cls.uas_port = free_udp_port()
        cls.carol_port = free_udp_port()
        cls.dave_port = free_udp_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.proxy_port}"]
mode = "{cls.mode}"
workers = 2
domains = ["127.0.0.1", "example.test"]
[[location]]
user = "bob"
domain = "127.0.0.1"
contact = "sip:bob@127.0.0.1:{cls.uas_port}"
[[location]]
user = "carol"
domain = "127.0.0.1"
contact = "sip:carol@127.0.0.1:{cls.carol_port}"
[[location]]
user = "dave"
domain = "127.0.0.1"
contact = "sip:dave@127.0.0.1:{cls.dave_port}"
""")

    def exchange(self, request, timeout=2.0):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(timeout)
            port = s.getsockname()[1]
            s.sendto(request.replace("PORT", str(port)).replace("\n", "\r\n").encode(), ("127.0.0.1", self.proxy_port))
            data, _ = s.recvfrom(65535)
            return data.decode()

    def request(self, method, ruri, extra=""):
        return (f"{method} {ruri} SIP/2.0\n"
                f"Via: SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bK{method}{time.time_ns()};rport\n"
                f"Max-Forwards: 70\n{extra}"
                f"From: <sip:alice@example.test>;tag=a1\nTo: <sip:x@example.test>\n"
                f"Call-ID: {time.time_ns()}@127.0.0.1\nCSeq: 1 {method}\nContent-Length: 0\n\n")

    def test_calls_through_the_proxy_keep_the_route_set(self):
        calls = 5
        trace = sipp_calls(SIPP, SCENARIOS, self.tmp, self.proxy_port, self.uas_port, calls)
        invites = re.findall(r"message received[^\n]*\n\n(INVITE .*?)\n\n", trace, re.S)
        byes = re.findall(r"message received[^\n]*\n\n(BYE .*?)\n\n", trace, re.S)
        self.assertEqual(len(invites), calls)
        self.assertEqual(len(byes), calls)
        first = invites[0]
        self.assertIn(f"Record-Route: <sip:127.0.0.1:{self.proxy_port};lr>", unmarked(first))
        self.assertIn(f"INVITE sip:bob@127.0.0.1:{self.uas_port} SIP/2.0", first)  # retargeted by location
        self.assertIn("Max-Forwards: 69", first)
        vias = re.findall(r"^Via: (.*)$", first, re.M)
        self.assertEqual(len(vias), 2)
        self.assertTrue(vias[0].startswith(f"SIP/2.0/UDP 127.0.0.1:{self.proxy_port};branch=z9hG4bKsf"))
        self.assertRegex(vias[1], r";received=127\.0\.0\.1;rport=\d+")
        # BYE came back through the proxy (its Via on top) with our Route removed.
        self.assertRegex(byes[0], rf"Via: SIP/2.0/UDP 127.0.0.1:{self.proxy_port};branch=z9hG4bKsf")
        self.assertNotIn("Route:", byes[0])
        with open(os.path.join(self.tmp, "uac.log")) as f:  # the caller's trace, beside the callee's
            trying = len(re.findall(r"^SIP/2.0 100 Trying$", f.read(), re.M))
        # A stateful proxy answers every INVITE with its own 100 Trying; a stateless one sends none.
        self.assertEqual(trying, calls if self.mode == "stateful" else 0)

    def test_unknown_user_in_our_domain_gets_404(self):
        answer = self.exchange(self.request("INVITE", "sip:nobody@example.test"))
        self.assertTrue(answer.startswith("SIP/2.0 404 Not Found\r\n"), answer)
        self.assertRegex(answer, r"To: <sip:x@example.test>;tag=\w+")

    def test_options_to_the_proxy_and_max_forwards(self):
        answer = self.exchange(self.request("OPTIONS", f"sip:127.0.0.1:{self.proxy_port}"))
        self.assertTrue(answer.startswith("SIP/2.0 200 OK\r\n"), answer)
        self.assertIn("\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS", answer)
        hop = self.request("INVITE", "sip:bob@127.0.0.1").replace("Max-Forwards: 70", "Max-Forwards: 0")
        self.assertTrue(self.exchange(hop).startswith("SIP/2.0 483 Too Many Hops\r\n"))

    def test_malformed_requests_are_answered_with_the_fault(self):
        bad = self.request("INVITE", "sip:bob@127.0.0.1").replace("CSeq: 1 INVITE", "CSeq: 1 BYE")
        self.assertTrue(self.exchange(bad).startswith(
            "SIP/2.0 400 CSeq method does not match the request method\r\n"))
        scheme = self.request("INVITE", "mailto:bob@example.test")
        self.assertTrue(self.exchange(scheme).startswith("SIP/2.0 416 Unsupported URI Scheme\r\n"))


class StatelessProxy(ProxyBase, unittest.TestCase):
    mode = "stateless"


class StatefulProxy(ProxyBase, unittest.TestCase):
    mode = "stateful"

    def test_a_retransmitted_invite_is_not_forwarded_twice(self):
        # Carol's contact is a plain socket that answers the first INVITE with a 100 of its own,
        # which stops the proxy's Timer A: the proxy's own 100 is all that comes back to the caller,
        # and nothing more reaches carol for 2×T1 however often the caller sends the INVITE (a
        # forwarded copy, or a retransmission Timer A should no longer send, would). T1 stays at its
        # default in this class: its SIPp test counts the INVITEs the callee gets, which a shorter
        # Timer A would race on a loaded machine.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as carol:
            carol.bind(("127.0.0.1", self.carol_port))
            carol.settimeout(3)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as alice:
                alice.bind(("127.0.0.1", 0))
                alice.settimeout(2)
                port = alice.getsockname()[1]
                invite = self.request("INVITE", f"sip:carol@127.0.0.1:{self.proxy_port}")
                invite = invite.replace("PORT", str(port)).replace("\n", "\r\n").encode()
                for i in range(3):
                    alice.sendto(invite, ("127.0.0.1", self.proxy_port))
                    answer, _ = alice.recvfrom(65535)
                    self.assertTrue(answer.startswith(b"SIP/2.0 100 Trying\r\n"), answer)
                    if i == 0:
                        got = carol.recvfrom(65535)[0].decode()
                        self.assertTrue(got.startswith("INVITE "), got)
                        lines = got.split("\r\n")
                        keep = [l for l in lines if l.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
                        carol.sendto(("SIP/2.0 100 Trying\r\n" + "\r\n".join(keep) +
                                      "\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", self.proxy_port))
            more = arrivals(carol, outlasting_t1(DEFAULT_T1_MS))
        self.assertEqual(more, [])


    def test_busy_callee_is_acked_hop_by_hop(self):
        uac_port = free_udp_port()
        uas = subprocess.Popen([SIPP, "-sf", os.path.join(SCENARIOS, "uas_busy.xml"), "-i", "127.0.0.1",
                                "-p", str(self.uas_port), "-m", "3", "-nostdin", "-timeout", "30s"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.tmp)
        try:
            time.sleep(0.3)
            uac = subprocess.run([SIPP, "-sf", os.path.join(SCENARIOS, "uac_busy.xml"), "-s", "bob",
                                  f"127.0.0.1:{self.proxy_port}", "-i", "127.0.0.1", "-p", str(uac_port),
                                  "-m", "3", "-r", "10", "-nostdin", "-timeout", "30s", "-timeout_error"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.tmp, timeout=60)
            self.assertEqual(uac.returncode, 0, uac.stdout.decode(errors="replace")[-2000:])
            # The callee ends only once it has the proxy's ACK for each 486.
            self.assertEqual(uas.wait(timeout=30), 0)
        finally:
            if uas.poll() is None:
                uas.kill()

    def test_cancel_before_answer(self):
        def answer_to(request, status, reason, cseq=None, tag=";tag=d1"):
            lines = request.split("\r\n")
            keep = [l for l in lines if l.split(":")[0] in ("Via", "From", "Call-ID", "CSeq")]
            if cseq:
                keep = [l if not l.startswith("CSeq:") else cseq for l in keep]
            to = [l for l in lines if l.startswith("To:")][0]
            return (f"SIP/2.0 {status} {reason}\r\n" + "\r\n".join(keep) + f"\r\n{to}{tag}\r\n"
                    "Content-Length: 0\r\n\r\n").encode()

        def wait_for(sock, predicate):
            while True:
                data = sock.recvfrom(65535)[0].decode()
                if predicate(data):
                    return data

        proxy = ("127.0.0.1", self.proxy_port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dave, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as alice:
            dave.bind(("127.0.0.1", self.dave_port))
            alice.bind(("127.0.0.1", 0))
            for s in (dave, alice):
                s.settimeout(3)
            port = alice.getsockname()[1]
            call = f"cancel-{time.time_ns()}@127.0.0.1"
            head = (f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKc{time.time_ns()};rport\r\n"
                    f"Max-Forwards: 70\r\nFrom: <sip:alice@example.test>;tag=a1\r\n"
                    f"To: <sip:dave@127.0.0.1>\r\nCall-ID: {call}\r\n")
            ruri = f"sip:dave@127.0.0.1:{self.proxy_port}"
            alice.sendto(f"INVITE {ruri} SIP/2.0\r\n{head}CSeq: 7 INVITE\r\nContent-Length: 0\r\n\r\n".encode(), proxy)
            invite = wait_for(dave, lambda d: d.startswith("INVITE "))
            dave.sendto(answer_to(invite, 180, "Ringing"), proxy)
            wait_for(alice, lambda d: d.startswith("SIP/2.0 180"))
            alice.sendto(f"CANCEL {ruri} SIP/2.0\r\n{head}CSeq: 7 CANCEL\r\nContent-Length: 0\r\n\r\n".encode(), proxy)
            ok = wait_for(alice, lambda d: d.startswith("SIP/2.0 200"))
            self.assertIn("CSeq: 7 CANCEL", ok)
            cancel = wait_for(dave, lambda d: d.startswith("CANCEL "))
            self.assertIn("CSeq: 7 CANCEL", cancel)
            # Same branch as the INVITE the proxy forwarded.
            self.assertEqual(re.search(r"branch=([^;\r]+)", cancel).group(1), re.search(r"branch=([^;\r]+)", invite).group(1))
            dave.sendto(answer_to(cancel, 200, "OK"), proxy)
            dave.sendto(answer_to(invite, 487, "Request Terminated"), proxy)
            terminated = wait_for(alice, lambda d: d.startswith("SIP/2.0 487"))
            self.assertIn("CSeq: 7 INVITE", terminated)
            ack = wait_for(dave, lambda d: d.startswith("ACK "))  # the proxy's, hop by hop
            self.assertIn("CSeq: 7 ACK", ack)
            self.assertIn(";tag=d1", ack)


class Ipv6(unittest.TestCase):
    """The same proxy on [::1]: Via, Record-Route and received carry bracketed IPv6 references."""

    def test_a_call_over_ipv6_loopback(self):
        proxy_port, eve_port = ipv6_loopback_port(), ipv6_loopback_port()
        tmp = tempfile.mkdtemp(prefix="sipfast-v6-")
        self.addCleanup(shutil.rmtree, tmp, True)
        proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:[::1]:{proxy_port}"]\nmode = "stateful"\nworkers = 2\n'
                       f'domains = ["example.test"]\n[[location]]\nuser = "eve"\ndomain = "example.test"\n'
                       f'contact = "sip:eve@[::1]:{eve_port}"\n')
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as eve, \
                    socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as alice:
                eve.bind(("::1", eve_port))
                alice.bind(("::1", 0))
                for s in (eve, alice):
                    s.settimeout(3)
                port = alice.getsockname()[1]
                invite = (f"INVITE sip:eve@example.test SIP/2.0\r\n"
                          f"Via: SIP/2.0/UDP [::1]:{port};branch=z9hG4bKv6{time.time_ns()};rport\r\n"
                          f"Max-Forwards: 70\r\nFrom: <sip:alice@example.test>;tag=a6\r\nTo: <sip:eve@example.test>\r\n"
                          f"Call-ID: v6-{time.time_ns()}@[::1]\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
                alice.sendto(invite.encode(), ("::1", proxy_port))
                self.assertTrue(alice.recvfrom(65535)[0].startswith(b"SIP/2.0 100 Trying\r\n"))
                got = eve.recvfrom(65535)[0].decode()
                self.assertTrue(got.startswith(f"INVITE sip:eve@[::1]:{eve_port} SIP/2.0\r\n"), got)
                self.assertIn(f"\r\nRecord-Route: <sip:[::1]:{proxy_port};lr>\r\n", unmarked(got))
                self.assertRegex(got, rf"\r\nVia: SIP/2.0/UDP \[::1\]:{proxy_port};branch=z9hG4bKsf")
                self.assertIn(f";received=[::1];rport={port}", got)
                vias = [l for l in got.split("\r\n") if l.startswith("Via:")]
                busy = ("SIP/2.0 486 Busy Here\r\n" + "\r\n".join(vias) + "\r\n" +
                        "\r\n".join(l for l in got.split("\r\n") if l.split(":")[0] in ("From", "Call-ID", "CSeq")) +
                        "\r\nTo: <sip:eve@example.test>;tag=e6\r\nContent-Length: 0\r\n\r\n")
                eve.sendto(busy.encode(), ("::1", proxy_port))
                self.assertTrue(alice.recvfrom(65535)[0].startswith(b"SIP/2.0 486 Busy Here\r\n"))
                self.assertTrue(eve.recvfrom(65535)[0].startswith(f"ACK sip:eve@[::1]:{eve_port} SIP/2.0".encode()))
        finally:
            proxy.stop()


class Startup(unittest.TestCase):
    def run_daemon(self, *args):
        return subprocess.run([SIPFASTD, *args], capture_output=True, timeout=20, stdin=subprocess.DEVNULL)

    def test_bad_config_is_refused_with_file_line_and_reason(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write('listen = ["udp:127.0.0.1:5999"]\nmode = "fast"\n')
            f.flush()
            r = self.run_daemon("--config", f.name)
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"{f.name}:2: mode: 'fast' is neither stateful nor stateless", r.stderr.decode())

    def test_bad_command_line_values_are_refused(self):
        r = self.run_daemon("--listen", "udp:nowhere:5060", "--mode", "stateless")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--listen udp:nowhere:5060: not transport:ip:port", r.stderr.decode())
        self.assertEqual(self.run_daemon("--workers", "0").returncode, 2)
        self.assertEqual(self.run_daemon("--config", "/nonexistent.toml").returncode, 2)

    def test_version_and_help_print_and_exit_0(self):
        r = self.run_daemon("--version")
        self.assertEqual((r.returncode, r.stdout.decode().split()[0], r.stderr), (0, "sipfastd", b""))
        r = self.run_daemon("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--config", r.stdout.decode())

    def test_a_busy_port_is_reported(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))  # without SO_REUSEPORT: sipfastd cannot share it
            port = s.getsockname()[1]
            # Bindings in memory: the embedded default's database is the system's.
            with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
                f.write(f'listen = ["udp:127.0.0.1:{port}"]\n[registrar]\ndatabase = ""\n')
                f.flush()
                r = self.run_daemon("--config", f.name, "--mode", "stateless", "--workers", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"bind 127.0.0.1:{port}: Address already in use", r.stderr.decode())


if __name__ == "__main__":
    main()
