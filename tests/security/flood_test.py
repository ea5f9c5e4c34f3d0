#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A flood from one address while a caller makes calls: the flood is ten times the caller's message
rate, OPTIONS to a user whose phone never answers, each of which would hold a transaction slot for
Timer F's 32 s. [limits] sheds the flooder's excess before it is parsed, so the table never fills
and every call completes; the flooder's spoofable address gets none of our answers beyond its own
budget. A second flood aims our 404s at one address from many forged requests: what we answer is
bounded by that address's byte budget.
Usage: flood_test.py SIPFASTD"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Daemon, free_port, main, metric, need  # noqa: E402

SIPFASTD = sys.argv.pop(1)
SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "sipp")

CALLS = 100
CALL_RATE = 10  # calls/s: the caller sends 3 requests a call, the callee 3 responses
FLOOD_RATE = 10 * 6 * CALL_RATE  # messages/s, ten times the call's
LIMIT = 50  # messages/s per source: above the callee's and the caller's 30


class Flood(unittest.TestCase):
    def setUp(self):
        self.sipp = need("sipp", "sip-tester")
        self.tmp = tempfile.mkdtemp(prefix="sipfast-flood-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port, self.uas_port = free_port(), free_port()
        # carol's phone reads and never answers: every request to her holds a slot until Timer F.
        self.hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.hole.bind(("127.0.0.1", 0))
        self.addCleanup(self.hole.close)
        # 1 500 slots a worker: a flood of FLOOD_RATE requests a second, each held 32 s, fills both
        # workers' tables in 5 s; the limited flood (LIMIT/s) and the calls hold about 2 300.
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 2
transactions_per_worker = 1500
domains = ["127.0.0.1"]
[[location]]
user = "bob"
contact = "sip:bob@127.0.0.1:{self.uas_port}"
[[location]]
user = "carol"
contact = "sip:carol@127.0.0.1:{self.hole.getsockname()[1]}"
[policy]
allow_loopback = true
[limits]
messages_per_s = {LIMIT}
""")
        self.addCleanup(self.proxy.stop)

    def metrics(self):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            return r.read().decode()

    def flood(self, stop, source, ruri, pace_rate, limit):
        """Sends requests from `source` at pace_rate a second until `stop` is set or `limit` are sent;
        returns [sent, answered]."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((source, 0))
        s.setblocking(False)
        counts = [0, 0]

        def run():
            port = s.getsockname()[1]
            start = time.monotonic()
            while not stop.is_set() and counts[0] < limit:
                n = counts[0]
                s.sendto((f"OPTIONS {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {source}:{port};branch=z9hG4bKf{n}\r\n"
                          f"Max-Forwards: 70\r\nFrom: <sip:mallory@127.0.0.1>;tag=m{n}\r\nTo: <{ruri}>\r\n"
                          f"Call-ID: flood-{n}@{source}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(),
                         ("127.0.0.1", self.port))
                counts[0] += 1
                try:
                    while s.recv(65535):
                        counts[1] += 1
                except BlockingIOError:
                    pass
                # Paced by count: the n-th request leaves n/pace_rate seconds after the first.
                ahead = counts[0] / pace_rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
            s.close()

        t = threading.Thread(target=run)
        t.start()
        return t, counts

    def test_calls_complete_through_a_flood_ten_times_their_rate(self):
        stop = threading.Event()
        flooder, counts = self.flood(stop, "127.0.0.3", f"sip:carol@127.0.0.1:{self.port}", FLOOD_RATE, FLOOD_RATE * 60)
        try:
            uas = subprocess.Popen([self.sipp, "-sf", os.path.join(SCENARIOS, "uas_rr.xml"), "-i", "127.0.0.1",
                                    "-p", str(self.uas_port), "-m", str(CALLS), "-nostdin", "-timeout", "60s"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.tmp)
            self.addCleanup(lambda: uas.poll() is None and uas.kill())
            time.sleep(0.3)
            uac = subprocess.run([self.sipp, "-sf", os.path.join(SCENARIOS, "uac_rr.xml"), "-s", "bob",
                                  f"127.0.0.1:{self.port}", "-i", "127.0.0.2", "-p", str(free_port(host="127.0.0.2")),
                                  "-m", str(CALLS), "-r", str(CALL_RATE), "-nostdin", "-timeout", "60s", "-timeout_error"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.tmp, timeout=120)
        finally:
            stop.set()
            flooder.join()
        self.assertEqual(uac.returncode, 0, "a call failed during the flood: " + uac.stdout.decode(errors="replace")[-2000:])
        self.assertEqual(uas.wait(timeout=30), 0)
        text = self.metrics()
        sent = counts[0]
        shed = metric(text, "sipfast_dropped_total", cause="rate_limited")
        # Ten times the caller's rate for the whole run, and most of it never reached the parser.
        self.assertGreater(sent, CALLS / CALL_RATE * FLOOD_RATE / 2)
        self.assertGreater(shed, sent / 2)
        self.assertEqual(metric(text, "sipfast_dropped_total", cause="table_full"), 0)

    def test_our_answers_toward_a_forged_address_stay_within_its_budget(self):
        # Requests for users we do not have are answered 404 by us; forged from many "ports" of one
        # address, they all charge that address: whatever they ask, it gets its byte budget.
        stop = threading.Event()
        flooder, counts = self.flood(stop, "127.0.0.4", f"sip:nobody@127.0.0.1:{self.port}", 2000, 4000)
        flooder.join(timeout=60)
        stop.set()
        flooder.join()
        seconds = counts[0] / 2000
        text = self.metrics()
        answered = counts[1]
        # LIMIT messages a second (the default byte budget is far above what 404s take), plus a burst
        # of twice that; the answers arrive with their requests, so a few may still be in flight.
        self.assertLessEqual(answered, 2 * LIMIT + LIMIT * (seconds + 1))
        self.assertGreater(answered, 0)  # it is answered, within its budget
        self.assertGreaterEqual(metric(text, "sipfast_dropped_total", cause="rate_limited"), counts[0] - answered - 10)


if __name__ == "__main__":
    main()
