#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Forged responses (issue: "accepts forged final responses into other callers' INVITE
transactions"). A caller's INVITE rings at a callee; an attacker who saw the forwarded INVITE, or
guesses our branch, answers 486 first: from another address with the real branch, with guessed
branches (the layout without a MAC: shard, slot, generation), and with the real branch for other
calls. sipfastd must take none of them: the caller gets the callee's own 200 and no 486, and every
forgery is counted as dropped{cause="unverified"}.
Usage: forged_response_test.py SIPFASTD"""
import os
import re
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


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(3)
    return s


def response(request, status, reason, to_tag):
    """The answer a UA would give to `request` (its Vias, From, To with a tag, Call-ID, CSeq)."""
    lines = request.split("\r\n")
    keep = [l for l in lines if l.split(":", 1)[0] in ("Via", "From", "Call-ID", "CSeq")]
    to = next(l for l in lines if l.startswith("To:"))
    return (f"SIP/2.0 {status} {reason}\r\n" + "\r\n".join(keep) + f"\r\n{to};tag={to_tag}\r\n"
            "Content-Length: 0\r\n\r\n")


class ForgedResponses(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-forged-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.callee, self.caller, self.attacker = udp(), udp(), udp()
        for s in (self.callee, self.caller, self.attacker):
            self.addCleanup(s.close)
        self.port = free_port()
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 2
domains = ["127.0.0.1"]
[[location]]
user = "bob"
domain = "127.0.0.1"
contact = "sip:bob@127.0.0.1:{self.callee.getsockname()[1]}"
""")
        self.addCleanup(self.proxy.stop)

    def dropped_unverified(self):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            return metric(r.read().decode(), "sipfast_dropped_total", cause="unverified")

    def test_no_forged_answer_reaches_the_caller(self):
        port = self.caller.getsockname()[1]
        call_id = f"victim-{time.time_ns()}@127.0.0.1"
        self.caller.sendto((f"INVITE sip:bob@127.0.0.1:{self.port} SIP/2.0\r\n"
                            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKvictim;rport\r\n"
                            f"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n"
                            f"Call-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:{port}>\r\n"
                            "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", self.port))
        invite, proxy_address = self.callee.recvfrom(65535)
        invite = invite.decode()
        self.assertTrue(invite.startswith("INVITE "), invite)
        self.callee.sendto(response(invite, 180, "Ringing", "b1").encode(), proxy_address)
        branch = re.search(r"^Via: SIP/2.0/UDP [^;]+;branch=(z9hG4bKsf[0-9a-f.t]+)", invite, re.M).group(1)

        forgeries = []
        busy = response(invite, 486, "Busy Here", "x")
        # The real branch, sniffed, but not from where the proxy sent the INVITE.
        forgeries += [busy] * 8
        # Branches guessed in the layout without a MAC: both shards, the first slots, generation 0-1.
        for shard in range(2):
            for slot in range(124):
                for generation in range(2):
                    guess = f"z9hG4bKsf{shard:04x}.t{slot:08x}{generation:08x}.{branch[-16:]}"
                    forgeries.append(busy.replace(branch, guess))
        # The real branch for other calls and CSeqs.
        forgeries += [busy.replace(call_id, f"other-{i}@127.0.0.1") for i in range(4)]
        forgeries += [busy.replace("CSeq: 1 INVITE", f"CSeq: {i + 2} INVITE") for i in range(4)]
        for f in forgeries:
            self.attacker.sendto(f.encode(), proxy_address)
        # What the caller got meanwhile: the 100 and the 180, never a 486.
        self.caller.settimeout(0.5)
        got = []
        try:
            while True:
                got.append(self.caller.recv(65535).decode().split("\r\n", 1)[0])
        except socket.timeout:
            pass
        self.assertNotIn("SIP/2.0 486 Busy Here", got)
        # Forgeries from the callee's own address with the real branch but another call's identity
        # are refused too: the MAC covers Call-ID and CSeq.
        for f in forgeries[-8:]:
            self.callee.sendto(f.encode(), proxy_address)
        self.callee.sendto(response(invite, 200, "OK", "b1").encode(), proxy_address)
        self.caller.settimeout(3)
        while True:
            first = self.caller.recv(65535).decode().split("\r\n", 1)[0]
            self.assertNotEqual(first, "SIP/2.0 486 Busy Here")
            if not first.startswith("SIP/2.0 1"):
                break
        self.assertEqual(first, "SIP/2.0 200 OK")
        deadline = time.time() + 5
        while self.dropped_unverified() < len(forgeries) + 8 and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.dropped_unverified(), len(forgeries) + 8)


if __name__ == "__main__":
    main()
