#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Phones a user would pick, through sipfastd: two baresip processes (Debian baresip-core), one
account each with a password, register with digest authentication (RFC 3261 §22: 401, then 200);
one calls the other through the proxy (407, then the INVITE again with credentials, 180, 200 and the
ACK by the proxy's Record-Route), the callee answers by itself and one side hangs up (BYE answered
200). Once over UDP with the caller hanging up, once over TCP with the callee hanging up. A phone
with a wrong password stays unregistered (every REGISTER answered 401) and a call to it gets 480 (an account, no binding).
Usage: client_test.py SIPFASTD"""
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from harness import Daemon, free_port, header, main, metric, need

SIPFASTD = sys.argv.pop(1)
BARESIP = need("baresip", "baresip-core")
DOMAIN = "sipfast.test"
PASSWORDS = {"alice": "wonderland", "bob": "builder", "carol": "bricks"}
# What takes milliseconds here (a registration, a call set up or ended) is given this long, for a
# machine twice as slow and busy with a build.
WAIT_S = 20.0


def htdigest(path):
    """Writes the users as `htdigest` does (user:realm:MD5 of user:realm:password). An MD5 secret
    only, so sipfastd offers MD5 only. Given passwords ([[user]]) it offers SHA-256 first (RFC 8760)
    unless [auth] algorithms says otherwise, and Debian 12's baresip (libre 1.1.0) gives up at the
    first challenge whose algorithm it lacks ("Function not implemented") instead of answering the
    MD5 one after it, as RFC 8760 §2.4 asks of it."""
    with open(path, "w") as f:
        for user, password in PASSWORDS.items():
            f.write(f"{user}:{DOMAIN}:" + hashlib.md5(f"{user}:{DOMAIN}:{password}".encode()).hexdigest() + "\n")


# baresip's SIP trace (-s), a block per message sent or received: TRACE_START, "TCP 127.0.0.1:5062 ->
# 127.0.0.1:5060\n", the message, TRACE_END. re_printf (ua.c's sip_trace_handler) writes it in pieces,
# an fwrite each: the text up to each conversion, the transport, each address's host, ":" and port,
# the message whole. Another thread's log line, written whole, can land between two pieces: aubridge's
# audio thread logs "aubridge: thread start: 8000 Hz, ..." as the call's media starts, just when the
# caller sends its ACK or the callee its 200, and about one run in ten of the TCP call had the ACK's
# block read "TCP 127.0.0.1:44690aubridge: thread start: 8000 Hz, 1 channels, format=S16LE\n ->
# 127.0.0.1:51355\n": a pattern of the address line whole did not match there and the message went
# missing from the trace. So whole lines (a warning's in red) are skipped between any two pieces, and
# the message begins at its start line. Buffering is not at fault: stdout is line-buffered, and libre
# traces a message before it sends it and before it acts on one received.
TRACE_START, TRACE_END = "\x1b[36;1m#\n", "\x1b[;m\n"
_OTHER = r"(?:(?:\x1b\[31m)?[^\n\x1b]*\n(?:\x1b\[;m)?)*?"
TRACE_ADDRESSES = re.compile(
    _OTHER.join([r"", r"(?P<transport>UDP|TCP)", r" ", r"(?P<src>[\d.]+)", r":", r"(?P<src_port>\d+)", r" -> ",
                 r"(?P<dst>[\d.]+)", r":", r"(?P<dst_port>\d+)", r"\n", r"(?=[A-Z]+ \S+ SIP/2\.0\r\n|SIP/2\.0 \d{3} )"]))


class Sip:
    """One message of a phone's SIP trace: the transport, where it came from and went to (host:port)
    and its text. The phone sends to the proxy only (its outbound proxy): what goes elsewhere is
    taken for received."""

    def __init__(self, transport, src, dst, text, proxy):
        self.transport, self.src, self.dst, self.text = transport, src, dst, text
        self.sent = dst == proxy
        self.start = text.split("\r\n", 1)[0]
        self.status = int(self.start.split(" ", 2)[1]) if self.start.startswith("SIP/2.0 ") else None
        self.method = None if self.status else self.start.split(" ", 1)[0]
        self.cseq_method = (header(text, "CSeq") or " ").split(" ", 1)[1]
        # The proxy's Via on top: a request it forwarded, or the answer to one.
        self.via_proxy = re.match(r"SIP/2\.0/\w+ ([^;\s]+)", header(text, "Via") or "").group(1) == proxy

    def __repr__(self):
        return f"{self.transport} {self.src} -> {self.dst}: {self.start}"


def flow(messages):
    """(sent, method or status) of each message, a retransmission (the same again at once, over UDP
    on a slow machine) left out."""
    steps = []
    for s in messages:
        if not steps or steps[-1] != (s.sent, s.method or s.status):
            steps.append((s.sent, s.method or s.status))
    return steps


class Phone:
    """A baresip process with one account, as a user would set up a phone: the address, the password,
    the proxy and the transport to it, answering calls by itself. Its own configuration folder (-f);
    aubridge stands in for the sound card; commands and events go over ctrl_tcp (netstrings of JSON);
    its SIP trace (-s) goes to its log, line-buffered so it can be read while it runs."""

    def __init__(self, tmp, user, password, proxy_port, transport):
        self.user, self.proxy_port = user, proxy_port
        self.home = os.path.join(tmp, f"{user}-{transport}")
        os.mkdir(self.home)
        ctrl_port = free_port(socket.SOCK_STREAM)
        with open(os.path.join(self.home, "config"), "w") as f:
            f.write(f"""poll_method epoll
sip_listen 127.0.0.1:0
net_interface 127.0.0.1
audio_player aubridge,{user}
audio_source aubridge,{user}
audio_alert aubridge,{user}
module_path /usr/lib/baresip/modules
module g711.so
module aubridge.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:{ctrl_port}
""")
        with open(os.path.join(self.home, "accounts"), "w") as f:
            f.write(f'<sip:{user}@{DOMAIN}>;auth_pass={password};outbound="sip:127.0.0.1:{proxy_port};transport={transport}"'
                    ";answermode=auto;regint=600\n")
        self.log_path = os.path.join(self.home, "baresip.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([need("stdbuf", "coreutils"), "-oL", BARESIP, "-f", self.home, "-s"],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        self.events, self.answers, self.tokens, self.buf = [], {}, 0, b""
        self.ctrl = None
        deadline = time.time() + WAIT_S
        while self.ctrl is None:
            try:
                self.ctrl = socket.create_connection(("127.0.0.1", ctrl_port), timeout=1)
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise AssertionError(f"baresip ({user}) did not open its control port: {self.output()[-3000:]}")
                time.sleep(0.05)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def _read(self, deadline):
        """Takes in what ctrl_tcp sends until `deadline` (time.time()); False once it has passed."""
        left = deadline - time.time()
        if left <= 0:
            return False
        self.ctrl.settimeout(left)
        try:
            data = self.ctrl.recv(65536)
        except socket.timeout:
            return False
        if not data:
            raise AssertionError(f"baresip ({self.user}) closed its control connection: {self.output()[-3000:]}")
        self.buf += data
        while (m := re.match(rb"(\d+):", self.buf)) and len(self.buf) > m.end() + int(m.group(1)):
            end = m.end() + int(m.group(1))
            message = json.loads(self.buf[m.end():end])
            self.buf = self.buf[end + 1:]  # past the netstring's comma
            if message.get("event"):
                self.events.append(message)
            else:
                self.answers[message.get("token")] = message
        return True

    def command(self, command, params=""):
        """Runs a command of baresip's menu (dial, hangup, reginfo) and returns its text."""
        self.tokens += 1
        token = str(self.tokens)
        body = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.ctrl.sendall(b"%d:%s," % (len(body), body))
        deadline = time.time() + WAIT_S
        while token not in self.answers:
            if not self._read(deadline):
                raise AssertionError(f"baresip ({self.user}) did not answer '{command}' within {WAIT_S} s")
        answer = self.answers.pop(token)
        if not answer.get("ok"):
            raise AssertionError(f"baresip ({self.user}) refused '{command} {params}': {answer}")
        return answer.get("data", "")

    def event(self, kind):
        """The first event of `kind` (CALL_ESTABLISHED, CALL_CLOSED) not yet taken."""
        deadline = time.time() + WAIT_S
        while True:
            for i, e in enumerate(self.events):
                if e.get("type") == kind:
                    return self.events.pop(i)
            if not self._read(deadline):
                raise AssertionError(f"{self.user}: no {kind} within {WAIT_S} s (events: {[e.get('type') for e in self.events]}); "
                                     f"SIP: {self.trace()}")

    def registration(self):
        """What the phone shows for its account: OK once registered, ERR when refused."""
        shown = re.sub(r"\x1b\[[0-9;]*m", "", self.command("reginfo"))
        m = re.search(rf"sip:{self.user}@{re.escape(DOMAIN)}\s+(\S+)", shown)
        return m.group(1) if m else shown

    def wait_registration(self, want):
        """Until the phone shows `want` (OK or ERR); the other of the two fails at once."""
        deadline = time.time() + WAIT_S
        while (shown := self.registration()) != want:
            if shown in ("OK", "ERR") or time.time() > deadline:
                raise AssertionError(f"{self.user} shows {shown!r}, not {want}; SIP: {self.trace()}")
            time.sleep(0.05)

    def trace(self):
        """Every SIP message the phone sent or received so far, in order. The last block may still be
        being written: it is left for a later read. Any other that does not parse fails the test,
        shown whole, rather than going missing from the trace."""
        messages = []
        blocks = self.output().split(TRACE_START)[1:]
        for i, block in enumerate(blocks):
            if i == len(blocks) - 1 and TRACE_END not in block:
                break
            if not (m := TRACE_ADDRESSES.match(block)):
                raise AssertionError(f"{self.user}: a SIP trace block that does not parse: {block!r}")
            head, blank, rest = block[m.end():].partition("\r\n\r\n")
            # The message is one write; a line of another writer after it is cut off by its length.
            length = int(header(head, "(?:Content-Length|l)") or 0)
            messages.append(Sip(m.group("transport"), f"{m.group('src')}:{m.group('src_port')}",
                                f"{m.group('dst')}:{m.group('dst_port')}", head + blank + rest[:length],
                                proxy=f"127.0.0.1:{self.proxy_port}"))
        return messages

    def wait_trace(self, what, match):
        """The trace once a message of it matches (bounded)."""
        deadline = time.time() + WAIT_S
        while True:
            trace = self.trace()
            if any(match(s) for s in trace):
                return trace
            if time.time() > deadline:
                raise AssertionError(f"{self.user}: no {what} within {WAIT_S} s; SIP: {trace}")
            time.sleep(0.05)

    def stop(self):
        """SIGTERM: baresip unregisters (the proxy must still run), then exits; killed if it does not."""
        if self.ctrl is not None:
            self.ctrl.close()
            self.ctrl = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=WAIT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Clients(unittest.TestCase):
    """Each test has a sipfastd of its own (UDP and TCP on one port, the domain sipfast.test, its users
    in an htdigest file or the config, every request authenticated) and phones that stop before it does."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sipfast-client-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port = free_port()

    def start_proxy(self, passwords=False):
        """sipfastd with the users in an htdigest file, or as [[user]] passwords with MD5 alone offered
        ([auth] algorithms): what an operator whose phones are these sets."""
        if passwords:
            users = 'algorithms = ["MD5"]\n' + "".join(
                f'[[user]]\nname = "{u}"\npassword = "{p}"\n' for u, p in PASSWORDS.items())
        else:
            path = os.path.join(self.tmp, "users.htdigest")
            htdigest(path)
            users = f'users_file = "{path}"\n'
        self.proxy = Daemon(SIPFASTD, self.tmp, f"""
listen = ["udp:127.0.0.1:{self.port}", "tcp:127.0.0.1:{self.port}"]
workers = 2
domains = ["{DOMAIN}"]
shutdown_grace_ms = 0
[auth]
authenticate = "all"
""" + users)
        self.addCleanup(self.proxy.stop)

    def phone(self, user, password, transport):
        phone = Phone(self.tmp, user, password, self.port, transport)
        self.addCleanup(phone.stop)
        return phone

    def scrape(self):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            return r.read().decode()

    def wait_metric(self, name, want):
        deadline = time.time() + WAIT_S
        while (have := metric(self.scrape(), name)) != want and time.time() < deadline:
            time.sleep(0.05)
        self.assertEqual(have, want, name)

    def assert_registered_through_a_challenge(self, phone, trace):
        """The first REGISTER is answered 401 with an MD5 challenge of our realm, the next one carries
        the phone's credentials and is answered 200."""
        registers = [s for s in trace if s.cseq_method == "REGISTER"]
        self.assertEqual(flow(registers)[:4], [(True, "REGISTER"), (False, 401), (True, "REGISTER"), (False, 200)],
                         registers)
        self.assertRegex(header(registers[1].text, "WWW-Authenticate"), rf'^Digest realm="{DOMAIN}", .*algorithm=MD5')
        self.assertRegex(header(registers[2].text, "Authorization"),
                         rf'^Digest username="{phone.user}", realm="{DOMAIN}", .*qop=auth')

    def call(self, transport, hangs_up):
        """alice calls bob, both on `transport`; `hangs_up` (caller or callee) ends the call."""
        alice = self.phone("alice", PASSWORDS["alice"], transport)
        bob = self.phone("bob", PASSWORDS["bob"], transport)
        for phone in (alice, bob):
            phone.wait_registration("OK")
        alice.command("dial", f"sip:bob@{DOMAIN}")
        self.assertEqual(alice.event("CALL_ESTABLISHED")["peeruri"], f"sip:bob@{DOMAIN}")
        self.assertEqual(bob.event("CALL_ESTABLISHED")["peeruri"], f"sip:alice@{DOMAIN}")
        ender, other = (alice, bob) if hangs_up == "caller" else (bob, alice)
        ender.command("hangup")
        other.event("CALL_CLOSED")
        ender.wait_trace("200 to its BYE", lambda s: not s.sent and s.status == 200 and s.cseq_method == "BYE")
        # The proxy saw the dialog begin with the 2xx to the INVITE and end with the 200 to the BYE.
        self.wait_metric("sipfast_dialogs_ended_total", 1)
        text = self.scrape()
        self.assertEqual(metric(text, "sipfast_dialogs_created_total"), 1)
        self.assertEqual(metric(text, "sipfast_dialogs_active"), 0)
        for method in ("INVITE", "BYE"):  # not the challenged INVITE, which the proxy answered 407
            self.assertEqual(metric(text, "sipfast_requests_forwarded_total", method=method), 1, method)
        caller, callee = alice.trace(), bob.trace()

        proxy = f"127.0.0.1:{self.port}"
        for phone, trace in ((alice, caller), (bob, callee)):
            # Every message went between the phone and sipfastd, over the transport configured: the
            # requests the phone got were forwarded by the proxy (its Via on top; over TCP it may
            # open a connection of its own to the phone's contact), the responses came from it.
            self.assertEqual({s.transport for s in trace}, {transport.upper()}, trace)
            self.assertTrue(all(s.via_proxy for s in trace if not s.sent and s.method), trace)
            self.assertEqual({s.src for s in trace if not s.sent and s.status}, {proxy}, trace)
            self.assert_registered_through_a_challenge(phone, trace)

        invite = [s for s in caller if s.cseq_method in ("INVITE", "ACK")]
        # The caller: challenged 407 (and its ACK), the INVITE again with credentials, then 180 and 200.
        self.assertEqual(flow(invite)[:4], [(True, "INVITE"), (False, 407), (True, "ACK"), (True, "INVITE")], invite)
        self.assertRegex(header(next(s for s in invite if s.status == 407).text, "Proxy-Authenticate"),
                         rf'^Digest realm="{DOMAIN}", .*algorithm=MD5')
        self.assertRegex(header([s for s in invite if s.method == "INVITE"][-1].text, "Proxy-Authorization"),
                         rf'^Digest username="alice", realm="{DOMAIN}"')
        answers = [s.status for s in invite if not s.sent and s.status != 407]
        self.assertIn(180, answers)
        self.assertEqual(answers[-1], 200, invite)
        ok = next(s for s in invite if s.status == 200)
        record_route = header(ok.text, "Record-Route")
        self.assertRegex(record_route, rf"^<sip:127\.0\.0\.1:{self.port}[;>]")
        # The ACK to the 200 goes to bob's contact by way of the proxy (Route: its Record-Route).
        ack = next(s for s in invite[invite.index(ok):] if s.method == "ACK")
        self.assertEqual(header(ack.text, "Route"), record_route)

        # The callee: the INVITE came from the proxy (and not the ACK to the 407), without alice's
        # credentials, which were for the proxy's realm; it rang, answered 200 and got the ACK.
        invite = [s for s in callee if s.cseq_method in ("INVITE", "ACK")]
        self.assertEqual(flow(invite), [(False, "INVITE"), (True, 180), (True, 200), (False, "ACK")], invite)
        self.assertIsNone(header(invite[0].text, "Proxy-Authorization"))
        self.assertEqual(header(invite[0].text, "Record-Route"), record_route)

        # The BYE: sent by the one hanging up, answered 200 by the other, both through the proxy.
        for phone, trace in ((ender, ender.trace()), (other, other.trace())):
            bye = flow(s for s in trace if s.cseq_method == "BYE")
            self.assertEqual(bye, [(True, "BYE"), (False, 200)] if phone is ender else [(False, "BYE"), (True, 200)],
                             (phone.user, trace))

    def test_phones_register_and_call_over_udp(self):
        self.start_proxy()
        self.call("udp", hangs_up="caller")

    def test_phones_register_and_call_over_tcp_with_passwords_in_the_config(self):
        self.start_proxy(passwords=True)
        self.call("tcp", hangs_up="callee")

    def test_a_phone_with_a_wrong_password_is_never_registered(self):
        self.start_proxy()
        carol = self.phone("carol", "not-" + PASSWORDS["carol"], "udp")
        alice = self.phone("alice", PASSWORDS["alice"], "udp")
        carol.wait_registration("ERR")
        alice.wait_registration("OK")
        alice.command("dial", f"sip:carol@{DOMAIN}")
        # No binding: she never registered. She has an account, so she is unavailable, not unknown.
        self.assertEqual(alice.event("CALL_CLOSED")["param"], "480 Temporarily Unavailable")
        registers = [s for s in carol.trace() if s.cseq_method == "REGISTER"]
        answers = [s.status for s in registers if not s.sent]
        self.assertGreaterEqual(len(answers), 2, registers)  # the challenge, then the wrong credentials refused
        self.assertEqual(set(answers), {401}, registers)
        # Never stale=true, which would tell the phone its credentials were right but the nonce old.
        self.assertFalse(any("stale=true" in s.text for s in registers), registers)
        self.assertTrue(all(header(s.text, "Authorization") for s in registers[2:] if s.sent), registers)


if __name__ == "__main__":
    main()
