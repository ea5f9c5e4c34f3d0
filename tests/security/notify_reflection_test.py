#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Reg-event NOTIFYs as a reflector, as an attacker would try it on sipfastd with authentication off
(anyone may watch a registration then) and no neighbour configured. A SUBSCRIBE whose Record-Route
names a victim gets its NOTIFY back at the sender, the victim nothing. A SUBSCRIBE with a forged
source (sent here from the victim's own socket, which never answers) earns the victim the 200 and one
NOTIFY: no retransmission over Timer F (there were eleven, a kilobyte each), none for the next
REGISTER, and the subscription is over by then.
Usage: notify_reflection_test.py SIPFASTD"""
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
T1_MS = 20  # Timer E would retransmit at 20, 40, 80 ms ... until Timer F at 64*T1 = 1.28 s


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def first_line(data):
    return data.split(b"\r\n", 1)[0].decode()


class NotifyReflection(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-reflect-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()
        # [policy] without a [[peer]]: loopback is a destination we may reach, not a neighbour.
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 2
domains = ["127.0.0.1"]
[policy]
allow_loopback = true
[timers]
t1_ms = {T1_MS}
""")
        self.addCleanup(self.proxy.stop)
        self.phone, self.attacker, self.victim = udp(), udp(), udp()
        for s in (self.phone, self.attacker, self.victim):
            self.addCleanup(s.close)
        self.register("reg-1")

    def send(self, sock, text):
        sock.sendto(text.encode(), ("127.0.0.1", self.port))

    def register(self, call_id):
        me = self.phone.getsockname()[1]
        self.send(self.phone, f"REGISTER sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{call_id};rport\r\nMax-Forwards: 70\r\n"
                  f"From: <sip:alice@127.0.0.1>;tag=r1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
                  f"CSeq: 1 REGISTER\r\nContact: <sip:alice@127.0.0.1:{me}>\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n")
        got = arrivals(self.phone, 1, lambda d: d.startswith(b"SIP/2.0 "))
        self.assertEqual([first_line(d) for d in got[:1]], ["SIP/2.0 200 OK"])

    def subscribe(self, sock, call_id, extra=""):
        me = sock.getsockname()[1]
        self.send(sock, f"SUBSCRIBE sip:alice@127.0.0.1:{self.port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{call_id};rport\r\nMax-Forwards: 70\r\n"
                  f"From: <sip:mallory@127.0.0.1>;tag=m1\r\nTo: <sip:alice@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
                  f"CSeq: 1 SUBSCRIBE\r\nContact: <sip:mallory@127.0.0.1:{me}>\r\n{extra}Event: reg\r\n"
                  "Expires: 600\r\nContent-Length: 0\r\n\r\n")

    def active(self):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            return metric(r.read().decode(), "sipfast_reg_subscriptions_active")

    def test_a_record_route_naming_a_victim_is_not_followed(self):
        victim = self.victim.getsockname()[1]
        self.subscribe(self.attacker, "rr-1", f"Record-Route: <sip:127.0.0.1:{victim};lr>\r\n")
        got = arrivals(self.attacker, 1)
        self.assertEqual(sorted(first_line(d).split(" ")[0] for d in got), ["NOTIFY", "SIP/2.0"], got)
        self.assertEqual(arrivals(self.victim, 2 * 64 * T1_MS / 1000), [])

    def test_a_forged_source_gets_one_notify_and_no_more(self):
        self.subscribe(self.victim, "forged-1")  # as if from the victim's address: it never answers
        time.sleep(0.2)
        self.register("reg-2")  # a change the subscription would be told of
        # Twice Timer F: every retransmission, and the NOTIFY of the change, would have come by then.
        got = arrivals(self.victim, 2 * 64 * T1_MS / 1000)
        self.assertEqual([first_line(d).split(" ")[0] for d in got], ["SIP/2.0", "NOTIFY"], got)
        self.assertEqual(self.active(), 0)  # Timer F ended it


if __name__ == "__main__":
    main()
