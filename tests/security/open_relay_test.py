#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfastd is not an open relay (issue: "forwards any unauthenticated request to any IP literal in
its Request-URI or top Route, over UDP, or over TCP with ;transport=tcp (an ACK ... made it open a
TCP connection to a local service and write an arbitrary body into it)"). A stranger (no [[peer]],
no credentials) aims requests at a victim's UDP and TCP ports by Request-URI, by a Route of its
own, within a dialog it claims through our address, and with an ACK; none reaches the victim, each
is answered 403 (the ACK silently) and counted as dropped{cause="relay_denied"}; a request for a
user of ours still goes through.
Usage: open_relay_test.py SIPFASTD"""
import os
import socket
import sys
import tempfile
import shutil
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Daemon, free_port, main, metric  # noqa: E402

SIPFASTD = sys.argv.pop(1)


def request(method, ruri, port, n, extra="", to_tag=""):
    tag = f";tag={to_tag}" if to_tag else ""
    return (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKatt{n};rport\r\n"
            f"Max-Forwards: 70\r\n{extra}From: <sip:mallory@evil.example>;tag=m{n}\r\nTo: <sip:x@evil.example>{tag}\r\n"
            f"Call-ID: relay-{n}@evil.example\r\nCSeq: 1 {method}\r\nContent-Length: 10\r\n\r\nGET / HTTP").encode()


class OpenRelay(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-relay-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.victim_udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.victim_udp.bind(("127.0.0.1", 0))
        self.victim_tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.victim_tcp.bind(("127.0.0.1", 0))
        self.victim_tcp.listen(8)
        self.bob = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.bob.bind(("127.0.0.1", 0))
        self.attacker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.attacker.bind(("127.0.0.1", 0))
        for s in (self.victim_udp, self.victim_tcp, self.bob, self.attacker):
            self.addCleanup(s.close)
        self.port = free_port()
        # Loopback may be reached (bob is there), but nobody is trusted: the attacker is a stranger.
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}", "tcp:127.0.0.1:{self.port}"]
workers = 2
domains = ["example.com"]
[policy]
allow_loopback = true
[[location]]
user = "bob"
domain = "example.com"
contact = "sip:bob@127.0.0.1:{self.bob.getsockname()[1]}"
""")
        self.addCleanup(self.proxy.stop)

    def metrics(self):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            return r.read().decode()

    def test_a_stranger_reaches_no_address_of_its_choosing(self):
        port = self.attacker.getsockname()[1]
        udp, tcp = self.victim_udp.getsockname()[1], self.victim_tcp.getsockname()[1]
        attempts = [
            request("INVITE", f"sip:x@127.0.0.1:{udp}", port, 1),
            request("MESSAGE", f"sip:x@127.0.0.1:{tcp};transport=tcp", port, 2),
            request("OPTIONS", "sip:bob@example.com", port, 3, extra=f"Route: <sip:127.0.0.1:{udp};lr>\r\n"),
            request("BYE", f"sip:x@127.0.0.1:{udp}", port, 4, extra=f"Route: <sip:127.0.0.1:{self.port};lr>\r\n", to_tag="v1"),
            request("ACK", f"sip:x@127.0.0.1:{tcp};transport=tcp", port, 5, to_tag="v1"),
        ]
        self.attacker.settimeout(3)
        for n, a in enumerate(attempts):
            self.attacker.sendto(a, ("127.0.0.1", self.port))
            if n < 4:  # every one but the ACK is answered 403
                self.assertTrue(self.attacker.recv(65535).startswith(b"SIP/2.0 403 Forbidden (Relaying Denied)\r\n"))
        # A request for our user goes through: the proxy was listening all along.
        self.attacker.sendto(request("MESSAGE", "sip:bob@example.com", port, 6), ("127.0.0.1", self.port))
        self.bob.settimeout(3)
        self.assertTrue(self.bob.recv(65535).startswith(b"MESSAGE sip:bob@127.0.0.1:"))
        # Nothing reached the victim: no datagram, no connection.
        self.victim_udp.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            self.victim_udp.recv(65535)
        self.victim_tcp.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            self.victim_tcp.accept()
        deadline = time.time() + 5
        while metric(self.metrics(), "sipfast_dropped_total", cause="relay_denied") < 5 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(metric(self.metrics(), "sipfast_dropped_total", cause="relay_denied"), 5)


if __name__ == "__main__":
    main()
