#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A SIPVicious scan (Debian's sipvicious: svmap sweeps for SIP devices, svwar guesses extensions)
against sipfastd while a caller keeps using it: the scanners get no answer at all (their requests
are dropped unanswered and counted as dropped{cause="scanner"}): svmap finds no device, svwar gives
up at its first probe; every request of the caller is answered meanwhile.
Usage: scanner_test.py SIPFASTD"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import Daemon, free_port, main, metric, need  # noqa: E402

SIPFASTD = sys.argv.pop(1)


class Scanner(unittest.TestCase):
    def setUp(self):
        self.svmap, self.svwar = need("svmap", "sipvicious"), need("svwar", "sipvicious")
        self.tmp = tempfile.mkdtemp(prefix="sipfast-scan-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 2
domains = ["127.0.0.1"]
""")
        self.addCleanup(self.proxy.stop)

    def scan(self, *args):
        # The scanners keep their sessions under $HOME: the test's folder, not the user's.
        return subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.tmp,
                                env={**os.environ, "HOME": self.tmp})

    def test_a_scan_gets_nothing_and_callers_are_still_answered(self):
        caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        caller.bind(("127.0.0.1", 0))
        caller.settimeout(3)
        self.addCleanup(caller.close)
        scans = [self.scan(self.svmap, "-p", str(self.port), "127.0.0.1"),
                 self.scan(self.svwar, "-p", str(self.port), "-e", "100-400", "-m", "INVITE", "127.0.0.1")]
        answered, n = 0, 0
        while any(s.poll() is None for s in scans) and n < 2000:
            n += 1
            caller.sendto((f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                           f"Via: SIP/2.0/UDP 127.0.0.1:{caller.getsockname()[1]};branch=z9hG4bKc{n};rport\r\n"
                           f"Max-Forwards: 70\r\nFrom: <sip:carol@127.0.0.1>;tag=c{n}\r\nTo: <sip:127.0.0.1>\r\n"
                           f"Call-ID: caller-{n}@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nUser-Agent: Zoiper\r\n"
                           "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", self.port))
            if caller.recv(65535).startswith(b"SIP/2.0 200 "):
                answered += 1
            time.sleep(0.01)
        outputs = []
        for s in scans:
            try:
                outputs.append(s.communicate(timeout=120)[0].decode(errors="replace"))
            except subprocess.TimeoutExpired:
                s.kill()
                outputs.append(s.communicate()[0].decode(errors="replace"))
        self.assertGreater(n, 0)
        self.assertEqual(answered, n)  # every request of the caller, all through the scan
        # Neither tool found anything: svmap no device, svwar not even an answer to its first probe,
        # so it guessed no extension at all.
        for out in outputs:
            self.assertIn("found nothing", out)
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            text = r.read().decode()
        self.assertGreaterEqual(metric(text, "sipfast_dropped_total", cause="scanner"), 2, outputs)

if __name__ == "__main__":
    main()
