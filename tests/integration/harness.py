# SPDX-License-Identifier: Apache-2.0
"""What the integration tests share: free ports and a sipfastd process started from a config and
always stopped."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

# sipfastd's T1 when the config sets no [timers] t1_ms (RFC 3261's 500 ms).
DEFAULT_T1_MS = 500


def need(tool, package):
    """The path of `tool`. tools/setup installs it (Debian package `package`), so a test that finds it
    missing fails, naming the package: a skip would pass for a green run that tested nothing."""
    path = shutil.which(tool)
    if path is None:
        raise AssertionError(f"{tool} is not installed: install the Debian package {package} (tools/setup does)")
    return path


def ipv6_loopback_port(kind=socket.SOCK_DGRAM):
    """A free port on ::1 (for both UDP and TCP). The machines these tests run on have an IPv6
    loopback and tools/setup cannot make one: its absence is a fault of the environment, so the test
    fails saying so rather than skipping."""
    try:
        return free_port(kind, socket.AF_INET6, "::1")
    except OSError as e:
        raise AssertionError(f"no IPv6 loopback here (binding [::1] failed: {e}): this test needs ::1 on lo "
                             "(is IPv6 disabled, e.g. net.ipv6.conf.lo.disable_ipv6=1?)") from e


def outlasting_t1(t1_ms):
    """Seconds to wait before concluding that nothing (more) arrives: 2×T1 and a margin, so that a
    retransmission timer of the proxy (Timer A, E or G, first fired at T1) fires within the wait."""
    return 2 * t1_ms / 1000 + 0.1


def arrivals(sock, seconds, match=lambda data: True):
    """What arrives on `sock` within `seconds` that `match` accepts (the rest is dropped); reads until
    the time is up. A test that something never arrives asserts this is empty."""
    deadline = time.time() + seconds
    got = []
    while True:
        left = deadline - time.time()
        if left <= 0:
            return got
        sock.settimeout(left)
        try:
            data = sock.recv(65535)
        except socket.timeout:
            return got
        if match(data):
            got.append(data)


def main():
    """unittest.main with an exit status meson reads right: 1 on a failure, 77 (skipped) when a test
    was skipped, 0 only when every test ran and passed."""
    result = unittest.main(verbosity=2, exit=False).result
    sys.exit(1 if not result.wasSuccessful() else 77 if result.skipped else 0)


def metric(text, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(2))
    return total


def tcp_listener(port, host="127.0.0.1"):
    """A listening TCP socket on host:port with a 3 s timeout (a callee the proxy connects to)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(4)
    s.settimeout(3)
    return s


def udp_socket(port=0, host="127.0.0.1"):
    """A UDP socket bound to host:port (0: any) with a 3 s timeout."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    s.settimeout(3)
    return s


def free_port(kind=socket.SOCK_DGRAM, family=socket.AF_INET, host="127.0.0.1"):
    """A port free for both UDP and TCP on host, so one number can serve as both listen addresses."""
    for _ in range(50):
        with socket.socket(family, kind) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        other = socket.SOCK_STREAM if kind == socket.SOCK_DGRAM else socket.SOCK_DGRAM
        try:
            with socket.socket(family, other) as t:
                t.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no port free for both UDP and TCP")


def sipp_calls(sipp, scenarios, tmp, proxy_port, uas_port, calls, uac_transport="u1", uac_scenario="uac_rr.xml",
               uac_args=(), uas_scenario="uas_rr.xml"):
    """`calls` calls from a SIPp caller (uac_rr.xml, or `uac_scenario` with `uac_args`, over
    `uac_transport`) through the proxy to a SIPp callee on UDP (uas_rr.xml, or `uas_scenario`); both
    must succeed.
    Returns the callee's message trace."""
    uas_log, uac_log = os.path.join(tmp, "uas.log"), os.path.join(tmp, "uac.log")
    uas = subprocess.Popen([sipp, "-sf", os.path.join(scenarios, uas_scenario), "-i", "127.0.0.1",
                            "-p", str(uas_port), "-m", str(calls), "-nostdin", "-timeout", "30s",
                            "-trace_msg", "-message_file", uas_log],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    try:
        time.sleep(0.3)
        kind = socket.SOCK_STREAM if uac_transport.startswith("t") else socket.SOCK_DGRAM
        uac = subprocess.run([sipp, "-sf", os.path.join(scenarios, uac_scenario), "-t", uac_transport, "-s", "bob", *uac_args,
                              f"127.0.0.1:{proxy_port}", "-i", "127.0.0.1", "-p", str(free_port(kind)),
                              "-m", str(calls), "-r", "10", "-nostdin", "-timeout", "30s", "-timeout_error",
                              "-trace_msg", "-message_file", uac_log],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp, timeout=60)
        if uac.returncode != 0:
            raise AssertionError("the SIPp caller failed: " + uac.stdout.decode(errors="replace")[-3000:])
        if uas.wait(timeout=30) != 0:
            raise AssertionError("the SIPp callee failed")
    finally:
        if uas.poll() is None:
            uas.kill()
    with open(uas_log) as f:  # read with newline translation: CRLF becomes \n
        return f.read()


class DaemonClass:
    """A test class with one daemon for all its tests: setUpClass sets cls.tmp and cls.proxy;
    tearDownClass stops it (failing on an unclean exit) and removes the folder."""

    @classmethod
    def tearDownClass(cls):
        try:
            if getattr(cls, "proxy", None):
                cls.proxy.stop()
        finally:
            shutil.rmtree(getattr(cls, "tmp", "/nonexistent"), ignore_errors=True)


def with_database(config, path):
    """`config` with [registrar] database = `path`, in its [registrar] table or a new one."""
    line = f'database = "{path}"\n'
    if re.search(r"^\[registrar\]\s*$", config, re.M):
        return re.sub(r"^\[registrar\]\s*$\n?", lambda m: "[registrar]\n" + line, config, count=1, flags=re.M)
    return config + "\n[registrar]\n" + line


class Daemon:
    """sipfastd running `config` (TOML text) from `tmp`; stop() sends SIGTERM and waits. Unless the
    config says otherwise its control socket and its bindings database are in `tmp` and its metrics
    on an ephemeral port, so tests never meet another daemon's."""

    def __init__(self, binary, tmp, config, name="sipfastd", prefix=()):
        self.config = os.path.join(tmp, name + ".toml")
        self.control = os.path.join(tmp, name + ".sock")
        self.database = os.path.join(tmp, name + ".db")
        self.write_config(config)
        self.log = open(os.path.join(tmp, name + ".log"), "w+")
        # prefix: what runs it (e.g. setpriv with fewer capabilities)
        self.proc = subprocess.Popen([*prefix, binary, "--config", self.config], stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline and "listening on" not in self.output() and self.proc.poll() is None:
            time.sleep(0.05)
        if "listening on" not in self.output():
            out = self.output()
            try:
                self.stop()
            finally:
                raise AssertionError("sipfastd did not start: " + out)

    def write_config(self, config):
        """Writes `config` to the daemon's file, with this daemon's control socket, metrics port and
        database unless it names its own (for a reload, the same as at start), and loopback trusted
        and reachable unless it has a [policy] or [[peer]] of its own."""
        if "control_socket" not in config:
            config = f'control_socket = "{self.control}"\n' + config
        if "[metrics]" not in config:
            config += '\n[metrics]\nlisten = "127.0.0.1:0"\n'
        if not re.search(r"^database\s*=", config, re.M):
            config = with_database(config, self.database)
        if "[policy]" not in config and "[[peer]]" not in config:
            # The test's own agents are on loopback: trusted and reachable, as the embedded default has it.
            config += '\n[policy]\nallow_loopback = true\n[[peer]]\naddress = "127.0.0.0/8"\n'
        with open(self.config, "w") as f:
            f.write(config)

    @property
    def metrics_url(self):
        m = re.search(r"metrics (http://\S+/metrics)", self.output())
        return m.group(1) if m else None

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def kill(self):
        """SIGKILL, as a crash: nothing of sipfastd's runs after it."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self):
        """Stops it; raises when it did not exit cleanly (a crash, a sanitizer report)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        out = "" if self.log.closed else self.output()
        if not self.log.closed:
            self.log.close()
        if self.proc.returncode != 0:
            raise AssertionError(f"sipfastd exited with {self.proc.returncode}: {out[-3000:]}")


def unmarked(text):
    """`text` without the dialog marks (;sfd=...) sipfast puts in its Record-Route (its value is a
    MAC under the process's key: the tests compare the rest)."""
    return re.sub(r";sfd=[0-9a-f]{16}(?=[;>])", "", text)


def header(msg, name):
    m = re.search(rf"^{name}:\s*(.*?)\r?$", msg, re.M | re.I)
    return m.group(1).strip() if m else None


def all_headers(msg, name):
    return [v.strip() for v in re.findall(rf"^{name}:\s*(.*?)\r?$", msg, re.M | re.I)]


class StreamReader:
    """Reads SIP messages off a TCP socket, framed by Content-Length."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.pongs = 0  # RFC 5626 keep-alive answers (a bare CRLF) seen between messages

    def _skip_pongs(self):
        while self.buf.startswith(b"\r\n"):
            self.buf = self.buf[2:]
            self.pongs += 1

    def message(self, timeout=3.0):
        deadline = time.time() + timeout
        while True:
            self._skip_pongs()
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                m = re.search(rb"^(?:Content-Length|l):\s*(\d+)", self.buf[:end], re.M | re.I)
                total = end + 4 + (int(m.group(1)) if m else 0)
                if len(self.buf) >= total:
                    msg, self.buf = self.buf[:total], self.buf[total:]
                    self._skip_pongs()
                    return msg.decode()
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no complete message; have %r" % self.buf[:200])
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed by the proxy; have %r" % self.buf[:200])
            self.buf += data

    def closed(self, timeout=4.0):
        """True when the peer closes the connection within timeout (what it still sends is kept)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.time()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not data:
                return True
            self.buf += data
        return False
