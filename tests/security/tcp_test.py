#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""TCP hardening (issue 16, "keeps a slow sender's half header forever, counts outbound connections
against the inbound limit, and limits per full IPv6 address"), each against a real sipfastd:
- a message deadline: senders dribbling a header (or a body) a byte every 100 ms are closed at
  [tcp] message_timeout_ms from their first byte, and counted, while fresh connections go on being
  served; keep-alives and pauses between messages start no deadline;
- max_connections_per_ip counts an IPv6 /64 as one address (ten addresses of one /64 share it; another
  /64 has its own), IPv4 addresses one by one;
- outbound connections have their own budget: with max_connections inbound connections open,
  sipfastd still opens connections to TCP callees, those do not lock callers out, and an open beyond
  max_outbound_connections is refused and counted.
As root the whole file runs in a network namespace it makes and removes, where the IPv6 test gives
its loopback addresses in 2001:db8::/64 and 2001:db8:0:1::/64; otherwise that test is skipped.
Usage: tcp_test.py SIPFASTD"""
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
from harness import (Daemon, DaemonClass, StreamReader, all_headers, free_port, header, main, metric,  # noqa: E402
                     need, tcp_listener, udp_socket)

SIPFASTD = os.path.abspath(sys.argv.pop(1))
NETNS_ENV = "SIPFAST_TCP_TEST_NETNS"  # set inside the namespace the test made
PREFIX, OTHER_PREFIX = "2001:db8::", "2001:db8:0:1::"
PROXY6 = PREFIX + "1"
TICK = 0.1  # the slow senders' pace: a byte every 100 ms


def sip(start, headers, body=""):
    return ("\r\n".join([start, *headers, f"Content-Length: {len(body.encode())}", "", ""])).encode() + body.encode()


def options(host, port, local_port, n, extra=()):
    return sip(f"OPTIONS sip:{host}:{port} SIP/2.0",
               [f"Via: SIP/2.0/TCP {host}:{local_port};branch=z9hG4bKopt{n}x{time.time_ns()};rport", "Max-Forwards: 70",
                "From: <sip:alice@127.0.0.1>;tag=a1", f"To: <sip:{host}>", f"Call-ID: opt{n}x{time.time_ns()}@127.0.0.1",
                f"CSeq: {n} OPTIONS", *extra])


def message(user, port, via, call_id):
    return sip(f"MESSAGE sip:{user}@127.0.0.1:{port} SIP/2.0",
               [f"Via: {via};branch=z9hG4bKmsg{call_id.split('@')[0]}x{time.time_ns()};rport", "Max-Forwards: 70",
                "From: <sip:alice@127.0.0.1>;tag=a1", f"To: <sip:{user}@127.0.0.1>", f"Call-ID: {call_id}",
                "CSeq: 1 MESSAGE", "Content-Type: text/plain"], "hello")


def answer(request, status):
    """A response to `request` as received: its Vias, From, To (tagged), Call-ID, CSeq."""
    hs = [f"Via: {v}" for v in all_headers(request, "Via")]
    hs += [f"From: {header(request, 'From')}", f"To: {header(request, 'To')};tag=callee",
           f"Call-ID: {header(request, 'Call-ID')}", f"CSeq: {header(request, 'CSeq')}"]
    return sip(f"SIP/2.0 {status}", hs)


def connect(host, port, source=None, family=socket.AF_INET):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    return s


def pings(s):
    """Whether the proxy answers a keep-alive on `s` (so it accepted the connection and serves it)."""
    try:
        s.sendall(b"\r\n\r\n")
        s.settimeout(5)
        return s.recv(16) == b"\r\n"
    except OSError:
        return False


class Counters:
    """Reads the proxy's Prometheus counters."""

    def counter(self, name, **labels):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            return metric(r.read().decode(), "sipfast_" + name, **labels)

    def wait_counter(self, value, name, seconds=10, **labels):
        """Waits (bounded) until the counter reaches `value` and returns what it last read."""
        deadline = time.monotonic() + seconds
        while True:
            got = self.counter(name, **labels)
            if got == value or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


class Dribbler:
    """A slowloris: sends `head` at once (may be empty), then `tail` a byte per tick, and notes when the
    proxy closes the connection."""

    def __init__(self, port, head, tail):
        self.sock = connect("127.0.0.1", port)
        self.sock.setblocking(False)  # with a timeout Python would wait for input before recv
        self.head, self.tail = head, tail
        self.sent = 0       # bytes of `tail` sent
        self.first = None   # when the message's first byte left
        self.closed = None  # when we saw the proxy close

    def tick(self):
        if self.closed is not None:
            return
        try:
            if self.first is None:
                self.first = time.monotonic()
                if self.head:
                    self.sock.sendall(self.head)
            if self.sent < len(self.tail):
                self.sock.send(self.tail[self.sent:self.sent + 1])
                self.sent += 1
            if self.sock.recv(1, socket.MSG_DONTWAIT) == b"":
                self.closed = time.monotonic()
        except BlockingIOError:
            pass  # open, nothing to read: the proxy waits for more
        except OSError:  # reset, broken pipe: closed by the proxy
            self.closed = time.monotonic()


class MessageDeadline(Counters, DaemonClass, unittest.TestCase):
    TIMEOUT_S = 1.0

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-tcpdl-")
        cls.port = free_port()
        # The idle timeout is far off: only the message deadline can close a dribbling sender.
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"]
workers = 2
[tcp]
message_timeout_ms = {int(cls.TIMEOUT_S * 1000)}
idle_timeout_s = 120
""")

    def served(self, n):
        """An OPTIONS on a fresh connection, answered 200."""
        with connect("127.0.0.1", self.port) as s:
            s.sendall(options("127.0.0.1", self.port, s.getsockname()[1], n))
            reply = StreamReader(s).message(timeout=5)
        self.assertTrue(reply.startswith("SIP/2.0 200 OK"), reply)

    def test_slow_senders_are_closed_at_their_deadline_while_others_are_served(self):
        before = self.counter("tcp_connections_closed_total", reason="slow")
        # Long enough that 30 s of dribbling (past every bound below) never completes it.
        padding = ["Subject: " + "s" * 400]
        whole = options("127.0.0.1", self.port, 5060, 1, padding)
        headers = options("127.0.0.1", self.port, 5060, 2).replace(b"Content-Length: 0", b"Content-Length: 400")
        slow = [Dribbler(self.port, b"", whole), Dribbler(self.port, b"", whole),
                Dribbler(self.port, headers, b"b" * 400)]  # headers whole at once, the body dribbled
        # A quiet connection between messages is not slow: it stays open throughout.
        quiet = connect("127.0.0.1", self.port)
        self.addCleanup(quiet.close)
        for d in slow:
            self.addCleanup(d.sock.close)
        served = 0
        started = time.monotonic()
        while any(d.closed is None for d in slow) and time.monotonic() - started < 30:
            for d in slow:
                d.tick()
            self.served(served)  # a fresh connection, served while the slow ones hold theirs
            served += 1
            time.sleep(TICK)
        for i, d in enumerate(slow):
            self.assertIsNotNone(d.closed, f"slow sender {i} still open after {time.monotonic() - started:.1f} s, "
                                           f"{d.sent} bytes dribbled")
            took = d.closed - d.first
            # Not before its deadline (the proxy saw the first byte after we sent it), and at it:
            # the proxy checks every 250 ms; the rest is room for a slow, loaded machine.
            self.assertGreaterEqual(took, self.TIMEOUT_S - 0.05, f"slow sender {i}")
            self.assertLess(took, self.TIMEOUT_S + 5, f"slow sender {i}")
            self.assertGreater(d.sent, 3, f"slow sender {i}: closed before it dribbled")  # not the idle timer
            self.assertLess(d.sent, len(d.tail), f"slow sender {i}: its message came whole")
        self.assertGreater(served, 3)
        self.served(served)
        self.assertTrue(pings(quiet), "a connection with no message under way was closed")
        self.assertEqual(self.wait_counter(before + 3, "tcp_connections_closed_total", reason="slow"), before + 3)
        self.assertEqual(self.counter("tcp_connections_closed_total", reason="idle"), 0)

    def test_keepalives_and_pauses_between_messages_start_no_deadline(self):
        before = self.counter("tcp_connections_closed_total", reason="slow")
        s = connect("127.0.0.1", self.port)
        self.addCleanup(s.close)
        r = StreamReader(s)
        port = s.getsockname()[1]
        s.sendall(options("127.0.0.1", self.port, port, 1))
        self.assertTrue(r.message(timeout=5).startswith("SIP/2.0 200 OK"))
        # Keep-alives for twice the deadline, each answered.
        pongs = 0
        end = time.monotonic() + 2 * self.TIMEOUT_S
        while time.monotonic() < end:
            s.sendall(b"\r\n\r\n")
            s.settimeout(5)
            self.assertEqual(s.recv(2), b"\r\n")
            pongs += 1
            time.sleep(0.25)
        self.assertGreater(pongs, 1)
        # Half a keep-alive held past the deadline, then its other half.
        s.sendall(b"\r\n")
        time.sleep(1.5 * self.TIMEOUT_S)
        s.sendall(b"\r\n")
        self.assertEqual(s.recv(2), b"\r\n")
        time.sleep(1.5 * self.TIMEOUT_S)  # a pause between messages
        # A message in pieces that come within its deadline.
        msg = options("127.0.0.1", self.port, port, 2)
        step = len(msg) // 5 + 1
        for i in range(0, len(msg), step):
            s.sendall(msg[i:i + step])
            time.sleep(self.TIMEOUT_S / 10)
        self.assertTrue(r.message(timeout=5).startswith("SIP/2.0 200 OK"))
        self.assertFalse(r.closed(timeout=0.5))
        self.assertEqual(self.counter("tcp_connections_closed_total", reason="slow"), before)


class PerAddressLimit(Counters, DaemonClass, unittest.TestCase):
    LIMIT = 4

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-tcp64-")
        cls.port = free_port(socket.SOCK_STREAM)
        cls.inside = bool(os.environ.get(NETNS_ENV))
        v6 = f', "tcp:[{PROXY6}]:{cls.port}"' if cls.inside else ""
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"{v6}]
workers = 1
[tcp]
max_connections_per_ip = {cls.LIMIT}
""")

    def hold(self, sockets):
        for s in sockets:
            self.addCleanup(s.close)
        return sockets

    def test_ten_addresses_of_one_ipv6_64_share_the_limit(self):
        if not self.inside:
            raise unittest.SkipTest("needs root to make a network namespace with addresses in 2001:db8::/64")
        before = self.counter("tcp_connections_refused_total", limit="per_ip")
        ten = self.hold([connect(PROXY6, self.port, f"{PREFIX}{0x10 + i:x}", socket.AF_INET6) for i in range(10)])
        # Each in turn, so the first LIMIT are the ones accepted: answered; the other six closed at accept.
        served = [pings(s) for s in ten]
        self.assertEqual(served, [True] * self.LIMIT + [False] * (10 - self.LIMIT))
        self.assertEqual(self.wait_counter(before + 10 - self.LIMIT, "tcp_connections_refused_total", limit="per_ip"),
                         before + 10 - self.LIMIT)
        # Another /64 has an allowance of its own.
        other = self.hold([connect(PROXY6, self.port, f"{OTHER_PREFIX}{0x10 + i:x}", socket.AF_INET6)
                           for i in range(self.LIMIT)])
        self.assertEqual([pings(s) for s in other], [True] * self.LIMIT)
        # A connection of the /64 closing gives its place back to any address of the /64.
        ten[0].close()
        deadline = time.monotonic() + 10
        while True:
            s = self.hold([connect(PROXY6, self.port, f"{PREFIX}99", socket.AF_INET6)])[0]
            if pings(s) or time.monotonic() > deadline:
                break
        self.assertTrue(pings(s))

    def test_ipv4_addresses_are_limited_one_by_one(self):
        before = self.counter("tcp_connections_refused_total", limit="per_ip")
        two = self.hold([connect("127.0.0.1", self.port, "127.0.0.2") for _ in range(self.LIMIT + 1)])
        self.assertEqual([pings(s) for s in two], [True] * self.LIMIT + [False])
        three = self.hold([connect("127.0.0.1", self.port, "127.0.0.3") for _ in range(self.LIMIT)])
        self.assertEqual([pings(s) for s in three], [True] * self.LIMIT)
        self.assertEqual(self.wait_counter(before + 1, "tcp_connections_refused_total", limit="per_ip"), before + 1)


class OutboundBudget(Counters, DaemonClass, unittest.TestCase):
    INBOUND, OUTBOUND = 2, 3

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-tcpout-")
        cls.port = free_port()
        cls.callees = [free_port(socket.SOCK_STREAM) for _ in range(cls.OUTBOUND + 1)]
        locations = "".join(f"""
[[location]]
user = "tom{i}"
domain = "127.0.0.1"
contact = "sip:tom{i}@127.0.0.1:{p};transport=tcp"
""" for i, p in enumerate(cls.callees))
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"]
mode = "stateful"
workers = 2
domains = ["127.0.0.1"]
[tcp]
max_connections = {cls.INBOUND}
max_outbound_connections = {cls.OUTBOUND}
{locations}""")

    def callee_gets(self, listener, conns, i):
        """The MESSAGE the proxy brings tom{i}: on the connection it has open to it, else on one it opens
        now; answered 200 there."""
        if i not in conns:
            s, _ = listener.accept()
            self.addCleanup(s.close)
            conns[i] = StreamReader(s)
        got = conns[i].message(timeout=5)
        self.assertTrue(got.startswith(f"MESSAGE sip:tom{i}@127.0.0.1:{self.callees[i]}"), got)
        conns[i].sock.sendall(answer(got, "200 OK"))
        return got

    def test_outbound_connections_have_their_own_budget(self):
        refused = self.counter("tcp_connections_refused_total", limit="total")
        listeners = [tcp_listener(p) for p in self.callees]
        for s in listeners:
            s.settimeout(5)
            self.addCleanup(s.close)
        conns = {}
        udp = udp_socket()
        self.addCleanup(udp.close)
        uport = udp.getsockname()[1]
        # A UDP caller's messages make the proxy open a connection to each of three TCP callees.
        for i in range(self.OUTBOUND):
            udp.sendto(message(f"tom{i}", self.port, f"SIP/2.0/UDP 127.0.0.1:{uport}", f"u{i}@test"),
                       ("127.0.0.1", self.port))
            self.callee_gets(listeners[i], conns, i)
            udp.settimeout(5)
            self.assertTrue(udp.recv(65535).startswith(b"SIP/2.0 200 OK"))
        # More outbound connections than max_connections are open, and callers are still accepted
        # up to max_connections: each sends a MESSAGE on the connections the proxy opened.
        callers = [connect("127.0.0.1", self.port) for _ in range(self.INBOUND)]
        for n, c in enumerate(callers):
            self.addCleanup(c.close)
            self.assertTrue(pings(c), f"caller {n} was not served")
            c.sendall(message("tom0", self.port, f"SIP/2.0/TCP 127.0.0.1:{c.getsockname()[1]}", f"t{n}@test"))
            self.callee_gets(listeners[0], conns, 0)
            self.assertTrue(StreamReader(c).message(timeout=5).startswith("SIP/2.0 200 OK"))
        # The inbound limit holds: one more caller is closed at accept.
        with connect("127.0.0.1", self.port) as extra:
            self.assertFalse(pings(extra))
        self.assertEqual(self.wait_counter(refused + 1, "tcp_connections_refused_total", limit="total"), refused + 1)
        # The outbound budget holds too: a fourth callee gets no connection, and that is counted.
        out_refused = self.counter("tcp_connections_refused_total", limit="outbound")
        last = self.OUTBOUND
        callers[0].sendall(message(f"tom{last}", self.port, f"SIP/2.0/TCP 127.0.0.1:{callers[0].getsockname()[1]}",
                                   "over@test"))
        self.assertEqual(self.wait_counter(out_refused + 1, "tcp_connections_refused_total", limit="outbound"),
                         out_refused + 1)
        listeners[last].settimeout(0.5)
        with self.assertRaises(socket.timeout):
            listeners[last].accept()
        # A callee hanging up gives its place back: the next message to the fourth one gets through.
        conns.pop(1).sock.close()
        self.assertEqual(self.wait_counter(self.INBOUND + self.OUTBOUND - 1, "tcp_connections_open"),
                         self.INBOUND + self.OUTBOUND - 1)
        udp.sendto(message(f"tom{last}", self.port, f"SIP/2.0/UDP 127.0.0.1:{uport}", "again@test"),
                   ("127.0.0.1", self.port))
        listeners[last].settimeout(5)
        self.callee_gets(listeners[last], conns, last)
        reply = udp.recv(65535)
        self.assertTrue(reply.startswith(b"SIP/2.0 200 OK") and b"Call-ID: again@test" in reply, reply)


def in_namespace():
    """Runs this file again inside a network namespace with the addresses the IPv6 test needs, and
    removes the namespace whatever happens; returns the exit status."""
    need("ip", "iproute2")
    ns = f"sftcp{os.getpid()}"

    def sh(*args, check=True):
        return subprocess.run(list(args), check=check, capture_output=True, timeout=30)

    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        for addr in [PROXY6] + [f"{PREFIX}{0x10 + i:x}" for i in range(10)] + [f"{PREFIX}99"]:
            sh("ip", "-n", ns, "addr", "add", f"{addr}/64", "dev", "lo", "nodad")
        for i in range(PerAddressLimit.LIMIT):
            sh("ip", "-n", ns, "addr", "add", f"{OTHER_PREFIX}{0x10 + i:x}/64", "dev", "lo", "nodad")
        env = dict(os.environ, **{NETNS_ENV: ns})
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__), SIPFASTD, *sys.argv[1:]],
                           env=env, timeout=170)
        return r.returncode
    finally:
        # Whatever still runs in the namespace (a daemon the test could not stop) ends with it.
        pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
        if pids:
            sh("kill", "-9", *[p.decode() for p in pids], check=False)
        sh("ip", "netns", "del", ns, check=False)


if __name__ == "__main__":
    if os.geteuid() == 0 and not os.environ.get(NETNS_ENV):
        sys.exit(in_namespace())
    main()
