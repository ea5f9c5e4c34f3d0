#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""SIP over TCP through sipfastd (the kernel slow path): a SIPp caller on TCP reaching a callee on
UDP and back, a UDP caller reaching a TCP callee over the connection the proxy opens, a request too
large for UDP moved to TCP (RFC 3261 §18.1.1), stream framing (split and pipelined messages,
RFC 5626 keep-alives, a framing fault answered and the connection closed), and the connection
limits and idle timeout. Usage: tcp_test.py SIPFASTD SIPP_SCENARIO_DIR"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (DEFAULT_T1_MS, Daemon, DaemonClass, sipp_calls, StreamReader, all_headers, arrivals, free_port, header,
                     ipv6_loopback_port, main, need, outlasting_t1, tcp_listener, udp_socket, unmarked)

SIPFASTD = sys.argv.pop(1)
SCENARIOS = sys.argv.pop(1)
SIPP = shutil.which("sipp")


def crlf(text):
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def sip(start, headers, body=""):
    return crlf(start + "\n" + "\n".join(headers) + f"\nContent-Length: {len(body.encode())}\n\n").encode() + body.encode()


def answer(request, status, contact, tag=";tag=callee1"):
    """A response to `request` as received: its Vias, Record-Routes, From, To (tagged), Call-ID, CSeq."""
    hs = [f"Via: {v}" for v in all_headers(request, "Via")]
    hs += [f"Record-Route: {v}" for v in all_headers(request, "Record-Route")]
    hs += [f"From: {header(request, 'From')}", f"To: {header(request, 'To')}{tag}",
           f"Call-ID: {header(request, 'Call-ID')}", f"CSeq: {header(request, 'CSeq')}", f"Contact: {contact}"]
    return sip(f"SIP/2.0 {status}", hs)


class TcpProxy(DaemonClass, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-tcp-")
        cls.port = free_port()
        cls.bob, cls.tom, cls.big = free_port(), free_port(socket.SOCK_STREAM), free_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"]
mode = "stateful"
workers = 2
domains = ["127.0.0.1"]
[[location]]
user = "bob"
domain = "127.0.0.1"
contact = "sip:bob@127.0.0.1:{cls.bob}"
[[location]]
user = "tom"
domain = "127.0.0.1"
contact = "sip:tom@127.0.0.1:{cls.tom};transport=tcp"
[[location]]
user = "big"
domain = "127.0.0.1"
contact = "sip:big@127.0.0.1:{cls.big}"
""")

    def connect(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        self.addCleanup(s.close)
        return s

    def udp(self):
        s = udp_socket()
        self.addCleanup(s.close)
        return s

    def options(self, cseq, local_port):
        return sip(f"OPTIONS sip:127.0.0.1:{self.port} SIP/2.0",
                   [f"Via: SIP/2.0/TCP 127.0.0.1:{local_port};branch=z9hG4bKopt{cseq}{time.time_ns()}",
                    "Max-Forwards: 70", "From: <sip:alice@127.0.0.1>;tag=a1", "To: <sip:127.0.0.1>",
                    f"Call-ID: opt{time.time_ns()}@127.0.0.1", f"CSeq: {cseq} OPTIONS"])

    def test_a_tcp_caller_reaches_a_udp_callee(self):
        need("sipp", "sip-tester")
        calls = 3
        trace = sipp_calls(SIPP, SCENARIOS, self.tmp, self.port, self.bob, calls, uac_transport="t1")
        invites = re.findall(r"message received[^\n]*\n\n(INVITE .*?)\n\n", trace, re.S)
        byes = re.findall(r"message received[^\n]*\n\n(BYE .*?)\n\n", trace, re.S)
        self.assertEqual((len(invites), len(byes)), (calls, calls))
        # RFC 5658: both sides recorded, the one facing the callee first.
        self.assertEqual([unmarked(v) for v in all_headers(invites[0], "Record-Route")],
                         [f"<sip:127.0.0.1:{self.port};lr>", f"<sip:127.0.0.1:{self.port};transport=tcp;lr>"])
        vias = all_headers(invites[0], "Via")
        self.assertTrue(vias[0].startswith(f"SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bKsf"), vias)
        self.assertRegex(vias[1], r"^SIP/2.0/TCP .*;received=127\.0\.0\.1;rport=\d+")
        self.assertTrue(all_headers(byes[0], "Via")[0].startswith(f"SIP/2.0/UDP 127.0.0.1:{self.port}"))
        self.assertIsNone(header(byes[0], "Route"))  # both of our Route entries were taken off

    def test_messages_are_framed_across_and_within_segments(self):
        s = self.connect()
        port = s.getsockname()[1]
        first = self.options(1, port)
        for i in range(0, len(first), 50):  # one message in pieces
            s.sendall(first[i:i + 50])
            time.sleep(0.01)
        s.sendall(self.options(2, port) + self.options(3, port) + b"\r\n\r\n")  # two and a ping in one
        r = StreamReader(s)
        got = sorted(header(r.message(), "CSeq") for _ in range(3))
        self.assertEqual(got, ["1 OPTIONS", "2 OPTIONS", "3 OPTIONS"])
        deadline = time.time() + 3
        while r.pongs == 0 and time.time() < deadline:
            r.closed(0.1)
        self.assertEqual(r.pongs, 1)

    def test_a_framing_fault_is_answered_then_the_connection_closed(self):
        s = self.connect()
        port = s.getsockname()[1]
        msg = self.options(1, port).replace(b"Content-Length: 0\r\n", b"")
        s.sendall(msg)
        r = StreamReader(s)
        self.assertTrue(r.closed())
        reply = r.buf.decode()
        self.assertTrue(reply.startswith("SIP/2.0 400 Missing Content-Length on a stream"), reply)

    def test_a_udp_caller_reaches_a_tcp_callee_over_the_connection_the_proxy_opens(self):
        callee = tcp_listener(self.tom)
        self.addCleanup(callee.close)
        caller = self.udp()
        cport = caller.getsockname()[1]
        proxy = ("127.0.0.1", self.port)
        invite = sip(f"INVITE sip:tom@127.0.0.1:{self.port} SIP/2.0",
                     [f"Via: SIP/2.0/UDP 127.0.0.1:{cport};branch=z9hG4bKinv{time.time_ns()};rport",
                      "Max-Forwards: 70", "From: <sip:alice@127.0.0.1>;tag=a1", "To: <sip:tom@127.0.0.1>",
                      "Call-ID: tcpcallee@127.0.0.1", "CSeq: 1 INVITE", f"Contact: <sip:alice@127.0.0.1:{cport}>"])
        caller.sendto(invite, proxy)
        self.assertTrue(caller.recv(65535).startswith(b"SIP/2.0 100 Trying"))
        conn, _ = callee.accept()
        self.addCleanup(conn.close)
        tom = StreamReader(conn)
        got = tom.message()
        self.assertTrue(got.startswith(f"INVITE sip:tom@127.0.0.1:{self.tom};transport=tcp SIP/2.0"), got)
        self.assertTrue(all_headers(got, "Via")[0].startswith(f"SIP/2.0/TCP 127.0.0.1:{self.port};branch=z9hG4bKsf"))
        self.assertEqual([unmarked(v) for v in all_headers(got, "Record-Route")],
                         [f"<sip:127.0.0.1:{self.port};transport=tcp;lr>", f"<sip:127.0.0.1:{self.port};lr>"])
        conn.sendall(answer(got, "200 OK", f"<sip:tom@127.0.0.1:{self.tom};transport=tcp>"))
        ok = caller.recv(65535).decode()
        self.assertTrue(ok.startswith("SIP/2.0 200 OK"), ok)
        self.assertEqual(len(all_headers(ok, "Via")), 1)
        # The callee hangs up on the same connection, by its route set; the BYE reaches the caller
        # over UDP and the 200 goes back over the connection.
        routes = all_headers(got, "Record-Route")
        bye = sip(f"BYE sip:alice@127.0.0.1:{cport} SIP/2.0",
                  [f"Via: SIP/2.0/TCP 127.0.0.1:{self.tom};branch=z9hG4bKbye{time.time_ns()}", "Max-Forwards: 70"]
                  + [f"Route: {r}" for r in routes]
                  + ["From: <sip:tom@127.0.0.1>;tag=callee1", "To: <sip:alice@127.0.0.1>;tag=a1",
                     "Call-ID: tcpcallee@127.0.0.1", "CSeq: 1 BYE"])
        conn.sendall(bye)
        got_bye = caller.recv(65535).decode()
        self.assertTrue(got_bye.startswith(f"BYE sip:alice@127.0.0.1:{cport} SIP/2.0"), got_bye)
        self.assertTrue(all_headers(got_bye, "Via")[0].startswith(f"SIP/2.0/UDP 127.0.0.1:{self.port}"))
        self.assertIsNone(header(got_bye, "Route"))
        caller.sendto(answer(got_bye, "200 OK", f"<sip:alice@127.0.0.1:{cport}>", tag=""), proxy)
        self.assertTrue(tom.message().startswith("SIP/2.0 200 OK"))

    def test_a_request_too_large_for_udp_goes_over_tcp(self):
        callee_tcp = tcp_listener(self.big)
        self.addCleanup(callee_tcp.close)
        callee_udp = udp_socket(self.big)
        self.addCleanup(callee_udp.close)
        caller = self.udp()
        cport = caller.getsockname()[1]
        body = "v=0\r\n" + "".join(f"a=x-filler:{i:04d} {'y' * 60}\r\n" for i in range(20))  # ~1.4 KB of SDP
        invite = sip(f"INVITE sip:big@127.0.0.1:{self.port} SIP/2.0",
                     [f"Via: SIP/2.0/UDP 127.0.0.1:{cport};branch=z9hG4bKbig{time.time_ns()};rport",
                      "Max-Forwards: 70", "From: <sip:alice@127.0.0.1>;tag=a2", "To: <sip:big@127.0.0.1>",
                      f"Call-ID: big{time.time_ns()}@127.0.0.1", "CSeq: 7 INVITE", "Content-Type: application/sdp",
                      f"Contact: <sip:alice@127.0.0.1:{cport}>"], body)
        self.assertGreater(len(invite), 1300)
        caller.sendto(invite, ("127.0.0.1", self.port))
        conn, _ = callee_tcp.accept()
        self.addCleanup(conn.close)
        big = StreamReader(conn)
        got = big.message()
        self.assertTrue(got.startswith(f"INVITE sip:big@127.0.0.1:{self.big} SIP/2.0"))
        self.assertTrue(all_headers(got, "Via")[0].startswith(f"SIP/2.0/TCP 127.0.0.1:{self.port}"))
        self.assertTrue(got.endswith(body))
        conn.sendall(answer(got, "486 Busy Here", f"<sip:big@127.0.0.1:{self.big}>"))
        while True:  # 100 Trying first
            resp = caller.recv(65535).decode()
            if not resp.startswith("SIP/2.0 100"):
                break
        self.assertTrue(resp.startswith("SIP/2.0 486 Busy Here"), resp)
        ack = big.message()  # the proxy's hop-by-hop ACK, on the same connection
        self.assertTrue(ack.startswith(f"ACK sip:big@127.0.0.1:{self.big} SIP/2.0"), ack)
        self.assertEqual(header(ack, "CSeq"), "7 ACK")
        # Nothing reaches it over UDP, not even later: a retransmission sent the wrong way would come
        # at T1. (T1 stays at its default in this class: its SIPp test counts the INVITEs the callee
        # gets, which a shorter Timer A would race on a loaded machine.)
        self.assertEqual(arrivals(callee_udp, outlasting_t1(DEFAULT_T1_MS)), [])


class TcpLimits(DaemonClass, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-tcplim-")
        cls.port = free_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"]
workers = 1
[tcp]
max_connections_per_ip = 3
idle_timeout_s = 1
""")

    def ping(self, s):
        s.sendall(b"\r\n\r\n")
        s.settimeout(3)
        return s.recv(16)

    def test_connections_beyond_the_per_address_limit_are_closed(self):
        held = [socket.create_connection(("127.0.0.1", self.port), timeout=3) for _ in range(3)]
        try:
            for s in held:
                self.assertEqual(self.ping(s), b"\r\n")
            extra = socket.create_connection(("127.0.0.1", self.port), timeout=3)
            with extra:
                self.assertTrue(StreamReader(extra).closed())
            held.pop().close()
            time.sleep(0.3)
            with socket.create_connection(("127.0.0.1", self.port), timeout=3) as again:
                self.assertEqual(self.ping(again), b"\r\n")
        finally:
            for s in held:
                s.close()

    def test_an_idle_connection_is_closed(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=3) as s:
            self.assertEqual(self.ping(s), b"\r\n")
            started = time.time()
            self.assertTrue(StreamReader(s).closed(timeout=5))
            self.assertGreater(time.time() - started, 0.9)


class TcpIpv6(unittest.TestCase):
    def test_options_over_tcp_on_ipv6_loopback(self):
        port = ipv6_loopback_port()
        tmp = tempfile.mkdtemp(prefix="sipfast-tcp6-")
        self.addCleanup(shutil.rmtree, tmp, True)
        proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:[::1]:{port}", "tcp:[::1]:{port}"]\nworkers = 1\n')
        self.addCleanup(proxy.stop)
        with socket.create_connection(("::1", port), timeout=3) as s:
            local = s.getsockname()[1]
            s.sendall(sip(f"OPTIONS sip:[::1]:{port} SIP/2.0",
                          [f"Via: SIP/2.0/TCP [::1]:{local};branch=z9hG4bKv6{time.time_ns()};rport", "Max-Forwards: 70",
                           "From: <sip:alice@[::1]>;tag=a1", "To: <sip:[::1]>", "Call-ID: v6@[::1]", "CSeq: 1 OPTIONS"]))
            reply = StreamReader(s).message()
        self.assertTrue(reply.startswith("SIP/2.0 200 OK"), reply)
        self.assertEqual(header(reply, "Via"),
                         f"SIP/2.0/TCP [::1]:{local};branch={header(reply, 'Via').split('branch=')[1].split(';')[0]};"
                         f"received=[::1];rport={local}")


if __name__ == "__main__":
    main()
