#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfastd as the registrar of its domain (RFC 3261 §10): a SIPp user agent registers and is then
called through the proxy; unregistering one and all, 423 below Min-Expires, a lapsed binding never
called (480, then 404 once the sweep has freed it), 404 for a user never registered, a
retransmitted REGISTER answered alike, and a REGISTER over TCP whose calls then arrive on that same
connection; bindings that outlive a kill -9 of sipfastd and a database that cannot serve refused at
start. With digest authentication (RFC 3261 §22, RFC 7616): SIPp registers through a 401 and calls
through a 407; a wrong password, a replayed nonce-count, another user's credentials and an htdigest
user. Forking to a user's two contacts, in parallel and in sequence.
Usage: registrar_test.py SIPFASTD SIPP_SCENARIO_DIR"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from harness import Daemon, DaemonClass, StreamReader, all_headers, free_port, header, main, need, sipp_calls

SIPFASTD = sys.argv.pop(1)
SCENARIOS = sys.argv.pop(1)


class RegistrarClient:
    """REGISTERs and INVITEs to the sipfastd listening on self.port."""

    @classmethod
    def prepare(cls, prefix):
        """SIPp, a folder of the class's own and a port for its daemon."""
        cls.sipp = need("sipp", "sip-tester")
        cls.tmp = tempfile.mkdtemp(prefix=prefix)
        cls.port = free_port()

    def register(self, user, contact, expires=None, call_id=None, cseq=1, sock=None, extra=""):
        """Sends a REGISTER for user@127.0.0.1 over UDP (from a socket of its own unless `sock`) and
        returns the answer's text."""
        own = sock is None
        if own:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(3)
        try:
            port = sock.getsockname()[1]
            text = (f"REGISTER sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                    f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKr{time.time_ns()};rport\r\n"
                    f"Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=r1\r\nTo: <sip:{user}@127.0.0.1>\r\n"
                    f"Call-ID: {call_id or f'reg-{user}-{time.time_ns()}'}\r\nCSeq: {cseq} REGISTER\r\n"
                    f"Contact: {contact}\r\n" + (f"Expires: {expires}\r\n" if expires is not None else "") + extra +
                    "Content-Length: 0\r\n\r\n")
            sock.sendto(text.encode(), ("127.0.0.1", self.port))
            return sock.recv(65535).decode()
        finally:
            if own:
                sock.close()

    def invite(self, user):
        """An INVITE for user@127.0.0.1 from a UDP caller; returns the caller's socket and what it got
        back first (the final answer, or None when the proxy forwarded it and answered 100 only)."""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.settimeout(3)
        port = s.getsockname()[1]
        s.sendto((f"INVITE sip:{user}@127.0.0.1:{self.port} SIP/2.0\r\n"
                  f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKi{time.time_ns()};rport\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:{user}@127.0.0.1>\r\n"
                  f"Call-ID: inv-{time.time_ns()}\r\nCSeq: 1 INVITE\r\nContact: <sip:alice@127.0.0.1:{port}>\r\n"
                  "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", self.port))
        answer = s.recv(65535).decode()
        return s, answer

    def status(self, answer):
        return int(answer.split(" ", 2)[1])


class Registrar(DaemonClass, RegistrarClient, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prepare("sipfast-reg-")
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}", "tcp:127.0.0.1:{cls.port}"]
workers = 2
domains = ["127.0.0.1"]
[registrar]
min_expires_s = 2
default_expires_s = 60
max_expires_s = 3600
""")

    def test_a_registered_user_is_called_through_the_proxy(self):
        uas_port = free_port()
        reg = subprocess.run([self.sipp, "-sf", os.path.join(SCENARIOS, "uac_register.xml"), "-s", "bob",
                              "-key", "contact_port", str(uas_port), "-key", "expires", "300",
                              f"127.0.0.1:{self.port}", "-i", "127.0.0.1", "-p", str(free_port()), "-m", "1",
                              "-nostdin", "-timeout", "20s", "-timeout_error"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.tmp, timeout=40)
        self.assertEqual(reg.returncode, 0, reg.stdout.decode(errors="replace")[-2000:])
        trace = sipp_calls(self.sipp, SCENARIOS, self.tmp, self.port, uas_port, 3)
        invites = re.findall(r"message received[^\n]*\n\n(INVITE .*?)\n\n", trace, re.S)
        self.assertEqual(len(invites), 3)
        self.assertTrue(invites[0].startswith(f"INVITE sip:bob@127.0.0.1:{uas_port} SIP/2.0"), invites[0][:200])

    def test_the_200_lists_the_bindings_and_a_retransmission_gets_the_same(self):
        call_id = f"same-{time.time_ns()}"
        first = self.register("carol", "<sip:carol@127.0.0.1:7001>", expires=600, call_id=call_id)
        self.assertEqual(self.status(first), 200, first)
        self.assertEqual(all_headers(first, "Contact"), ["<sip:carol@127.0.0.1:7001>;expires=600"])
        self.assertRegex(header(first, "Date"), r"^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$")
        self.assertIsNotNone(re.search(r"^To: <sip:carol@127\.0\.0\.1>;tag=\w+", first, re.M), first)
        again = self.register("carol", "<sip:carol@127.0.0.1:7001>", expires=600, call_id=call_id)
        self.assertEqual(self.status(again), 200, again)
        self.assertEqual(len(all_headers(again, "Contact")), 1)
        # A second contact of the same user, from another device.
        both = self.register("carol", "<sip:carol@127.0.0.1:7002>", expires=300)
        self.assertEqual(sorted(all_headers(both, "Contact")),
                         ["<sip:carol@127.0.0.1:7001>;expires=600", "<sip:carol@127.0.0.1:7002>;expires=300"])

    def test_unregistering_one_and_all(self):
        call_id = f"dave-{time.time_ns()}"
        self.assertEqual(self.status(self.register("dave", "<sip:dave@127.0.0.1:7003>", 600, call_id, 1)), 200)
        self.assertEqual(self.status(self.register("dave", "<sip:dave@127.0.0.1:7004>", 600, call_id, 2)), 200)
        one = self.register("dave", "<sip:dave@127.0.0.1:7003>", 0, call_id, 3)
        self.assertEqual(all_headers(one, "Contact"), ["<sip:dave@127.0.0.1:7004>;expires=600"])
        # An older CSeq of the same Call-ID is refused and changes nothing.
        old = self.register("dave", "*", 0, call_id, 2)
        self.assertEqual(self.status(old), 500, old)
        everything = self.register("dave", "*", 0, call_id, 4)
        self.assertEqual(self.status(everything), 200, everything)
        self.assertEqual(all_headers(everything, "Contact"), [])
        s, answer = self.invite("dave")
        s.close()
        self.assertEqual(self.status(answer), 404, answer)  # no binding, no static location, no route

    def test_too_brief_is_423_with_min_expires(self):
        answer = self.register("erin", "<sip:erin@127.0.0.1:7005>", expires=1)
        self.assertEqual(self.status(answer), 423, answer)
        self.assertEqual(header(answer, "Min-Expires"), "2")

    def test_a_lapsed_binding_is_never_called_and_the_sweep_frees_it(self):
        self.assertEqual(self.status(self.register("frank", "<sip:frank@127.0.0.1:7006>", expires=2)), 200)
        time.sleep(2.2)
        # 480 while the lapsed binding is still held, 404 once the sweep (once a second, on a tick of
        # a second) has freed it: never forwarded.
        s, answer = self.invite("frank")
        s.close()
        self.assertIn(self.status(answer), (480, 404), answer)
        deadline = time.monotonic() + 5
        while self.status(answer) != 404 and time.monotonic() < deadline:
            time.sleep(0.2)
            s, answer = self.invite("frank")
            s.close()
        self.assertEqual(self.status(answer), 404, answer)

    def test_a_user_never_registered_is_404(self):
        s, answer = self.invite("nobody")
        s.close()
        self.assertEqual(self.status(answer), 404, answer)

    def test_a_register_over_tcp_brings_the_calls_back_on_that_connection(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=3) as c:
            local = c.getsockname()[1]
            c.sendall((f"REGISTER sip:127.0.0.1:{self.port};transport=tcp SIP/2.0\r\n"
                       f"Via: SIP/2.0/TCP 127.0.0.1:{local};branch=z9hG4bKtcp{time.time_ns()}\r\n"
                       "Max-Forwards: 70\r\nFrom: <sip:gina@127.0.0.1>;tag=g1\r\nTo: <sip:gina@127.0.0.1>\r\n"
                       f"Call-ID: tcp-{time.time_ns()}\r\nCSeq: 1 REGISTER\r\n"
                       # A contact nobody listens on: only the connection reaches gina.
                       "Contact: <sip:gina@127.0.0.1:9;transport=tcp>\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n").encode())
            reader = StreamReader(c)
            ok = reader.message()
            self.assertTrue(ok.startswith("SIP/2.0 200 "), ok)
            s, answer = self.invite("gina")
            try:
                self.assertTrue(answer.startswith("SIP/2.0 100 "), answer)
                invite = reader.message()
                self.assertTrue(invite.startswith("INVITE sip:gina@127.0.0.1:9;transport=tcp SIP/2.0\r\n"), invite[:200])
                self.assertRegex(invite, rf"\r\nVia: SIP/2.0/TCP 127\.0\.0\.1:{self.port};branch=z9hG4bKsf")
            finally:
                s.close()


class RegistrarRestart(RegistrarClient, unittest.TestCase):
    """Bindings outlive sipfastd: it is killed (SIGKILL, nothing of it runs after) right after its last
    200 and started again on the same database."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-restart-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()
        self.database = os.path.join(self.tmp, "bindings.db")

    def config(self, database=None):
        return f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 2
domains = ["127.0.0.1"]
shutdown_grace_ms = 0
[registrar]
database = "{database or self.database}"
"""

    def test_no_binding_answered_200_is_lost_to_kill_9(self):
        callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        callee.bind(("127.0.0.1", 0))
        callee.settimeout(3)
        self.addCleanup(callee.close)
        callee_port = callee.getsockname()[1]
        users = [f"u{i}" for i in range(40)]
        first = Daemon(SIPFASTD, self.tmp, self.config(), name="first")
        try:
            ivy = self.register("ivy", f"<sip:ivy@127.0.0.1:{callee_port}>", expires=600)
            self.assertEqual(self.status(ivy), 200, ivy)
            # A refresh that moves only the expiry (the same user agent, from the same address): the
            # later expiry is what comes back.
            call_id = f"jack-{time.time_ns()}"
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as jack_ua:
                jack_ua.bind(("127.0.0.1", 0))
                jack_ua.settimeout(3)
                for cseq, expires in ((1, 120), (2, 900)):
                    answer = self.register("jack", "<sip:jack@127.0.0.1:7100>", expires, call_id, cseq, sock=jack_ua)
                    self.assertEqual(self.status(answer), 200, answer)
            # Removed before the crash: stays removed.
            self.assertEqual(self.status(self.register("kim", "<sip:kim@127.0.0.1:7101>", 600, "kim-1", 1)), 200)
            self.assertEqual(self.status(self.register("kim", "*", 0, "kim-1", 2)), 200)
            for i, user in enumerate(users):
                answer = self.register(user, f"<sip:{user}@127.0.0.1:{7200 + i}>", expires=600)
                self.assertEqual(self.status(answer), 200, answer)
        finally:
            first.kill()  # at once after the last 200

        second = Daemon(SIPFASTD, self.tmp, self.config(), name="second")
        try:
            self.assertRegex(second.output(), rf"bindings in {re.escape(self.database)} \({len(users) + 2} restored, 0 lapsed, 0 reg subscriptions\)")
            # ivy is reachable where she registered.
            s, answer = self.invite("ivy")
            s.close()
            self.assertEqual(self.status(answer), 100, answer)
            invite = callee.recv(65535).decode()
            self.assertTrue(invite.startswith(f"INVITE sip:ivy@127.0.0.1:{callee_port} SIP/2.0\r\n"), invite[:200])
            # A new REGISTER's 200 lists the binding from before the crash with the time it has left.
            both = self.register("ivy", "<sip:ivy@127.0.0.1:7002>", expires=300)
            self.assertEqual(self.status(both), 200, both)
            contacts = dict(c.split(";expires=") for c in all_headers(both, "Contact"))
            self.assertEqual(set(contacts), {f"<sip:ivy@127.0.0.1:{callee_port}>", "<sip:ivy@127.0.0.1:7002>"})
            self.assertTrue(585 <= int(contacts[f"<sip:ivy@127.0.0.1:{callee_port}>"]) <= 600, both)
            jack = all_headers(self.query("jack"), "Contact")
            self.assertEqual(len(jack), 1)
            self.assertTrue(885 <= int(jack[0].split(";expires=")[1]) <= 900, jack)
            s, answer = self.invite("kim")
            s.close()
            self.assertEqual(self.status(answer), 404, answer)
            for i, user in enumerate(users):
                listed = all_headers(self.query(user), "Contact")
                self.assertEqual([c.split(";expires=")[0] for c in listed], [f"<sip:{user}@127.0.0.1:{7200 + i}>"])
        finally:
            second.stop()

    def test_an_unusable_database_stops_sipfastd_with_the_file_and_the_fault(self):
        garbage = os.path.join(self.tmp, "garbage.db")
        with open(garbage, "w") as f:
            f.write("not a database, whatever its name says" * 10)
        cases = [(self.tmp, f"[registrar] database {self.tmp}: cannot open: Is a directory"),
                 (garbage, f"[registrar] database {garbage}: cannot read: file is not a database")]
        for database, message in cases:
            config = os.path.join(self.tmp, "bad.toml")
            with open(config, "w") as f:
                f.write(f'control_socket = ""\n' + self.config(database) + '[metrics]\nlisten = ""\n')
            r = subprocess.run([SIPFASTD, "--config", config], capture_output=True, timeout=20, stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 2, r.stderr.decode())
            self.assertIn(message, r.stderr.decode())

    def query(self, user):
        """A REGISTER with no Contact: the 200 lists the bindings and changes nothing."""
        own = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        own.bind(("127.0.0.1", 0))
        own.settimeout(3)
        with own:
            port = own.getsockname()[1]
            own.sendto((f"REGISTER sip:127.0.0.1:{self.port} SIP/2.0\r\n"
                        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKq{time.time_ns()};rport\r\n"
                        f"Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=q1\r\nTo: <sip:{user}@127.0.0.1>\r\n"
                        f"Call-ID: q-{time.time_ns()}\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n").encode(),
                       ("127.0.0.1", self.port))
            return own.recv(65535).decode()


def digest_line(header, user, password, realm, nonce, uri, method, nc="00000001", cnonce="0a4f113b"):
    """An RFC 7616 MD5 answer with qop=auth, as a phone writes it."""
    h = lambda text: hashlib.md5(text.encode()).hexdigest()
    response = h(f"{h(f'{user}:{realm}:{password}')}:{nonce}:{nc}:{cnonce}:auth:{h(f'{method}:{uri}')}")
    return (f'{header}: Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}", algorithm=MD5, cnonce="{cnonce}", qop=auth, nc={nc}\r\n')


class Forking(RegistrarClient, unittest.TestCase):
    """A user registered from two SIPp callees is called by a SIPp caller (RFC 3261 §16.6, §16.7):
    in parallel both ring, one answers and the other is cancelled; in sequence the busy one is tried
    first and the call fails over to the other. Every SIPp must complete its scenario."""

    def start(self, forking):
        self.prepare("sipfast-fork-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}"]
workers = 2
domains = ["127.0.0.1"]
[forking]
mode = "{forking}"
""")
        self.addCleanup(self.proxy.stop)

    def call(self, user, callees):
        """Registers one SIPp callee per (scenario, q) as a contact of `user`, calls `user` once with
        uac_rr.xml and waits for every SIPp; returns the callees' message traces."""
        procs, logs = [], []
        try:
            for i, (scenario, q) in enumerate(callees):
                port, log = free_port(), os.path.join(self.tmp, f"{user}-{i}.log")
                procs.append(subprocess.Popen([self.sipp, "-sf", os.path.join(SCENARIOS, scenario), "-i", "127.0.0.1",
                                               "-p", str(port), "-m", "1", "-nostdin", "-timeout", "30s",
                                               "-trace_msg", "-message_file", log],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.tmp))
                logs.append(log)
                answer = self.register(user, f"<sip:{user}@127.0.0.1:{port}>;q={q}", 300, call_id=f"{user}-{i}")
                self.assertEqual(self.status(answer), 200, answer)
            time.sleep(0.3)
            uac = subprocess.run([self.sipp, "-sf", os.path.join(SCENARIOS, "uac_rr.xml"), "-s", user,
                                  f"127.0.0.1:{self.port}", "-i", "127.0.0.1", "-p", str(free_port()), "-m", "1",
                                  "-nostdin", "-timeout", "30s", "-timeout_error"],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.tmp, timeout=60)
            self.assertEqual(uac.returncode, 0, "the SIPp caller failed: " + uac.stdout.decode(errors="replace")[-3000:])
            for (scenario, _), proc in zip(callees, procs):
                self.assertEqual(proc.wait(timeout=40), 0, f"the SIPp callee running {scenario} failed")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        traces = []
        for log in logs:
            with open(log) as f:
                traces.append(f.read())
        return traces

    def test_parallel_both_ring_one_answers_the_other_is_cancelled(self):
        self.start("parallel")
        answering, ringing = self.call("hunt", [("uas_rr.xml", "0.5"), ("uas_cancel.xml", "1.0")])
        self.assertIn("INVITE sip:hunt@127.0.0.1:", answering)
        self.assertRegex(ringing, r"message received[^\n]*\n\nCANCEL sip:hunt@127\.0\.0\.1:\d+ SIP/2\.0")
        self.assertRegex(ringing, r"message received[^\n]*\n\nACK sip:hunt@127\.0\.0\.1:\d+ SIP/2\.0")

    def test_sequential_fails_over_from_the_busy_contact(self):
        self.start("sequential")
        busy, answering = self.call("serial", [("uas_busy.xml", "1.0"), ("uas_rr.xml", "0.5")])
        # The busy contact, with the higher q, got the INVITE first, and the other was tried only once
        # its 486 had been sent (SIPp stamps each message it traces; the proxy sends the second INVITE
        # and the ACK of the 486 together, so only the 486 orders them). The caller never saw the 486
        # (uac_rr.xml), and the 486 was ACKed.
        def stamp(trace, direction, start):
            m = re.search(r"-{5,} \S+\s+(\d\d:\d\d:\d\d\.\d+)[^\n]*\n[^\n]*message " + direction + r"[^\n]*\n\n" + start,
                          trace)
            self.assertIsNotNone(m, trace[:1500])
            return m.group(1)
        self.assertLessEqual(stamp(busy, "sent", "SIP/2.0 486"), stamp(answering, "received", "INVITE sip:serial@"))
        stamp(busy, "received", "ACK sip:serial@")


class AuthenticatingRegistrar(DaemonClass, RegistrarClient, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.prepare("sipfast-auth-")
        htdigest = os.path.join(cls.tmp, "users.htdigest")
        with open(htdigest, "w") as f:  # what `htdigest -c users.htdigest 127.0.0.1 carol` writes
            f.write("carol:127.0.0.1:" + hashlib.md5(b"carol:127.0.0.1:sesame").hexdigest() + "\n")
        cls.proxy = Daemon(SIPFASTD, cls.tmp, f"""
listen = ["udp:127.0.0.1:{cls.port}"]
workers = 2
domains = ["127.0.0.1"]
[auth]
authenticate = "all"
users_file = "{htdigest}"
[[user]]
name = "bob"
password = "secret"
[[user]]
name = "alice"
password = "wonder"
""")

    def challenge(self, user, sock):
        answer = self.register(user, f"<sip:{user}@127.0.0.1:7100>", 600, sock=sock, call_id=f"auth-{user}")
        self.assertEqual(self.status(answer), 401, answer)
        return re.search(r'nonce="([^"]+)"', answer).group(1)

    def test_sipp_registers_through_the_challenge_and_calls_through_407(self):
        uas_port = free_port()
        # bob registers with SIPp (401, then the REGISTER with Authorization, then 200)...
        reg = subprocess.run([self.sipp, "-sf", os.path.join(SCENARIOS, "uac_register_auth.xml"), "-s", "bob",
                              "-au", "bob", "-ap", "secret", "-key", "domain", "127.0.0.1",
                              f"127.0.0.1:{self.port}", "-i", "127.0.0.1", "-p", str(uas_port), "-m", "1",
                              "-nostdin", "-timeout", "20s", "-timeout_error"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.tmp, timeout=40)
        self.assertEqual(reg.returncode, 0, reg.stdout.decode(errors="replace")[-2000:])
        # ... and alice calls him, answering the proxy's 407; a SIPp callee takes the call on bob's port.
        trace = sipp_calls(self.sipp, SCENARIOS, self.tmp, self.port, uas_port, 2, uac_scenario="uac_invite_auth.xml",
                           uac_args=("-key", "caller", "alice", "-au", "alice", "-ap", "wonder"))
        invites = re.findall(r"message received[^\n]*\n\n(INVITE .*?)\n\n", trace, re.S)
        self.assertEqual(len(invites), 2)
        self.assertNotIn("Proxy-Authorization", invites[0])  # our realm's credentials stop here

    def test_a_wrong_password_a_replay_and_another_users_credentials_are_refused(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(3)
            uri = f"sip:127.0.0.1:{self.port}"
            nonce = self.challenge("bob", s)
            wrong = self.register("bob", "<sip:bob@127.0.0.1:7100>", 600, sock=s, call_id="auth-bob", cseq=2,
                                  extra=digest_line("Authorization", "bob", "guess", "127.0.0.1", nonce, uri, "REGISTER"))
            self.assertEqual(self.status(wrong), 401, wrong)
            self.assertNotIn("stale=true", wrong)
            good = digest_line("Authorization", "bob", "secret", "127.0.0.1", nonce, uri, "REGISTER")
            ok = self.register("bob", "<sip:bob@127.0.0.1:7100>", 600, sock=s, call_id="auth-bob", cseq=3, extra=good)
            self.assertEqual(self.status(ok), 200, ok)
            self.assertRegex(header(ok, "Authentication-Info"), r'^qop=auth, rspauth="[0-9a-f]{32}", cnonce="0a4f113b", nc=00000001$')
            replay = self.register("bob", "<sip:bob@127.0.0.1:7100>", 600, sock=s, call_id="auth-bob", cseq=4, extra=good)
            self.assertEqual(self.status(replay), 401, replay)
            self.assertIn("stale=true", replay)
            # alice proving she is alice cannot register bob.
            nonce = self.challenge("bob", s)
            as_alice = self.register("bob", "<sip:bob@127.0.0.1:7100>", 600, sock=s, call_id="auth-bob", cseq=6,
                                     extra=digest_line("Authorization", "alice", "wonder", "127.0.0.1", nonce, uri, "REGISTER"))
            self.assertEqual(self.status(as_alice), 403, as_alice)

    def test_a_user_of_the_htdigest_file_registers(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            s.settimeout(3)
            nonce = self.challenge("carol", s)
            # An htdigest user has only an MD5 secret: SHA-256 is not offered for the realm.
            ok = self.register("carol", "<sip:carol@127.0.0.1:7100>", 600, sock=s, call_id="auth-carol", cseq=2,
                               extra=digest_line("Authorization", "carol", "sesame", "127.0.0.1", nonce,
                                                 f"sip:127.0.0.1:{self.port}", "REGISTER"))
            self.assertEqual(self.status(ok), 200, ok)


if __name__ == "__main__":
    main()
