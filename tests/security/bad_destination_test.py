#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A bad destination in a send batch (issue: "drops the rest of a send batch when one destination
fails"): requests the kernel refuses to send interleaved, in one burst, with MESSAGEs for a callee.
Port 0 and broadcast never get that far now (the relay policy's deny list answers 403), so the test
runs in a network namespace of its own with loopback alone, where a routable address has no route
and sendmmsg refuses it (ENETUNREACH). Each refused send costs only its own message, counted as
dropped{cause="send_refused"}; every MESSAGE for the callee arrives.
Usage: bad_destination_test.py SIPFASTD"""
import os
import socket
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Daemon, free_port, main, metric  # noqa: E402

SIPFASTD = sys.argv.pop(1)
PAIRS = 60
NAMESPACE = os.environ.get("SIPFAST_TEST_NETNS")


def rerun_in_a_namespace():
    """Runs this test again inside a new network namespace with only loopback, then removes it."""
    if os.geteuid() != 0:
        print("skipped: needs root to make a network namespace")
        sys.exit(77)
    ns = f"sfbatch{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        print("skipped: cannot make a network namespace here")
        sys.exit(77)
    try:
        subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], check=True)
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), SIPFASTD, *sys.argv[1:]],
                           env={**os.environ, "SIPFAST_TEST_NETNS": ns})
        sys.exit(r.returncode)
    finally:
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True).stdout.split()
        if pids:
            subprocess.run(["kill", "-9", *[p.decode() for p in pids]], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def message(ruri, port, n):
    return (f"MESSAGE {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKm{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a{n}\r\nTo: <{ruri}>\r\n"
            f"Call-ID: batch-{n}@127.0.0.1\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n").encode()


class BadDestination(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-batch-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.callee.bind(("127.0.0.1", 0))
        self.callee.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.addCleanup(self.callee.close)
        self.port = free_port()
        # One worker: every message of the burst meets in its one outbox.
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 1
mode = "stateless"
domains = ["example.com"]
[policy]
relay = "open"
allow_loopback = true
""")
        self.addCleanup(self.proxy.stop)

    def test_a_refused_send_costs_only_its_own_message(self):
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sender.bind(("127.0.0.1", 0))
        self.addCleanup(sender.close)
        port, callee = sender.getsockname()[1], self.callee.getsockname()[1]
        burst = []
        for n in range(PAIRS):
            bad = f"sip:x@198.51.100.{n % 200 + 1}:5060"  # routable, but there is no route here
            burst.append(message(bad, port, f"bad{n}"))
            burst.append(message(f"sip:bob@127.0.0.1:{callee}", port, f"good{n}"))
        for datagram in burst:
            sender.sendto(datagram, ("127.0.0.1", self.port))
        got = set()
        self.callee.settimeout(3)
        try:
            while len(got) < PAIRS:
                got.add(self.callee.recv(65535).split(b"Call-ID: ", 1)[1].split(b"\r\n", 1)[0])
        except socket.timeout:
            pass
        self.assertEqual(len(got), PAIRS)
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            text = r.read().decode()
        self.assertEqual(metric(text, "sipfast_dropped_total", cause="send_refused"), PAIRS)


if __name__ == "__main__":
    if NAMESPACE is None:
        rerun_in_a_namespace()
    main()
