#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Seed 002's call, replayed through stateful sipfastd with its own messages: a FreeSWITCH-style
callee that demands Proxy-Authorization (407), the re-INVITE with credentials, 100/183/200 with SDP,
the ACK, a BYE from the callee side retransmitted once, its 200. Raw sockets play both ends and
check what arrives after each hop. Usage: seed_replay_test.py SIPFASTD CORPUS_DIR"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SIPFASTD = sys.argv.pop(1)
CORPUS = sys.argv.pop(1)


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(name):
    with open(os.path.join(CORPUS, "seed", name), "rb") as f:
        return f.read().decode()


def split(msg):
    head, _, body = msg.partition("\r\n\r\n")
    lines = head.split("\r\n")
    return lines[0], lines[1:], body


def join(start, headers, body):
    headers = [h for h in headers if not h.lower().startswith("content-length:")]
    return (start + "\r\n" + "\r\n".join(headers) + f"\r\nContent-Length: {len(body.encode())}\r\n\r\n" + body).encode()


def header(msg, name):
    m = re.search(rf"^{name}:\s*(.*)$", msg, re.M | re.I)
    return m.group(1).strip() if m else None


def all_headers(msg, name):
    return [v.strip() for v in re.findall(rf"^{name}:\s*(.*)$", msg, re.M | re.I)]


class Seed002Replay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-seed-")
        cls.proxy_port, cls.caller_port, cls.fs_port = free_udp_port(), free_udp_port(), free_udp_port()
        cfg = os.path.join(cls.tmp, "sipfast.toml")
        with open(cfg, "w") as f:
            f.write(f'listen = ["udp:127.0.0.1:{cls.proxy_port}"]\nmode = "stateful"\nworkers = 2\n'
                    f'domains = ["127.0.0.1"]\n[[location]]\nuser = "1009"\ndomain = "127.0.0.1"\n'
                    f'contact = "sip:1009@127.0.0.1:{cls.fs_port}"\n')
        cls.log = open(os.path.join(cls.tmp, "sipfastd.log"), "w+")
        cls.proxy = subprocess.Popen([SIPFASTD, "--config", cfg], stdout=cls.log, stderr=cls.log)
        for _ in range(100):
            cls.log.seek(0)
            if "listening on" in cls.log.read():
                break
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.send_signal(signal.SIGTERM)
        try:
            cls.proxy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.proxy.kill()
        cls.log.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.caller.bind(("127.0.0.1", self.caller_port))
        self.fs = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.fs.bind(("127.0.0.1", self.fs_port))
        for s in (self.caller, self.fs):
            s.settimeout(3)
        self.proxy_addr = ("127.0.0.1", self.proxy_port)

    def tearDown(self):
        self.caller.close()
        self.fs.close()

    def recv(self, sock, first_word):
        while True:
            data = sock.recvfrom(65535)[0].decode()
            if data.split(" ", 1)[0] == first_word or data.startswith(first_word):
                return data

    def caller_request(self, name, ruri, routes=()):
        start, headers, body = split(seed(name))
        method = start.split()[0]
        out = []
        for h in headers:
            if h.startswith("Via:"):
                branch = re.search(r"branch=([^;]+)", h).group(1)
                h = f"Via: SIP/2.0/UDP 127.0.0.1:{self.caller_port};branch={branch};rport"
            elif h.startswith("Contact:"):
                h = f"Contact: <sip:1002@127.0.0.1:{self.caller_port};transport=UDP>"
            out.append(h)
        out[1:1] = [f"Route: {r}" for r in routes]
        return join(f"{method} {ruri} SIP/2.0", out, body)

    def answer(self, name, request, contact=None):
        """The seed response `name`, answering `request` as received: its Vias, Record-Route, CSeq."""
        start, headers, body = split(seed(name))
        kept = [h for h in headers if not re.match(r"(Via|Record-Route|Contact|CSeq):", h, re.I)]
        vias = [f"Via: {v}" for v in all_headers(request, "Via")]
        rr = [f"Record-Route: {v}" for v in all_headers(request, "Record-Route")]
        extra = [f"Contact: {contact}"] if contact else []
        return join(start, vias + rr + [f"CSeq: {header(request, 'CSeq')}"] + kept + extra, body)

    def test_seed_002_call_through_the_proxy(self):
        ruri = f"sip:1009@127.0.0.1:{self.proxy_port};transport=UDP"
        fs_contact = f"<sip:1009@127.0.0.1:{self.fs_port}>"
        # 1. INVITE without credentials; the callee demands them (407), the caller ACKs.
        invite1 = self.caller_request("002_01_invite.sip", ruri)
        self.caller.sendto(invite1, self.proxy_addr)
        self.assertTrue(self.recv(self.caller, "SIP/2.0").startswith("SIP/2.0 100 Trying"))
        got = self.recv(self.fs, "INVITE")
        self.assertTrue(got.startswith(f"INVITE sip:1009@127.0.0.1:{self.fs_port} SIP/2.0"))
        self.assertEqual(header(got, "Max-Forwards"), "69")
        self.assertEqual(split(got)[2], split(seed("002_01_invite.sip"))[2])  # SDP untouched
        self.fs.sendto(self.answer("002_02_407_proxy_auth_required.sip", got), self.proxy_addr)
        challenge = self.recv(self.caller, "SIP/2.0 407")
        self.assertEqual(header(challenge, "Proxy-Authenticate"), header(seed("002_02_407_proxy_auth_required.sip"), "Proxy-Authenticate"))
        self.assertEqual(len(all_headers(challenge, "Via")), 1)
        hop_ack = self.recv(self.fs, "ACK")  # the proxy's own ACK for the 407
        self.assertIn(";tag=3pDX04j1XvXam", header(hop_ack, "To"))
        self.caller.sendto(self.caller_request("002_03_ack_407.sip", ruri), self.proxy_addr)  # absorbed
        # 2. INVITE with Proxy-Authorization: 100 from the callee stays at the proxy; 183, 200 pass.
        self.caller.sendto(self.caller_request("002_04_invite_proxy_auth.sip", ruri), self.proxy_addr)
        self.assertTrue(self.recv(self.caller, "SIP/2.0").startswith("SIP/2.0 100 Trying"))
        got = self.recv(self.fs, "INVITE")
        self.assertEqual(header(got, "Proxy-Authorization"), header(seed("002_04_invite_proxy_auth.sip"), "Proxy-Authorization"))
        self.assertEqual(header(got, "CSeq"), "2 INVITE")
        rr = all_headers(got, "Record-Route")
        self.assertEqual(rr, [f"<sip:127.0.0.1:{self.proxy_port};lr>"])
        self.fs.sendto(self.answer("002_05_100_trying.sip", got), self.proxy_addr)
        self.fs.sendto(self.answer("002_09_183_session_progress.sip", got, fs_contact), self.proxy_addr)
        progress = self.recv(self.caller, "SIP/2.0 183")
        self.assertEqual(split(progress)[2], split(seed("002_09_183_session_progress.sip"))[2])
        self.fs.sendto(self.answer("002_12_200_ok_a_leg.sip", got, fs_contact), self.proxy_addr)
        ok = self.recv(self.caller, "SIP/2.0 200")
        self.assertEqual(header(ok, "Record-Route"), rr[0])
        # 3. The ACK for the 200 goes end to end, through the proxy by the route set.
        self.caller.sendto(self.caller_request("002_13_ack_a_leg.sip", f"sip:1009@127.0.0.1:{self.fs_port}", rr), self.proxy_addr)
        ack = self.recv(self.fs, "ACK")
        self.assertEqual(header(ack, "CSeq"), "2 ACK")
        self.assertIsNone(header(ack, "Route"))
        # 4. The callee hangs up through the proxy, retransmitting its BYE once: one BYE arrives.
        start, headers, body = split(seed("002_18_bye_a_leg_reason.sip"))
        headers = [f"Via: SIP/2.0/UDP 127.0.0.1:{self.fs_port};rport;branch=z9hG4bKpBH6jytUjKS1B" if h.startswith("Via:") else h
                   for h in headers]
        bye = join(f"BYE sip:1002@127.0.0.1:{self.caller_port};transport=UDP SIP/2.0", [f"Route: {rr[0]}"] + headers, body)
        self.fs.sendto(bye, self.proxy_addr)
        got_bye = self.recv(self.caller, "BYE")
        self.assertEqual(header(got_bye, "Reason"), header(seed("002_18_bye_a_leg_reason.sip"), "Reason"))
        self.fs.sendto(bye, self.proxy_addr)  # 002_19: the retransmission
        self.caller.sendto(self.answer("002_20_bye_200_ok_a_leg.sip", got_bye), self.proxy_addr)
        self.assertTrue(self.recv(self.fs, "SIP/2.0").startswith("SIP/2.0 200 OK"))
        self.caller.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            self.recv(self.caller, "BYE")


if __name__ == "__main__":
    unittest.main(verbosity=2)
