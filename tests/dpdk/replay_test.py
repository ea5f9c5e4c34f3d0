#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfast-dpdk replaying a call from a pcap with net_pcap, no kernel in the path: ARP, then
INVITE..BYE between alice and bob through the stateless proxy; the frames it transmits are read back
from the tx pcap and checked one by one (Ethernet and IP addresses, UDP ports, the SIP edits).
Usage: replay_test.py SIPFAST_DPDK"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

APP = sys.argv.pop(1)

PROXY_MAC, ALICE_MAC, BOB_MAC = bytes.fromhex("020000000001"), bytes.fromhex("020000000009"), bytes.fromhex("020000000020")
GATEWAY_MAC = bytes.fromhex("0200000000fe")
PROXY, ALICE, BOB, GATEWAY, CAROL = "198.18.0.1", "198.18.0.9", "198.18.0.20", "198.18.0.254", "198.19.5.5"


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


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


CALL = "Call-ID: replay-1@198.18.0.9\nFrom: <sip:alice@example.com>;tag=a1\n"
OUR_VIA = "Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bKsf0000.0123456789abcdef.fedcba9876543210\n"
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
              "Route: <sip:198.18.0.1:5060;lr>\nMax-Forwards: 70\n" + CALL + "To: <sip:bob@example.com>;tag=b1\n"
              "CSeq: 1 ACK\n\n"),
    ("alice", "BYE sip:bob@198.18.0.20:5062 SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKbye1;rport\n"
              "Route: <sip:198.18.0.1:5060;lr>\nMax-Forwards: 70\n" + CALL + "To: <sip:bob@example.com>;tag=b1\n"
              "CSeq: 2 BYE\n\n"),
    ("bob", "SIP/2.0 200 OK\n" + OUR_VIA + "Via: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKbye1;received=198.18.0.9;"
            "rport=5070\n" + CALL + "To: <sip:bob@example.com>;tag=b1\nCSeq: 2 BYE\n\n"),
]


class Replay(unittest.TestCase):
    def test_a_call_replayed_from_pcap(self):
        tmp = tempfile.mkdtemp(prefix="sipfast-dpdk-")
        self.addCleanup(shutil.rmtree, tmp, True)
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
        rx, tx = os.path.join(tmp, "rx.pcap"), os.path.join(tmp, "tx.pcap")
        write_pcap(rx, frames)
        cfg = os.path.join(tmp, "dpdk.toml")
        with open(cfg, "w") as f:
            f.write('listen = ["udp:198.18.0.1:5060"]\nmode = "stateless"\ndomains = ["example.com"]\n'
                    '[[location]]\nuser = "bob"\ndomain = "example.com"\ncontact = "sip:bob@198.18.0.20:5062"\n'
                    '[[location]]\nuser = "carol"\ndomain = "example.com"\ncontact = "sip:carol@198.19.5.5:5060"\n'
                    '[metrics]\nlisten = ""\n')
        try:
            r = subprocess.run([APP, "--no-huge", "-m", "256", "--no-shconf", "--no-pci", "-l", "0", "--log-level", "lib.eal:error",
                                "--vdev", f"net_pcap0,rx_pcap={rx},tx_pcap={tx}", "--",
                                "--config", cfg, "--exit-when-idle", "300", "--address", "198.18.0.1/24",
                                "--gateway", GATEWAY],
                               capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.fail("sipfast-dpdk did not finish the replay")
        err = r.stderr.decode(errors="replace")
        if r.returncode != 0 and ("Permission denied" in err or "EAL initialisation failed" in err):
            raise unittest.SkipTest("DPDK cannot run here: " + err[-500:])
        self.assertEqual(r.returncode, 0, err)
        out = read_pcap(tx)
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
            self.assertEqual(frame[12:14], b"\x08\x00")
            ihl = (frame[14] & 15) * 4
            self.assertEqual(csum(frame[14:14 + ihl]), 0)  # our IPv4 header checksum verifies
            src, dst = frame[26:30], frame[30:34]
            sport, dport, length = struct.unpack("!HHH", frame[14 + ihl:14 + ihl + 6])
            return frame[0:6], src, dst, sport, dport, frame[14 + ihl + 8:14 + ihl + length].decode()

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
        self.assertIn("\r\nRecord-Route: <sip:198.18.0.1:5060;lr>\r\n", invite)
        self.assertIn(";received=198.18.0.9;rport=5070", invite)
        self.assertTrue(invite.endswith("\r\n\r\nv=0\r\n"))
        self.assertIn("requests 5 (forwarded 5), responses 3 (forwarded 3)", err)
        # 3. carol's INVITE to the gateway's MAC, her own address in IP.
        dst_mac, src, dst, sport, dport, text = udp(out[6])
        self.assertEqual((dst_mac, dst, dport), (GATEWAY_MAC, ip4(CAROL), 5060))
        self.assertTrue(text.startswith("INVITE sip:carol@198.19.5.5:5060 SIP/2.0\r\n"), text)
        # 4. The reassembled MESSAGE, whole, to bob.
        dst_mac, src, dst, sport, dport, text = udp(out[7])
        self.assertEqual((dst_mac, dst, dport), (BOB_MAC, ip4(BOB), 5062))
        self.assertTrue(text.startswith("MESSAGE sip:bob@198.18.0.20:5062 SIP/2.0\r\n"), text)
        self.assertTrue(text.endswith("\r\n\r\n" + "x" * 500), text[-80:])


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


if __name__ == "__main__":
    result = unittest.main(verbosity=2, exit=False).result
    if not result.wasSuccessful():
        sys.exit(1)
    # Meson reports 77 as skipped: a machine that cannot run DPDK must not look like a pass.
    sys.exit(77 if result.skipped and len(result.skipped) == result.testsRun else 0)
