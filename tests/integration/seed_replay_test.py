#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The seed call flows replayed through stateful sipfastd with their own messages; raw sockets play
both ends and check what arrives after each hop.
Seed 002: a FreeSWITCH-style callee that demands Proxy-Authorization (407), the re-INVITE with
credentials, 100/183/200 with SDP, the ACK, a BYE from the callee side retransmitted once, its 200.
Seed 000: an IMS UE on TCP calls a local number (tel: with our phone-context) registered on another
UE; the INVITE, too large for UDP, reaches it over TCP (RFC 3261 §18.1.1); 183/180/200 come back on
the caller's connection; the caller's ACK and BYE come over UDP by the route set.
Usage: seed_replay_test.py SIPFASTD CORPUS_DIR"""
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest

from harness import (DEFAULT_T1_MS, Daemon, DaemonClass, StreamReader, arrivals, free_port, main, outlasting_t1, tcp_listener,
                     udp_socket, unmarked)

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


class Seed002Replay(DaemonClass, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-seed-")
        cls.proxy_port, cls.caller_port, cls.fs_port = free_udp_port(), free_udp_port(), free_udp_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp,
                           f'listen = ["udp:127.0.0.1:{cls.proxy_port}"]\nmode = "stateful"\nworkers = 2\n'
                           f'domains = ["127.0.0.1"]\n[[location]]\nuser = "1009"\ndomain = "127.0.0.1"\n'
                           f'contact = "sip:1009@127.0.0.1:{cls.fs_port}"\n')

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
        self.assertEqual([unmarked(v) for v in rr], [f"<sip:127.0.0.1:{self.proxy_port};lr>"])
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
        # Nothing more for 2×T1: neither the retransmission forwarded nor our BYE's Timer E still
        # running after its 200. (T1 stays at its default here: with a shorter one the proxy's own
        # retransmissions, before this test's answers, would race them on a loaded machine.)
        self.assertEqual(arrivals(self.caller, outlasting_t1(DEFAULT_T1_MS), lambda d: d.startswith(b"BYE ")), [])


class Seed000Replay(DaemonClass, unittest.TestCase):
    """Seed 000's call: UE1 (TCP) -> sipfastd -> UE2, with the UE addresses moved to loopback."""
    ims = "ims.mnc001.mcc001.3gppnetwork.org"
    # A short T1, so that waiting out a retransmission (2×T1) is quick. It races nothing here: the
    # proxy sends UE2 everything over TCP (no retransmission timers) and the 200 to UE1's BYE over
    # UDP is never retransmitted on a timer.
    t1_ms = 100

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-seed000-")
        cls.port, cls.ue1, cls.ue2 = free_port(), free_port(), free_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"]
workers = 2
domains = ["{cls.ims}"]
[timers]
t1_ms = {cls.t1_ms}
[[location]]
user = "1012"
domain = "{cls.ims}"
contact = "sip:1012@127.0.0.1:{cls.ue2}"
""")

    def moved(self, name):
        """The seed message with its UEs and proxy on loopback."""
        text = seed(name).replace("182.0.3.113:5060", f"127.0.0.1:{self.ue1}")
        text = text.replace("182.0.3.112:5060", f"127.0.0.1:{self.ue2}")
        return text.replace("<sip:10.88.120.34:5060;lr>", f"<sip:127.0.0.1:{self.port};lr>")

    def in_dialog(self, name, target, route, to):
        """UE1's ACK or BYE of the seed, sent as a UA behind a proxy sends it: to the remote target,
        by the route set, with the To of the 200."""
        start, headers, body = split(self.moved(name))
        headers = [f"To: {to}" if h.startswith("To:") else h for h in headers]
        return join(f"{start.split()[0]} {target} SIP/2.0", [f"Route: {route}"] + headers, body)

    def test_seed_000_call_from_a_tcp_ue(self):
        ue1_udp, ue2_tcp, ue2_udp = udp_socket(self.ue1), tcp_listener(self.ue2), udp_socket(self.ue2)
        for s in (ue1_udp, ue2_tcp, ue2_udp):
            self.addCleanup(s.close)

        # 1. UE1's INVITE to tel:1012 over its TCP connection; 100 Trying comes back on it with
        #    received and rport filled in (the seed's note: "rport added").
        ue1 = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        self.addCleanup(ue1.close)
        ue1_port = ue1.getsockname()[1]
        start, headers, body = split(self.moved("000_06_invite_tcp_from_ue1.sip"))
        ue1.sendall(join(start, headers, body))
        ue1_in = StreamReader(ue1)
        trying = ue1_in.message()
        self.assertTrue(trying.startswith("SIP/2.0 100 Trying"), trying)
        self.assertEqual(header(trying, "Via"),
                         f"SIP/2.0/TCP 127.0.0.1:{self.ue1};branch=z9hG4bKrvecbbPKcWj1EbefaynY;"
                         f"received=127.0.0.1;rport={ue1_port}")

        # 2. UE2 gets it over TCP: with our Via and Record-Route it is over 1300 bytes.
        conn, _ = ue2_tcp.accept()
        self.addCleanup(conn.close)
        ue2_in = StreamReader(conn)
        invite = ue2_in.message()
        self.assertTrue(invite.startswith(f"INVITE sip:1012@127.0.0.1:{self.ue2} SIP/2.0"), invite)
        self.assertGreater(len(invite.encode()), 1300)
        self.assertEqual(header(invite, "Max-Forwards"), "69")
        self.assertIsNone(header(invite, "Route"))
        rr = all_headers(invite, "Record-Route")
        self.assertEqual([unmarked(v) for v in rr], [f"<sip:127.0.0.1:{self.port};transport=tcp;lr>"])
        vias = all_headers(invite, "Via")
        self.assertTrue(vias[0].startswith(f"SIP/2.0/TCP 127.0.0.1:{self.port};branch=z9hG4bKsf"), vias)
        # sec-agree is accepted by default ([sec_agree] mode = "accept") and, as TS 24.229 §5.2.7.2
        # has the P-CSCF do, stays between UE1 and us: the seed's proxy passed it on, we do not.
        self.assertIsNone(header(invite, "Require"))
        self.assertIsNone(header(invite, "Proxy-Require"))
        for name in ("P-Access-Network-Info", "P-Preferred-Identity", "Accept-Contact",
                     "Session-Expires", "Contact", "From", "To", "Call-ID"):
            self.assertEqual(header(invite, name), header(self.moved("000_06_invite_tcp_from_ue1.sip"), name), name)

        # 3. 183, 180 and 200 from UE2 on that connection reach UE1 on its own, our Via taken off.
        ue2_contact = f"<sip:1012@127.0.0.1:{self.ue2}>"
        for name, status in (("000_09_183_session_progress_from_ue2.sip", "183"),
                             ("000_11_180_ringing_from_ue2.sip", "180"), ("000_13_invite_200_ok_from_ue2.sip", "200")):
            conn.sendall(self.answer_to(invite, name))
            got = ue1_in.message()
            self.assertTrue(got.startswith(f"SIP/2.0 {status}"), got)
            self.assertEqual(all_headers(got, "Via"), [header(trying, "Via")])
            self.assertEqual(header(got, "Contact").split(";")[0], ue2_contact)
        self.assertEqual(all_headers(got, "Record-Route"), rr)
        to = header(got, "To")

        # 4. UE1's ACK and BYE come over UDP (as in the seed) by the route set; they leave by the
        #    side our Route names, over the connection already open to UE2.
        ue1_udp.sendto(self.in_dialog("000_15_ack_from_ue1.sip", f"sip:1012@127.0.0.1:{self.ue2}", rr[0], to),
                       ("127.0.0.1", self.port))
        ack = ue2_in.message()
        self.assertTrue(ack.startswith(f"ACK sip:1012@127.0.0.1:{self.ue2} SIP/2.0"), ack)
        self.assertEqual(header(ack, "CSeq"), "1 ACK")
        self.assertIsNone(header(ack, "Route"))
        ue1_udp.sendto(self.in_dialog("000_17_bye_from_ue1.sip", f"sip:1012@127.0.0.1:{self.ue2}", rr[0], to),
                       ("127.0.0.1", self.port))
        bye = ue2_in.message()
        self.assertTrue(bye.startswith(f"BYE sip:1012@127.0.0.1:{self.ue2} SIP/2.0"), bye)
        self.assertEqual(header(bye, "Reason"), 'SIP;cause=200;text="User term the call."')
        self.assertTrue(all_headers(bye, "Via")[1].startswith(f"SIP/2.0/UDP 127.0.0.1:{self.ue1};"))

        # 5. UE2's 200 for the BYE goes back to UE1 over UDP.
        conn.sendall(self.answer_to(bye, "000_19_bye_200_ok_from_ue2.sip"))
        ok = ue1_udp.recvfrom(65535)[0].decode()
        self.assertTrue(ok.startswith("SIP/2.0 200 OK"), ok)
        self.assertEqual(header(ok, "CSeq"), "2 BYE")
        # Nothing went to UE2 over UDP, not even later (a retransmission would come at T1).
        self.assertEqual(arrivals(ue2_udp, outlasting_t1(self.t1_ms)), [])

    def answer_to(self, request, name):
        """The seed response `name` from UE2, answering `request` as received."""
        start, headers, body = split(self.moved(name))
        kept = [h for h in headers if not re.match(r"(Via|Record-Route|CSeq|Call-ID|From|To):", h, re.I)]
        vias = [f"Via: {v}" for v in all_headers(request, "Via")]
        rr = [f"Record-Route: {v}" for v in all_headers(request, "Record-Route")]
        to = header(request, "To") + ("" if ";tag=" in header(request, "To") else ";tag=bbecbT3")
        ids = [f"From: {header(request, 'From')}", f"To: {to}", f"Call-ID: {header(request, 'Call-ID')}",
               f"CSeq: {header(request, 'CSeq')}"]
        return join(start, vias + rr + ids + kept, body)


if __name__ == "__main__":
    main()
