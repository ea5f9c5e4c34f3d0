#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What an unverified source gets out of sipfastd, as found by an attacker: an INVITE for a user we
do not have is answered 404 once (it was retransmitted on Timer G until Timer H, eleven times over
32 s, toward whatever address the request claimed), and a response that matches no transaction of
ours is dropped and counted (it was forwarded to wherever its second Via said).
Usage: stray_test.py SIPFASTD"""
import os
import shutil
import socket
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Daemon, arrivals, free_port, main, metric  # noqa: E402

SIPFASTD = sys.argv.pop(1)
T1_MS = 20  # Timer G would retransmit at 20, 40, 80 ms ... within 64*T1 = 1.28 s


class Stray(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-stray-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 2
domains = ["127.0.0.1"]
[timers]
t1_ms = {T1_MS}
""")
        self.addCleanup(self.proxy.stop)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.addCleanup(self.sock.close)
        self.victim = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.victim.bind(("127.0.0.1", 0))
        self.addCleanup(self.victim.close)

    def metrics(self):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            return r.read().decode()

    def test_a_request_for_nobody_is_answered_once(self):
        port = self.sock.getsockname()[1]
        self.sock.sendto((f"INVITE sip:nobody@127.0.0.1:{self.port} SIP/2.0\r\n"
                          f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKamp1;rport\r\n"
                          "Max-Forwards: 70\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:nobody@127.0.0.1>\r\n"
                          "Call-ID: amplify-1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode(),
                         ("127.0.0.1", self.port))
        # Twice 64*T1: any retransmission of an answer would have come by then.
        got = arrivals(self.sock, 2 * 64 * T1_MS / 1000)
        self.assertEqual([m.split(b"\r\n", 1)[0] for m in got], [b"SIP/2.0 404 Not Found"])

    def test_a_response_matching_nothing_is_dropped_not_forwarded(self):
        victim = self.victim.getsockname()[1]
        before = metric(self.metrics(), "sipfast_dropped_total", cause="not_ours") + \
            metric(self.metrics(), "sipfast_dropped_total", cause="unverified")
        for n, branch in enumerate(["z9hG4bKsf0000.t00000001000000010123456789abcdef.fedcba9876543210",
                                    "z9hG4bKnot-ours"]):
            self.sock.sendto((f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch}\r\n"
                              f"Via: SIP/2.0/UDP 127.0.0.1:{victim};branch=z9hG4bKv{n}\r\n"
                              f"From: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:y@127.0.0.1>;tag=2\r\n"
                              f"Call-ID: stray-{n}\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode(),
                             ("127.0.0.1", self.port))
        deadline = time.time() + 5
        after = before
        while after < before + 2 and time.time() < deadline:
            time.sleep(0.05)
            text = self.metrics()
            after = metric(text, "sipfast_dropped_total", cause="not_ours") + \
                metric(text, "sipfast_dropped_total", cause="unverified")
        self.assertEqual(after, before + 2)
        self.assertEqual(arrivals(self.victim, 0.2), [])  # both counted by now: nothing went out


if __name__ == "__main__":
    main()
