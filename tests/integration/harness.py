# SPDX-License-Identifier: Apache-2.0
"""What the integration tests share: free ports and a sipfastd process started from a config and
always stopped."""
import os
import re
import signal
import socket
import subprocess
import time


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


class Daemon:
    """sipfastd running `config` (TOML text) from `tmp`; stop() sends SIGTERM and waits. Unless the
    config says otherwise its control socket is in `tmp` and its metrics on an ephemeral port, so
    tests never meet another daemon's."""

    def __init__(self, binary, tmp, config, name="sipfastd"):
        self.config = os.path.join(tmp, name + ".toml")
        self.control = os.path.join(tmp, name + ".sock")
        if "control_socket" not in config:
            config = f'control_socket = "{self.control}"\n' + config
        if "[metrics]" not in config:
            config += '\n[metrics]\nlisten = "127.0.0.1:0"\n'
        with open(self.config, "w") as f:
            f.write(config)
        self.log = open(os.path.join(tmp, name + ".log"), "w+")
        self.proc = subprocess.Popen([binary, "--config", self.config], stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline and "listening on" not in self.output() and self.proc.poll() is None:
            time.sleep(0.05)
        if "listening on" not in self.output():
            out = self.output()
            try:
                self.stop()
            finally:
                raise AssertionError("sipfastd did not start: " + out)

    @property
    def metrics_url(self):
        m = re.search(r"metrics (http://\S+/metrics)", self.output())
        return m.group(1) if m else None

    def output(self):
        self.log.seek(0)
        return self.log.read()

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
