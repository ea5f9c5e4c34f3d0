#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfastd as the notifier of the reg event package (RFC 3680, RFC 6665): a user agent registers,
subscribes to its own registration state and gets 200 and a full reginfo NOTIFY; a second contact
registers (from another Call-ID, so likely another shard) and a partial NOTIFY tells it; the
un-SUBSCRIBE is answered 200 and a terminated NOTIFY. Refusals (489, 404, 406); an unanswered NOTIFY
retransmitted over UDP and a 481 that ends the subscription. And a subscription that outlives a
kill -9 of sipfastd with its bindings: the next process sends the full state again, counting on
from the version and CSeq it had. Every reginfo body is parsed with xml.etree.
Usage: reg_event_test.py SIPFASTD"""
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET

from harness import Daemon, DaemonClass, StreamReader, all_headers, free_port, header, main, with_database

SIPFASTD = sys.argv.pop(1)
NS = "{urn:ietf:params:xml:ns:reginfo}"


def config(port, t1_ms=500):
    return f"""
listen = ["udp:127.0.0.1:{port}", "tcp:127.0.0.1:{port}"]
workers = 2
domains = ["127.0.0.1"]
[registrar]
min_expires_s = 2
default_expires_s = 60
max_expires_s = 3600
[timers]
t1_ms = {t1_ms}
"""


def reginfo(notify):
    """The NOTIFY's body, parsed: (root, {aor: [(uri, state, event, expires)]})."""
    body = notify.split("\r\n\r\n", 1)[1]
    root = ET.fromstring(body)
    regs = {}
    for r in root.findall(NS + "registration"):
        regs[r.get("aor")] = [(c.find(NS + "uri").text, c.get("state"), c.get("event"), int(c.get("expires")))
                              for c in r.findall(NS + "contact")]
    return root, regs


class UserAgent:
    """A UDP user agent of user `user`@127.0.0.1 talking to the daemon on `port`."""

    def __init__(self, port, user):
        self.port = port
        self.user = user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.me = self.sock.getsockname()[1]
        self.pending = []

    def close(self):
        self.sock.close()

    def send(self, text):
        self.sock.sendto(text.encode(), ("127.0.0.1", self.port))

    def receive(self, timeout=3.0, match=lambda m: True):
        """The next message that `match`es (others are kept for later), or None by `timeout`."""
        for i, m in enumerate(self.pending):
            if match(m):
                return self.pending.pop(i)
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65535).decode()
            except socket.timeout:
                break
            if match(data):
                return data
            self.pending.append(data)
        return None

    def register(self, contact, expires=600, call_id=None):
        call_id = call_id or f"reg-{self.user}-{time.time_ns()}"
        self.send(f"REGISTER sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{self.me};branch=z9hG4bKr{time.time_ns()};rport\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:{self.user}@127.0.0.1>;tag=r1\r\nTo: <sip:{self.user}@127.0.0.1>\r\n"
                  f"Call-ID: {call_id}\r\nCSeq: 1 REGISTER\r\nContact: {contact}\r\nExpires: {expires}\r\n"
                  "Content-Length: 0\r\n\r\n")
        return self.receive(match=lambda m: m.startswith("SIP/2.0") and "REGISTER" in header(m, "CSeq"))

    def subscribe(self, call_id, cseq, expires=600, to_tag=None, ruri=None, event="reg", accept="application/reginfo+xml",
                  user=None):
        ruri = ruri or f"sip:{user or self.user}@127.0.0.1:{self.port}"
        to = f"<sip:{user or self.user}@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
        self.send(f"SUBSCRIBE {ruri} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{self.me};branch=z9hG4bKs{time.time_ns()};rport\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:{self.user}@127.0.0.1>;tag=w1\r\nTo: {to}\r\n"
                  f"Call-ID: {call_id}\r\nCSeq: {cseq} SUBSCRIBE\r\n"
                  f"Contact: <sip:{self.user}@127.0.0.1:{self.me}>\r\nEvent: {event}\r\n"
                  + (f"Accept: {accept}\r\n" if accept else "") + f"Expires: {expires}\r\nContent-Length: 0\r\n\r\n")
        return self.receive(match=lambda m: m.startswith("SIP/2.0") and "SUBSCRIBE" in header(m, "CSeq"))

    def notify(self, timeout=3.0):
        return self.receive(timeout, lambda m: m.startswith("NOTIFY "))

    def answer(self, request, status=200, reason="OK"):
        """Answers `request` (RFC 3261 §8.2.6: its Vias, From, To, Call-ID and CSeq)."""
        lines = [f"SIP/2.0 {status} {reason}"]
        for name in ("Via", "From", "To", "Call-ID", "CSeq"):
            lines += [f"{name}: {v}" for v in all_headers(request, name)]
        self.send("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n")


def status(answer):
    return int(answer.split(" ", 2)[1])


class RegEvent(DaemonClass, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-regevent-")
        cls.port = free_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, config(cls.port))

    def ua(self, user):
        ua = UserAgent(self.port, user)
        self.addCleanup(ua.close)
        return ua

    def test_subscribe_full_partial_and_unsubscribe(self):
        ue = self.ua("alice")
        self.assertEqual(status(ue.register(f"<sip:alice@127.0.0.1:{ue.me}>")), 200)
        call_id = f"sub-{time.time_ns()}"
        ok = ue.subscribe(call_id, 1, expires=600)
        self.assertEqual(status(ok), 200, ok)
        self.assertEqual(header(ok, "Expires"), "600")
        our_tag = re.search(r";tag=([^;\s]+)", header(ok, "To")).group(1)
        self.assertRegex(header(ok, "Contact"), rf"^<sip:127\.0\.0\.1:{self.port}>$")

        full = ue.notify()
        self.assertIsNotNone(full, "no NOTIFY after the 200")
        self.assertTrue(full.startswith(f"NOTIFY sip:alice@127.0.0.1:{ue.me} SIP/2.0"), full[:200])
        self.assertEqual(header(full, "Call-ID"), call_id)
        self.assertEqual(header(full, "Event"), "reg")
        self.assertEqual(header(full, "Content-Type"), "application/reginfo+xml")
        self.assertRegex(header(full, "Subscription-State"), r"^active;expires=(600|599)$")
        self.assertIn(f";tag={our_tag}", header(full, "From"))
        self.assertIn(";tag=w1", header(full, "To"))
        first_cseq = int(header(full, "CSeq").split()[0])
        self.assertEqual(header(full, "CSeq").split()[1], "NOTIFY")
        root, regs = reginfo(full)
        self.assertEqual(root.tag, NS + "reginfo")
        self.assertEqual((root.get("version"), root.get("state")), ("0", "full"))
        self.assertEqual(list(regs), ["sip:alice@127.0.0.1"])
        reg = root.find(NS + "registration")
        self.assertEqual(reg.get("state"), "active")
        self.assertRegex(reg.get("id"), r"^[0-9a-f]{16}$")
        [(uri, state, event, expires)] = regs["sip:alice@127.0.0.1"]
        self.assertEqual((uri, state, event), (f"sip:alice@127.0.0.1:{ue.me}", "active", "registered"))
        self.assertTrue(598 <= expires <= 600, expires)
        ue.answer(full)

        # A second device of alice's registers: a REGISTER of another Call-ID, handled by whichever
        # shard owns it, reaches the shard holding the subscription.
        phone = self.ua("alice")
        self.assertEqual(status(phone.register("<sip:alice@127.0.0.1:7777>", expires=300)), 200)
        partial = ue.notify()
        self.assertIsNotNone(partial, "no NOTIFY for the second contact")
        root, regs = reginfo(partial)
        self.assertEqual((root.get("version"), root.get("state")), ("1", "partial"))
        self.assertEqual([c[:3] for c in regs["sip:alice@127.0.0.1"]],
                         [("sip:alice@127.0.0.1:7777", "active", "registered")])
        self.assertEqual(int(header(partial, "CSeq").split()[0]), first_cseq + 1)
        ue.answer(partial)

        # The second one unregisters: unregistered, terminated.
        self.assertEqual(status(phone.register("<sip:alice@127.0.0.1:7777>", expires=0)), 200)
        gone = ue.notify()
        self.assertIsNotNone(gone)
        root, regs = reginfo(gone)
        self.assertEqual(root.get("version"), "2")
        self.assertEqual([c[:3] for c in regs["sip:alice@127.0.0.1"]],
                         [("sip:alice@127.0.0.1:7777", "terminated", "unregistered")])
        ue.answer(gone)

        # Un-SUBSCRIBE in the dialog: 200 with Expires 0, and the last NOTIFY, terminated.
        bye = ue.subscribe(call_id, 2, expires=0, to_tag=our_tag, ruri=f"sip:127.0.0.1:{self.port}")
        self.assertEqual(status(bye), 200, bye)
        self.assertEqual(header(bye, "Expires"), "0")
        last = ue.notify()
        self.assertIsNotNone(last)
        self.assertEqual(header(last, "Subscription-State"), "terminated;reason=timeout")
        root, regs = reginfo(last)
        self.assertEqual((root.get("version"), root.get("state")), ("3", "full"))
        ue.answer(last)
        # Over: a change tells no one, and a refresh of the dialog is 481.
        self.assertEqual(status(phone.register("<sip:alice@127.0.0.1:7778>", expires=300)), 200)
        self.assertIsNone(ue.notify(timeout=0.5))
        again = ue.subscribe(call_id, 3, expires=600, to_tag=our_tag, ruri=f"sip:127.0.0.1:{self.port}")
        self.assertEqual(status(again), 481, again)

    def test_refusals(self):
        ue = self.ua("bob")
        self.assertEqual(status(ue.register(f"<sip:bob@127.0.0.1:{ue.me}>")), 200)
        # Another package, asked of us (the Request-URI is our address): 489 with Allow-Events.
        bad = ue.subscribe(f"e-{time.time_ns()}", 1, ruri=f"sip:127.0.0.1:{self.port}", event="presence")
        self.assertEqual(status(bad), 489, bad)
        self.assertEqual(header(bad, "Allow-Events"), "reg")
        # Nobody registered as nobody.
        nobody = ue.subscribe(f"n-{time.time_ns()}", 1, user="nobody")
        self.assertEqual(status(nobody), 404, nobody)
        # A watcher that accepts only PIDF.
        pidf = ue.subscribe(f"a-{time.time_ns()}", 1, accept="application/pidf+xml")
        self.assertEqual(status(pidf), 406, pidf)
        self.assertEqual(header(pidf, "Accept"), "application/reginfo+xml")
        # Too short.
        brief = ue.subscribe(f"b-{time.time_ns()}", 1, expires=1)
        self.assertEqual(status(brief), 423, brief)
        self.assertEqual(header(brief, "Min-Expires"), "2")
        self.assertIsNone(ue.notify(timeout=0.2))

    def test_an_unanswered_notify_is_retransmitted_and_a_481_ends_the_subscription(self):
        ue = self.ua("carol")
        self.assertEqual(status(ue.register(f"<sip:carol@127.0.0.1:{ue.me}>")), 200)
        self.assertEqual(status(ue.subscribe(f"r-{time.time_ns()}", 1)), 200)
        first = ue.notify()
        self.assertIsNotNone(first)
        # Not answered: Timer E sends it again (T1 = 500 ms), the same request.
        again = ue.notify(timeout=3)
        self.assertIsNotNone(again, "the NOTIFY was not retransmitted")
        self.assertEqual(header(again, "Via"), header(first, "Via"))
        self.assertEqual(header(again, "CSeq"), header(first, "CSeq"))
        ue.answer(again, 481, "Subscription Does Not Exist")
        # Ended: the next change is told to no one.
        other = self.ua("carol")
        self.assertEqual(status(other.register("<sip:carol@127.0.0.1:7801>", expires=300)), 200)
        while True:  # retransmissions already on their way may still arrive; a new CSeq may not
            n = ue.notify(timeout=0.6)
            if n is None:
                break
            self.assertEqual(header(n, "CSeq"), header(first, "CSeq"), n)


    def test_over_tcp_the_notify_comes_on_the_subscribers_connection(self):
        # The seed 000 phone: REGISTER and SUBSCRIBE over one TCP connection, NOTIFYs back on it.
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=3)
        self.addCleanup(sock.close)
        me = sock.getsockname()[1]
        reader = StreamReader(sock)

        def request(method, cseq, extra, call_id):
            sock.sendall((f"{method} sip:erin@127.0.0.1:{self.port} SIP/2.0\r\n"
                          f"Via: SIP/2.0/TCP 127.0.0.1:{me};branch=z9hG4bKt{time.time_ns()};rport\r\n"
                          f"Max-Forwards: 70\r\nFrom: <sip:erin@127.0.0.1>;tag=t1\r\nTo: <sip:erin@127.0.0.1>\r\n"
                          f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\n"
                          f"Contact: <sip:erin@127.0.0.1:{me};transport=tcp>\r\n{extra}Content-Length: 0\r\n\r\n").encode())
            return reader.message()

        self.assertEqual(status(request("REGISTER", 1, "Expires: 600\r\n", f"treg-{time.time_ns()}")), 200)
        ok = request("SUBSCRIBE", 1, "Event: reg\r\nExpires: 600\r\n", f"tsub-{time.time_ns()}")
        self.assertEqual(status(ok), 200, ok)
        self.assertIn(";transport=tcp", header(ok, "Contact"))
        notify = reader.message()
        self.assertTrue(notify.startswith(f"NOTIFY sip:erin@127.0.0.1:{me};transport=tcp SIP/2.0"), notify[:200])
        self.assertTrue(header(notify, "Via").startswith("SIP/2.0/TCP "), header(notify, "Via"))
        root, regs = reginfo(notify)
        self.assertEqual(root.get("state"), "full")
        self.assertEqual([c[:2] for c in regs["sip:erin@127.0.0.1"]], [(f"sip:erin@127.0.0.1:{me};transport=tcp", "active")])
        lines = ["SIP/2.0 200 OK"] + [f"{n}: {v}" for n in ("Via", "From", "To", "Call-ID", "CSeq")
                                      for v in all_headers(notify, n)]
        sock.sendall(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode())
        # Over a reliable transport nothing is retransmitted.
        with self.assertRaises(TimeoutError):
            reader.message(timeout=1.2)


class RegEventRestart(unittest.TestCase):
    """Subscriptions live with the bindings (SQLite): a kill -9 loses none answered 200."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-regevent-restart-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()
        self.db = os.path.join(self.tmp, "bindings.db")

    def daemon(self, name):
        return Daemon(SIPFASTD, self.tmp, with_database(config(self.port), self.db), name=name)

    def test_a_subscription_outlives_kill_9(self):
        first = self.daemon("first")
        ue = UserAgent(self.port, "dave")
        self.addCleanup(ue.close)
        try:
            self.assertEqual(status(ue.register(f"<sip:dave@127.0.0.1:{ue.me}>")), 200)
            call_id = f"sub-{time.time_ns()}"
            ok = ue.subscribe(call_id, 1, expires=600)
            self.assertEqual(status(ok), 200, ok)
            our_tag = re.search(r";tag=([^;\s]+)", header(ok, "To")).group(1)
            full = ue.notify()
            self.assertIsNotNone(full)
            ue.answer(full)
            cseq = int(header(full, "CSeq").split()[0])
        finally:
            first.kill()
        second = self.daemon("second")
        try:
            # The new process tells the whole state again, in the same dialog, counting on.
            again = ue.notify(timeout=5)
            self.assertIsNotNone(again, "no NOTIFY after the restart")
            self.assertEqual(header(again, "Call-ID"), call_id)
            self.assertIn(f";tag={our_tag}", header(again, "From"))
            self.assertGreater(int(header(again, "CSeq").split()[0]), cseq)
            root, regs = reginfo(again)
            self.assertEqual(root.get("state"), "full")
            self.assertGreater(int(root.get("version")), 0)
            self.assertEqual([c[:3] for c in regs["sip:dave@127.0.0.1"]],
                             [(f"sip:dave@127.0.0.1:{ue.me}", "active", "registered")])
            # What is left of the 600 s, rounded up: 600 when the restart took under a second.
            self.assertRegex(header(again, "Subscription-State"), r"^active;expires=(600|5\d\d)$")
            ue.answer(again)
            # And it goes on: a new contact, a partial document; then the un-SUBSCRIBE.
            phone = UserAgent(self.port, "dave")
            self.addCleanup(phone.close)
            self.assertEqual(status(phone.register("<sip:dave@127.0.0.1:7901>", expires=300)), 200)
            partial = ue.notify()
            self.assertIsNotNone(partial)
            self.assertEqual(reginfo(partial)[0].get("state"), "partial")
            ue.answer(partial)
            bye = ue.subscribe(call_id, 2, expires=0, to_tag=our_tag, ruri=f"sip:127.0.0.1:{self.port}")
            self.assertEqual(status(bye), 200, bye)
            last = ue.notify()
            self.assertEqual(header(last, "Subscription-State"), "terminated;reason=timeout")
            ue.answer(last)
        finally:
            second.stop()
        # Gone from the file too: a third process has nothing to tell.
        third = self.daemon("third")
        try:
            self.assertIsNone(ue.notify(timeout=1))
        finally:
            third.stop()


if __name__ == "__main__":
    main()
