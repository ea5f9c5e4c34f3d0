#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfast-dpdk replaying SIP traffic from a pcap with net_pcap, no kernel in the path: ARP, then
INVITE..BYE between alice and bob through the stateless proxy, a REGISTER with digest
authentication through a static route to a registrar, and a call cancelled while ringing; the
frames it transmits are read back from the tx pcap and checked one by one (Ethernet and IP
addresses, UDP ports, the SIP edits). Usage: replay_test.py SIPFAST_DPDK"""
import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

from packet import BRANCH_SECRET, csum, dialog_mark, our_branch, totals

APP = sys.argv.pop(1)

PROXY_MAC, ALICE_MAC, BOB_MAC = bytes.fromhex("020000000001"), bytes.fromhex("020000000009"), bytes.fromhex("020000000020")
GATEWAY_MAC = bytes.fromhex("0200000000fe")
PROXY, ALICE, BOB, GATEWAY, CAROL = "198.18.0.1", "198.18.0.9", "198.18.0.20", "198.18.0.254", "198.19.5.5"
REGISTRAR, REGISTRAR_MAC = "198.18.0.30", bytes.fromhex("020000000030")


def counts(t):
    """Requests received and forwarded, responses received and forwarded, from the totals line."""
    return tuple(t.get(k) for k in ("requests received", "requests forwarded", "responses received", "responses forwarded"))


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def udp_frame(src_mac, dst_mac, src, sport, dst, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, ip4(src), ip4(dst))
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return dst_mac + src_mac + b"\x08\x00" + hdr + udp


def fragments(src_mac, dst_mac, src, sport, dst, dport, payload, ident, cut=304):
    """The UDP datagram as two IPv4 fragments, the first `cut` bytes (a multiple of 8) of it first."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    out = []
    for offset, data, more in ((0, udp[:cut], 1), (cut // 8, udp[cut:], 0)):
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(data), ident, (more << 13) | offset, 64, 17, 0,
                          ip4(src), ip4(dst))
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        out.append(dst_mac + src_mac + b"\x08\x00" + hdr + data)
    return out


def arp_request(src_mac, src, target):
    return (b"\xff" * 6 + src_mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + src_mac + ip4(src)
            + b"\0" * 6 + ip4(target))


def arp_reply(src_mac, src, dst_mac, dst, eth_dst=None):
    """An ARP reply "`src` is at `src_mac`" to `dst` (at `dst_mac`); `eth_dst` broadcast for a gratuitous one."""
    return ((eth_dst or dst_mac) + src_mac + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + src_mac + ip4(src)
            + dst_mac + ip4(dst))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(fr), len(fr)) + fr)


def read_pcap(path):
    frames = []
    with open(path, "rb") as f:
        data = f.read()
    at = 24
    while at + 16 <= len(data):
        _, _, incl, _ = struct.unpack("<IIII", data[at:at + 16])
        frames.append(data[at + 16:at + 16 + incl])
        at += 16 + incl
    return frames


def sip(text):
    head, _, body = text.partition("\n\n")
    head = head.replace("\n", "\r\n")
    return (head + f"\r\nContent-Length: {len(body)}\r\n\r\n" + body).encode()


def idle_ms(config):
    """How long RX must be idle before the replay ends. A stateless proxy sends nothing on its own:
    300 ms. A stateful one retransmits on timers from T1: 2×T1 and a margin, so that a retransmission
    it should not send is in the capture (RFC 3261's 500 ms unless [timers] t1_ms says otherwise)."""
    if re.search(r'^mode\s*=\s*"stateless"', config, re.M):
        return 300
    t1 = re.search(r"^t1_ms\s*=\s*(\d+)", config, re.M)
    return 2 * (int(t1.group(1)) if t1 else 500) + 100


def replay(test, frames, config, extra=()):
    """Runs sipfast-dpdk (one lcore, stateful unless `config` says otherwise) over `frames` from a
    net_pcap rx file until RX has been idle (idle_ms); returns the frames it sent and its stderr.
    Skips the test where DPDK cannot run."""
    tmp = tempfile.mkdtemp(prefix="sipfast-dpdk-")
    test.addCleanup(shutil.rmtree, tmp, True)
    rx, tx = os.path.join(tmp, "rx.pcap"), os.path.join(tmp, "tx.pcap")
    write_pcap(rx, frames)
    cfg = os.path.join(tmp, "dpdk.toml")
    with open(cfg, "w") as f:
        f.write(config + f'\n[registrar]\ndatabase = "{os.path.join(tmp, "bindings.db")}"\n')
    try:
        r = subprocess.run([APP, "--no-huge", "-m", "256", "--no-shconf", "--no-pci", "-l", "0", "--log-level", "lib.eal:error",
                            "--vdev", f"net_pcap0,rx_pcap={rx},tx_pcap={tx}", "--",
                            "--config", cfg, "--exit-when-idle", str(idle_ms(config)), "--address", "198.18.0.1/24",
                            "--gateway", GATEWAY, *extra],
                           capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
                           env={**os.environ, "SIPFAST_BRANCH_SECRET": BRANCH_SECRET})
    except subprocess.TimeoutExpired:
        test.fail("sipfast-dpdk did not finish the replay")
    err = r.stderr.decode(errors="replace")
    if r.returncode != 0 and ("Permission denied" in err or "EAL initialisation failed" in err):
        raise unittest.SkipTest("DPDK cannot run here: " + err[-500:])
    test.assertEqual(r.returncode, 0, err)
    return read_pcap(tx), err


def decode_udp(test, frame):
    """(destination MAC, source IP, destination IP, source port, destination port, payload text) of
    an IPv4/UDP frame, its IPv4 header checksum verified."""
    test.assertEqual(frame[12:14], b"\x08\x00")
    ihl = (frame[14] & 15) * 4
    test.assertEqual(csum(frame[14:14 + ihl]), 0)  # our IPv4 header checksum verifies
    src, dst = frame[26:30], frame[30:34]
    sport, dport, length = struct.unpack("!HHH", frame[14 + ihl:14 + ihl + 6])
    return frame[0:6], src, dst, sport, dport, frame[14 + ihl + 8:14 + ihl + length].decode()


CALL = "Call-ID: replay-1@198.18.0.9\nFrom: <sip:alice@example.com>;tag=a1\n"


def our_via(call_id, cseq, middle="0123456789abcdef"):
    """Our Via as sipfast-dpdk (stateless, shard 0) puts it on the request of `call_id` and `cseq`."""
    return f"Via: SIP/2.0/UDP 198.18.0.1:5060;branch={our_branch('0000.' + middle, call_id, cseq, 'fedcba9876543210')}\n"


OUR_VIA = our_via("replay-1@198.18.0.9", 1)
# Our Record-Route for the call, its dialog mark in it: alice's requests within the dialog bring it back.
OUR_ROUTE = f"<sip:198.18.0.1:5060;lr;sfd={dialog_mark('replay-1@198.18.0.9')}>"
ALICE_VIA = "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKinv1;received=198.18.0.9;rport=5070\n"

MESSAGES = [  # (from, message) after the two ARP requests
    ("alice", "INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKinv1;rport\n"
              "Max-Forwards: 70\n" + CALL + "To: <sip:bob@example.com>\nCSeq: 1 INVITE\n"
              "Contact: <sip:alice@198.18.0.9:5070>\nContent-Type: application/sdp\n\nv=0\r\n"),
    ("bob", "SIP/2.0 180 Ringing\n" + OUR_VIA + ALICE_VIA + CALL + "To: <sip:bob@example.com>;tag=b1\n"
            "CSeq: 1 INVITE\nContact: <sip:bob@198.18.0.20:5062>\n\n"),
    ("bob", "SIP/2.0 200 OK\n" + OUR_VIA + ALICE_VIA + CALL + "To: <sip:bob@example.com>;tag=b1\n"
            "CSeq: 1 INVITE\nContact: <sip:bob@198.18.0.20:5062>\nContent-Type: application/sdp\n\nv=0\r\n"),
    ("alice", "ACK sip:bob@198.18.0.20:5062 SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKack1;rport\n"
              "Route: " + OUR_ROUTE + "\nMax-Forwards: 70\n" + CALL + "To: <sip:bob@example.com>;tag=b1\n"
              "CSeq: 1 ACK\n\n"),
    ("alice", "BYE sip:bob@198.18.0.20:5062 SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKbye1;rport\n"
              "Route: " + OUR_ROUTE + "\nMax-Forwards: 70\n" + CALL + "To: <sip:bob@example.com>;tag=b1\n"
              "CSeq: 2 BYE\n\n"),
    ("bob", "SIP/2.0 200 OK\n" + our_via("replay-1@198.18.0.9", 2) + "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKbye1;received=198.18.0.9;"
            "rport=5070\n" + CALL + "To: <sip:bob@example.com>;tag=b1\nCSeq: 2 BYE\n\n"),
]


class Replay(unittest.TestCase):
    def test_a_call_replayed_from_pcap(self):
        frames = [arp_request(ALICE_MAC, ALICE, PROXY), arp_request(BOB_MAC, BOB, PROXY)]
        for who, text in MESSAGES:
            mac, src, port = (ALICE_MAC, ALICE, 5070) if who == "alice" else (BOB_MAC, BOB, 5062)
            frames.append(udp_frame(mac, PROXY_MAC, src, port, PROXY, 5060, sip(text)))
        frames.append(udp_frame(ALICE_MAC, PROXY_MAC, ALICE, 5070, "198.18.0.77", 5060, b"not for us"))
        # carol is off our /24: her INVITE leaves for the gateway's MAC (learned from its ARP).
        frames.append(arp_request(GATEWAY_MAC, GATEWAY, PROXY))
        frames.append(udp_frame(ALICE_MAC, PROXY_MAC, ALICE, 5070, PROXY, 5060, sip(
            "INVITE sip:carol@example.com SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKinv2;rport\n"
            "Max-Forwards: 70\nCall-ID: replay-2@198.18.0.9\nFrom: <sip:alice@example.com>;tag=a2\n"
            "To: <sip:carol@example.com>\nCSeq: 1 INVITE\n\n")))
        # A MESSAGE that arrives in two IPv4 fragments is reassembled and forwarded whole.
        text = "x" * 500
        frames += fragments(ALICE_MAC, PROXY_MAC, ALICE, 5070, PROXY, 5060, sip(
            "MESSAGE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKmsg1;rport\n"
            "Max-Forwards: 70\nCall-ID: replay-3@198.18.0.9\nFrom: <sip:alice@example.com>;tag=a3\n"
            "To: <sip:bob@example.com>\nCSeq: 1 MESSAGE\nContent-Type: text/plain\n\n" + text), 4242)
        out, err = replay(self, frames, 'listen = ["udp:198.18.0.1:5060"]\nmode = "stateless"\ndomains = ["example.com"]\n'
                          '[[location]]\nuser = "bob"\ndomain = "example.com"\ncontact = "sip:bob@198.18.0.20:5062"\n'
                          '[[location]]\nuser = "carol"\ndomain = "example.com"\ncontact = "sip:carol@198.19.5.5:5060"\n'
                          '[metrics]\nlisten = ""\n')
        self.assertEqual(len(out), 11, err)
        # ARP answers leave within the burst that asked; SIP after its burst's pipeline run.
        arps = [f for f in out if f[12:14] == b"\x08\x06"]
        out = [f for f in out if f[12:14] != b"\x08\x06"]

        # 1. ARP replies to alice, bob and the gateway: our address is at the port's MAC.
        self.assertEqual(len(arps), 3)
        for arp, mac in zip(arps, (ALICE_MAC, BOB_MAC, GATEWAY_MAC)):
            self.assertEqual(arp[12:14], b"\x08\x06")
            self.assertEqual(arp[0:6], mac)
            self.assertEqual(struct.unpack("!H", arp[20:22])[0], 2)
            self.assertEqual(arp[28:32], ip4(PROXY))
        port_mac = arps[0][6:12]

        def udp(frame):
            return decode_udp(self, frame)

        # 2. The call: each frame from the port's MAC and our address, to the right end.
        expect = [("INVITE sip:bob@198.18.0.20:5062 SIP/2.0", "bob"), ("SIP/2.0 180 Ringing", "alice"),
                  ("SIP/2.0 200 OK", "alice"), ("ACK sip:bob@198.18.0.20:5062 SIP/2.0", "bob"),
                  ("BYE sip:bob@198.18.0.20:5062 SIP/2.0", "bob"), ("SIP/2.0 200 OK", "alice")]
        for frame, (start, to) in zip(out, expect):
            self.assertEqual(frame[6:12], port_mac)
            dst_mac, src, dst, sport, dport, text = udp(frame)
            self.assertTrue(text.startswith(start + "\r\n"), text)
            self.assertEqual((src, sport), (ip4(PROXY), 5060))
            if to == "bob":
                self.assertEqual((dst_mac, dst, dport), (BOB_MAC, ip4(BOB), 5062))
                self.assertIn("\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKsf0000.", text)
                self.assertIn("\r\nMax-Forwards: 69\r\n", text)
                self.assertNotIn("\r\nRoute:", text)
            else:
                self.assertEqual((dst_mac, dst, dport), (ALICE_MAC, ip4(ALICE), 5070))
                self.assertNotIn("198.18.0.1:5060;branch=z9hG4bKsf", text)  # our Via taken off
        invite = udp(out[0])[5]
        self.assertIn("\r\nRecord-Route: " + OUR_ROUTE + "\r\n", invite)
        self.assertIn(";received=198.18.0.9;rport=5070", invite)
        self.assertTrue(invite.endswith("\r\n\r\nv=0\r\n"))
        self.assertEqual(counts(totals(err)), (5, 5, 3, 3), err)
        # 3. carol's INVITE to the gateway's MAC, her own address in IP.
        dst_mac, src, dst, sport, dport, text = udp(out[6])
        self.assertEqual((dst_mac, dst, dport), (GATEWAY_MAC, ip4(CAROL), 5060))
        self.assertTrue(text.startswith("INVITE sip:carol@198.19.5.5:5060 SIP/2.0\r\n"), text)
        # 4. The reassembled MESSAGE, whole, to bob.
        dst_mac, src, dst, sport, dport, text = udp(out[7])
        self.assertEqual((dst_mac, dst, dport), (BOB_MAC, ip4(BOB), 5062))
        self.assertTrue(text.startswith("MESSAGE sip:bob@198.18.0.20:5062 SIP/2.0\r\n"), text)
        self.assertTrue(text.endswith("\r\n\r\n" + "x" * 500), text[-80:])

    def test_a_registration_with_digest_auth_replayed(self):
        # alice's softphone (its messages shaped like Zoiper's in the seeds, outbound proxy = us as a
        # preloaded Route) registers with the registrar of voip.example.net, reached by a static
        # [[route]]: REGISTER (and its retransmission), 401 with WWW-Authenticate, REGISTER with the
        # digest Authorization and CSeq 2, 200 with the binding. The registrar answers ARP first, so
        # its MAC is known (a pcap cannot wait for the app's own ARP request).
        realm, password, nonce = "voip.example.net", "alice-secret", "fffe2121-d01f-4c89-ab62-12a030a1c10d"
        cnonce, uri = "b3468b9ac6827d7c51e85ef96618190f", "sip:voip.example.net"
        ha1 = hashlib.md5(f"alice:{realm}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"REGISTER:{uri}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}".encode()).hexdigest()
        authorization = (f'Authorization: Digest username="alice",realm="{realm}",nonce="{nonce}",uri="{uri}",'
                         f'response="{response}",cnonce="{cnonce}",nc=00000001,qop=auth,algorithm=MD5\n')
        challenge = f'WWW-Authenticate: Digest realm="{realm}", nonce="{nonce}", algorithm=MD5, qop="auth"\n'
        dialog = ('To: "alice"<sip:alice@voip.example.net;transport=UDP>\n'
                  'From: "alice"<sip:alice@voip.example.net;transport=UDP>;tag=88741f1c\n'
                  "Call-ID: gzK0vdfGjqqhSuekwhNwmg..\n")
        contact = "Contact: <sip:alice@198.18.0.9:5070;rinstance=59defe5c8b2788ae;transport=UDP>"
        phone = ("Expires: 3600\nAllow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\n"
                 "Supported: replaces, norefersub, extended-refer, timer, outbound, path, X-cisco-serviceuri\n"
                 "User-Agent: Zoiper v2.10.20.4_1\nAllow-Events: presence, kpml, talk\n")

        def register(branch, cseq, auth=""):
            return sip(f"REGISTER {uri} SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch={branch};rport\n"
                       "Max-Forwards: 70\nRoute: <sip:198.18.0.1:5060;lr>\n" + contact + "\n" + dialog
                       + f"CSeq: {cseq} REGISTER\n" + phone + auth + "\n")

        def answer(status, middle, branch, cseq, extra):
            # As a registrar answers: the Via set it received (ours on top, alice's with received
            # and rport), From, Call-ID, CSeq, To with its tag.
            return sip(f"SIP/2.0 {status}\n" + our_via("gzK0vdfGjqqhSuekwhNwmg..", cseq, middle) +
                       f"Via: SIP/2.0/UDP 198.18.0.9:5070;branch={branch};received=198.18.0.9;rport=5070\n"
                       + dialog.replace('transport=UDP>\n', 'transport=UDP>;tag=6HS75N5BNQ02p\n', 1)
                       + f"CSeq: {cseq} REGISTER\n" + extra + "Server: registrar 1.0\n\n")

        b1, b2 = "z9hG4bK-524287-1---86aa6dd38424cee1", "z9hG4bK-524287-1---3c1a5e77d1f0b2a9"
        sent = [("alice", register(b1, 1)),
                ("alice", register(b1, 1)),  # retransmitted (Timer E) before the challenge came
                ("registrar", answer("401 Unauthorized", "6c2f0d1e9a8b7c65", b1, 1, challenge)),
                ("alice", register(b2, 2, authorization)),
                ("registrar", answer("200 OK", "0a1b2c3d4e5f6071", b2, 2,
                                     contact + ";expires=3600\nDate: Sat, 13 Nov 2010 23:29:00 GMT\n"))]
        frames = [arp_request(ALICE_MAC, ALICE, PROXY), arp_request(REGISTRAR_MAC, REGISTRAR, PROXY)]
        for who, payload in sent:
            mac, src, port = (ALICE_MAC, ALICE, 5070) if who == "alice" else (REGISTRAR_MAC, REGISTRAR, 5060)
            frames.append(udp_frame(mac, PROXY_MAC, src, port, PROXY, 5060, payload))
        out, err = replay(self, frames, 'listen = ["udp:198.18.0.1:5060"]\nmode = "stateless"\ndomains = ["example.com"]\n'
                          '[[location]]\nuser = "bob"\ndomain = "example.com"\ncontact = "sip:bob@198.18.0.20:5062"\n'
                          f'[[route]]\ndomain = "{realm}"\nnext_hop = "udp:{REGISTRAR}:5060"\n'
                          # alice's registrar is not our domain: it is a peer, so anyone may reach it.
                          f'[[peer]]\naddress = "{REGISTRAR}"\n'
                          '[metrics]\nlisten = ""\n')
        arps = [f for f in out if f[12:14] == b"\x08\x06"]
        out = [f for f in out if f[12:14] != b"\x08\x06"]
        self.assertEqual([a[0:6] for a in arps], [ALICE_MAC, REGISTRAR_MAC], err)
        port_mac = arps[0][6:12]
        self.assertEqual(len(out), len(sent), err)
        self.assertEqual(counts(totals(err)), (3, 3, 2, 2), err)

        our_vias = []
        for frame, (who, original) in zip(out, sent):
            self.assertEqual(frame[6:12], port_mac)
            dst_mac, src, dst, sport, dport, text = decode_udp(self, frame)
            self.assertEqual((src, sport), (ip4(PROXY), 5060))
            original = original.decode()
            if who == "alice":  # a REGISTER, to the registrar the route names
                self.assertEqual((dst_mac, dst, dport), (REGISTRAR_MAC, ip4(REGISTRAR), 5060))
                # Zoiper supports path: we put ourselves in it (RFC 3327), above our Via.
                path = "Path: <sip:198.18.0.1:5060;lr>\r\n"
                via = re.match(r"REGISTER [^\r]*\r\n" + re.escape(path) +
                               r"(Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKsf0000\.[0-9a-f]{32}\.[0-9a-f]{16}\r\n)", text)
                self.assertIsNotNone(via, text)
                our_vias.append(via.group(1))
                # Exactly these edits, nothing else touched (the Authorization included): our Path
                # and Via on top, received on alice's, Max-Forwards down one, our Route taken off.
                expect = (original.replace("\r\nVia: ", "\r\n" + path + via.group(1) + "Via: ", 1)
                          .replace(";rport\r\n", ";received=198.18.0.9;rport=5070\r\n", 1)
                          .replace("\r\nMax-Forwards: 70\r\n", "\r\nMax-Forwards: 69\r\n", 1)
                          .replace("Route: <sip:198.18.0.1:5060;lr>\r\n", "", 1))
                self.assertEqual(text, expect)
                self.assertTrue(text.startswith("REGISTER sip:voip.example.net SIP/2.0\r\n"), text)
                self.assertNotIn("Record-Route", text)
            else:  # an answer, back to alice with our Via taken off and nothing else changed
                self.assertEqual((dst_mac, dst, dport), (ALICE_MAC, ip4(ALICE), 5070))
                self.assertEqual(text, re.sub(r"\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;[^\r]*", "", original, count=1))
        # The retransmission leaves with the branch of the first copy (RFC 3261 §16.11), the
        # authenticated REGISTER, a new transaction, with another.
        self.assertEqual(our_vias[0], our_vias[1])
        self.assertNotEqual(our_vias[0], our_vias[2])
        dst_mac, src, dst, sport, dport, text = decode_udp(self, out[2])
        self.assertTrue(text.startswith("SIP/2.0 401 Unauthorized\r\n"), text)
        self.assertIn("\r\n" + challenge.replace("\n", "\r\n"), text)
        self.assertIn("\r\n" + authorization.replace("\n", "\r\n"), decode_udp(self, out[3])[5])
        self.assertIn("\r\nCSeq: 2 REGISTER\r\n", decode_udp(self, out[3])[5])
        text = decode_udp(self, out[4])[5]
        self.assertTrue(text.startswith("SIP/2.0 200 OK\r\n"), text)
        self.assertIn("\r\n" + contact + ";expires=3600\r\n", text)


    def cancelled_call(self):
        """alice gives up while bob rings, replayed through the stateless proxy: returns each
        forwarded frame's (who sent the original, original text, frame), and the app's stderr."""
        call = ("Call-ID: 3c26700b5d5c1b5e@198.18.0.9\nFrom: \"alice\" <sip:alice@example.com>;tag=9fxced76sl\n"
                "To: <sip:bob@example.com>")
        via = "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bK74bf9"
        ours = our_via("3c26700b5d5c1b5e@198.18.0.9", 314159, "5f1e0c2b3a496877")
        back = via + ";received=198.18.0.9;rport=5070\n"
        sent = [("alice", f"INVITE sip:bob@example.com SIP/2.0\n{via};rport\nMax-Forwards: 70\n{call}\nCSeq: 314159 INVITE\n"
                          "Contact: <sip:alice@198.18.0.9:5070>\nContent-Type: application/sdp\n\nv=0\r\n"),
                ("bob", f"SIP/2.0 180 Ringing\n{ours}{back}{call};tag=8321234356\nCSeq: 314159 INVITE\n"
                        "Contact: <sip:bob@198.18.0.20:5062>\n\n"),
                ("alice", f"CANCEL sip:bob@example.com SIP/2.0\n{via};rport\nMax-Forwards: 70\n{call}\nCSeq: 314159 CANCEL\n\n"),
                ("bob", f"SIP/2.0 200 OK\n{ours}{back}{call};tag=8321234356\nCSeq: 314159 CANCEL\n\n"),
                ("bob", f"SIP/2.0 487 Request Terminated\n{ours}{back}{call};tag=8321234356\nCSeq: 314159 INVITE\n\n"),
                ("alice", f"ACK sip:bob@example.com SIP/2.0\n{via};rport\nMax-Forwards: 70\n{call};tag=8321234356\n"
                          "CSeq: 314159 ACK\n\n")]
        frames = [arp_request(ALICE_MAC, ALICE, PROXY), arp_request(BOB_MAC, BOB, PROXY)]
        for who, text in sent:
            mac, src, port = (ALICE_MAC, ALICE, 5070) if who == "alice" else (BOB_MAC, BOB, 5062)
            frames.append(udp_frame(mac, PROXY_MAC, src, port, PROXY, 5060, sip(text)))
        out, err = replay(self, frames, 'listen = ["udp:198.18.0.1:5060"]\nmode = "stateless"\ndomains = ["example.com"]\n'
                          '[[location]]\nuser = "bob"\ndomain = "example.com"\ncontact = "sip:bob@198.18.0.20:5062"\n'
                          '[metrics]\nlisten = ""\n')
        out = [f for f in out if f[12:14] != b"\x08\x06"]
        self.assertEqual(len(out), len(sent), err)
        return [(who, sip(text).decode(), frame) for (who, text), frame in zip(sent, out)], err

    @staticmethod
    def our_branch(text):
        top = re.search(r"\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=(z9hG4bKsf0000\.[^\r]*)\r\n", text)
        return top.group(1) if top else None

    def test_a_cancelled_call_replayed_statelessly(self):
        # Stateless, the proxy keeps nothing: the CANCEL must leave with the branch the INVITE left
        # with (RFC 3261 §9.1, §16.11) and to the same place; the 200 to the CANCEL and the 487 go
        # back by their Via; the ACK of the 487 follows the INVITE (its branch: the test below).
        forwarded, err = self.cancelled_call()
        self.assertEqual(counts(totals(err)), (3, 3, 3, 3), err)
        branches = []
        for who, original, frame in forwarded:
            dst_mac, src, dst, sport, dport, text = decode_udp(self, frame)
            self.assertEqual((src, sport), (ip4(PROXY), 5060))
            if who == "alice":
                method = original.split(" ", 1)[0]
                self.assertEqual((dst_mac, dst, dport), (BOB_MAC, ip4(BOB), 5062))
                self.assertTrue(text.startswith(f"{method} sip:bob@198.18.0.20:5062 SIP/2.0\r\n"), text)
                self.assertIsNotNone(self.our_branch(text), text)
                branches.append(self.our_branch(text))
                self.assertIn("\r\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bK74bf9;received=198.18.0.9;rport=5070\r\n",
                              text)
                self.assertIn("\r\nMax-Forwards: 69\r\n", text)
                self.assertIn(f"\r\nCSeq: 314159 {method}\r\n", text)
            else:
                self.assertEqual((dst_mac, dst, dport), (ALICE_MAC, ip4(ALICE), 5070))
                self.assertEqual(text, re.sub(r"\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;[^\r]*", "", original, count=1))
        self.assertEqual(branches[1], branches[0])  # the CANCEL: the INVITE's branch

    # RFC 3261 §17.1.1.3 / §17.2.3: the ACK of a non-2xx answer takes the INVITE's branch, so the
    # callee's INVITE server transaction matches it (and stops retransmitting its 487).
    def test_the_ack_of_a_487_keeps_the_invite_branch_statelessly(self):
        forwarded, _ = self.cancelled_call()
        invite, ack = decode_udp(self, forwarded[0][2])[5], decode_udp(self, forwarded[5][2])[5]
        self.assertTrue(ack.startswith("ACK sip:bob@198.18.0.20:5062 SIP/2.0\r\n"), ack)
        self.assertEqual(self.our_branch(ack), self.our_branch(invite))

def tagged(frame, vid):
    """The frame with an 802.1Q tag (priority 5, VLAN `vid`) after its MAC addresses."""
    return frame[:12] + b"\x81\x00" + struct.pack("!H", (5 << 13) | vid) + frame[12:]


ZERO_MAC, BROADCAST, EVIL_MAC = b"\0" * 6, b"\xff" * 6, bytes.fromhex("020000000066")
STATELESS = ('listen = ["udp:198.18.0.1:5060"]\nmode = "stateless"\ndomains = ["example.com"]\n'
             '[[location]]\nuser = "bob"\ndomain = "example.com"\ncontact = "sip:bob@198.18.0.20:5062"\n'
             '[metrics]\nlisten = ""\n')


def call_frames():
    """alice's call to bob (MESSAGES) as frames, alice and bob having asked for our address first."""
    frames = [arp_request(ALICE_MAC, ALICE, PROXY), arp_request(BOB_MAC, BOB, PROXY)]
    for who, text in MESSAGES:
        mac, src, port = (ALICE_MAC, ALICE, 5070) if who == "alice" else (BOB_MAC, BOB, 5062)
        frames.append(udp_frame(mac, PROXY_MAC, src, port, PROXY, 5060, sip(text)))
    return frames


class FragmentFlood(unittest.TestCase):
    def test_a_flood_of_first_fragments_leaves_the_call_through(self):
        # 5 000 first fragments that never complete, 20 datagrams from each of 250 sources, then a
        # whole call. Each would hold an mbuf for the 2 s the table waits: the bound per source and
        # a pool sized for the whole table keep the mbufs the call needs (before: the pool ran dry,
        # net_pcap lost every frame after and the call never went through).
        flood = []
        for ident in range(20):
            for src in range(250):
                flood.append(fragments(bytes([2, 0, 0, 1, src // 256, src % 256]), PROXY_MAC,
                                       f"198.51.{src // 200}.{src % 200 + 1}", 40000, PROXY, 5060, b"x" * 600,
                                       1000 + ident)[0])
        out, err = replay(self, flood + call_frames(), STATELESS)
        t = totals(err)
        self.assertEqual(counts(t), (3, 3, 3, 3), err)
        out = [f for f in out if f[12:14] != b"\x08\x06"]
        self.assertEqual(len(out), 6, err)
        for frame, (start, to) in zip(out, [("INVITE", BOB_MAC), ("SIP/2.0 180", ALICE_MAC), ("SIP/2.0 200", ALICE_MAC),
                                            ("ACK", BOB_MAC), ("BYE", BOB_MAC), ("SIP/2.0 200", ALICE_MAC)]):
            dst_mac, _, _, _, _, text = decode_udp(self, frame)
            self.assertTrue(text.startswith(start), text)
            self.assertEqual(dst_mac, to)
        # Past 8 a source, and past 1024 incomplete datagrams in all, a new one is refused.
        self.assertGreaterEqual(t.get("fragments refused", 0), 5000 - 1024, err)
        self.assertEqual(t.get("reassembled"), 0, err)
        self.assertIn("fragment tables", err)  # the pool's budget is logged at start


class NeighbourPoisoning(unittest.TestCase):
    def test_forged_arp_and_udp_do_not_move_a_known_neighbour(self):
        # bob is known (his ARP request for our address). Then someone at EVIL_MAC claims bob's
        # address, one way per replay: an ARP reply nobody asked for, gratuitous ARP (a request and
        # a broadcast reply), an ARP request for our address, a SIP request (OPTIONS, which the
        # proxy accepts and answers) from bob's IP. alice's INVITE, after it, must still reach bob's
        # MAC (before: newest wins, and each of them sent it to EVIL_MAC).
        options = sip("OPTIONS sip:198.18.0.1 SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.20:5062;branch=z9hG4bKevil1\n"
                      "Max-Forwards: 70\nFrom: <sip:bob@example.com>;tag=e1\nTo: <sip:198.18.0.1>\n"
                      "Call-ID: evil-1@198.18.0.20\nCSeq: 1 OPTIONS\n\n")
        forgeries = [  # (what, frame, neighbour unsolicited, neighbour conflict)
            ("unsolicited ARP reply", arp_reply(EVIL_MAC, BOB, PROXY_MAC, PROXY), 1, 0),
            ("gratuitous ARP request", BROADCAST + EVIL_MAC + b"\x08\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1)
             + EVIL_MAC + ip4(BOB) + ZERO_MAC + ip4(BOB), 0, 0),
            ("gratuitous ARP reply", arp_reply(EVIL_MAC, BOB, ZERO_MAC, BOB, BROADCAST), 0, 0),
            ("ARP request for our address", arp_request(EVIL_MAC, BOB, PROXY), 0, 1),
            ("SIP request from bob's address", udp_frame(EVIL_MAC, PROXY_MAC, BOB, 5062, PROXY, 5060, options), 0, 1),
        ]
        call = call_frames()
        for what, forged, unsolicited, conflict in forgeries:
            with self.subTest(what):
                out, err = replay(self, call[:2] + [forged] + call[2:3], STATELESS)
                t = totals(err)
                udp = [decode_udp(self, f) for f in out if f[12:14] != b"\x08\x06"]
                invite = [u for u in udp if u[5].startswith("INVITE ")]
                self.assertEqual(len(invite), 1, err)
                self.assertEqual((invite[0][0], invite[0][2]), (BOB_MAC, ip4(BOB)), err)
                for dst_mac, _, dst, _, _, text in udp:  # the 200 to the OPTIONS too: bob's address, bob's MAC
                    self.assertEqual((dst_mac, dst), (BOB_MAC, ip4(BOB)), text)
                self.assertEqual(len(udp), 2 if forged[12:14] == b"\x08\x00" else 1, err)
                self.assertEqual((t.get("neighbour unsolicited"), t.get("neighbour conflict")), (unsolicited, conflict), err)

    def test_a_stale_neighbour_is_used_and_asked_about_again(self):
        # With a reachable time of 0 every neighbour is stale at once (aging itself is
        # neighbours_test's, on its own clock): the INVITE still goes to bob's MAC, after a fresh
        # ARP question about him.
        out, err = replay(self, call_frames()[:3], STATELESS, ["--neighbour-reachable-ms", "0"])
        self.assertEqual(len(out), 4, err)  # ARP reply to alice and bob, our question, the INVITE
        question, invite = out[2], out[3]
        self.assertEqual((question[0:6], question[12:14]), (BROADCAST, b"\x08\x06"))
        self.assertEqual(struct.unpack("!H", question[20:22])[0], 1)
        self.assertEqual((question[28:32], question[38:42]), (ip4(PROXY), ip4(BOB)))
        dst_mac, _, _, _, _, text = decode_udp(self, invite)
        self.assertEqual(dst_mac, BOB_MAC)
        self.assertTrue(text.startswith("INVITE sip:bob@198.18.0.20:5062 SIP/2.0\r\n"), text)


class Vlan(unittest.TestCase):
    def test_answers_and_forwards_keep_each_peers_vlan(self):
        # alice and bob speak to us on VLAN 7: the ARP replies, the INVITE to bob and the 180 back
        # to alice carry their tag (priority bits included); carol, untagged, gets untagged frames.
        first, ringing = MESSAGES[0][1], MESSAGES[1][1]
        carol_mac, carol = bytes.fromhex("020000000033"), "198.18.0.33"
        frames = [tagged(arp_request(ALICE_MAC, ALICE, PROXY), 7), tagged(arp_request(BOB_MAC, BOB, PROXY), 7),
                  arp_request(carol_mac, carol, PROXY),
                  tagged(udp_frame(ALICE_MAC, PROXY_MAC, ALICE, 5070, PROXY, 5060, sip(first)), 7),
                  tagged(udp_frame(BOB_MAC, PROXY_MAC, BOB, 5062, PROXY, 5060, sip(ringing)), 7),
                  udp_frame(carol_mac, PROXY_MAC, carol, 5090, PROXY, 5060,
                            sip("OPTIONS sip:198.18.0.1 SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.33:5090;branch=z9hG4bKo1\n"
                                "Max-Forwards: 70\nFrom: <sip:carol@example.com>;tag=c1\nTo: <sip:198.18.0.1>\n"
                                "Call-ID: o1@198.18.0.33\nCSeq: 1 OPTIONS\n\n"))]
        out, err = replay(self, frames, 'listen = ["udp:198.18.0.1:5060"]\nmode = "stateless"\ndomains = ["example.com"]\n'
                          '[[location]]\nuser = "bob"\ndomain = "example.com"\ncontact = "sip:bob@198.18.0.20:5062"\n'
                          '[metrics]\nlisten = ""\n')
        self.assertEqual(len(out), 6, err)
        tci = struct.pack("!H", (5 << 13) | 7)
        for f, dst in zip(out[:2], (ALICE_MAC, BOB_MAC)):  # ARP replies on the requests' VLAN
            self.assertEqual((f[0:6], f[12:14], f[14:16], f[16:18]), (dst, b"\x81\x00", tci, b"\x08\x06"))
        self.assertEqual((out[2][0:6], out[2][12:14]), (carol_mac, b"\x08\x06"))  # untagged
        for f, dst, start in ((out[3], BOB_MAC, "INVITE sip:bob@198.18.0.20:5062 SIP/2.0"),
                              (out[4], ALICE_MAC, "SIP/2.0 180 Ringing")):
            self.assertEqual((f[0:6], f[12:14], f[14:16]), (dst, b"\x81\x00", tci))
            self.assertTrue(decode_udp(self, f[:12] + f[16:])[5].startswith(start + "\r\n"))
        self.assertEqual(out[5][0:6], carol_mac)
        self.assertTrue(decode_udp(self, out[5])[5].startswith("SIP/2.0 200 OK\r\n"))


class Options(unittest.TestCase):
    def test_bad_options_are_refused_by_name(self):
        for args, message in ((["--seconds", "abc"], "--seconds abc: expected a whole number"),
                              (["--address", "198.18.0.1/40"], "--address 198.18.0.1/40: prefix is not 0..32"),
                              (["--bogus"], "unknown option --bogus")):
            r = subprocess.run([APP, "--no-huge", "-m", "128", "--no-shconf", "--no-pci", "-l", "0", "--log-level",
                                "lib.eal:error", "--vdev", "net_null0", "--", *args],
                               capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
            err = r.stderr.decode(errors="replace")
            if "EAL initialisation failed" in err:
                raise unittest.SkipTest("DPDK cannot run here: " + err[-300:])
            self.assertEqual(r.returncode, 2, err)
            self.assertIn("sipfast-dpdk: error: " + message, err)

    def test_a_pool_too_small_or_too_large_is_refused_with_its_budget(self):
        # The pool is sized for the rings, the caches, the bursts, the fragment tables and the
        # messages an outbox holds in their mbufs: a
        # dpdk.mbufs below that is refused with the breakdown (2), and so is a pool EAL's memory
        # cannot hold (1: -m 40 --no-huge makes about 8 000 mbufs at most, one worker needs 11 297).
        tmp = tempfile.mkdtemp(prefix="sipfast-dpdk-")
        self.addCleanup(shutil.rmtree, tmp, True)
        base = 'listen = ["udp:198.18.0.1:5060"]\n[metrics]\nlisten = ""\n[registrar]\ndatabase = ""\n'
        budget = "rings 2048 + lcore caches 384 + bursts in flight 128 + fragment tables 8480 + outboxes 257"
        for memory, extra, status, message in (
                ("128", "[dpdk]\nmbufs = 1000\n", 2, f"dpdk.mbufs 1000 is too small: 11297 needed ({budget})"),
                ("40", "", 1, f"mbuf pool of 11297 mbufs (24 MiB) could not be made: Cannot allocate memory; it holds {budget}. "
                              "Give EAL more memory (-m, hugepages)")):
            cfg = os.path.join(tmp, "pool.toml")
            with open(cfg, "w") as f:
                f.write(base + extra)
            r = subprocess.run([APP, "--no-huge", "-m", memory, "--no-shconf", "--no-pci", "-l", "0", "--log-level",
                                "lib.eal:error", "--vdev", "net_null0", "--", "--config", cfg],
                               capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
            err = r.stderr.decode(errors="replace")
            if "EAL initialisation failed" in err:
                raise unittest.SkipTest("DPDK cannot run here: " + err[-300:])
            self.assertEqual(r.returncode, status, err)
            self.assertIn("sipfast-dpdk: error: " + message, err)


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    # Meson reports 77 as skipped: a machine that cannot run DPDK must not look like a pass (any
    # skip is reported: one in setUpClass counts no test run).
    sys.exit(1 if not result.wasSuccessful() else 77 if result.skipped else 0)
