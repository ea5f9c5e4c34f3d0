#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfastd as operators run it: counters and histograms after SIPp calls and bad input, /metrics
checked by promtool and scraped by a real Prometheus, sipfastctl, rate-limited logs, a reload under
load that changes a route, a bad reload that keeps the old config, and SIGTERM draining.
Usage: ops_test.py SIPFASTD SIPFASTCTL SIPP_SCENARIO_DIR"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from harness import Daemon, DaemonClass, all_headers, free_port, header, main, metric, need

SIPFASTD = sys.argv.pop(1)
SIPFASTCTL = sys.argv.pop(1)
SCENARIOS = sys.argv.pop(1)
SIPP = shutil.which("sipp")
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def config(port, bob_port, extra=""):
    return f"""listen = ["udp:127.0.0.1:{port}"]
workers = 2
domains = ["127.0.0.1"]
shutdown_grace_ms = 8000
{extra}
[[location]]
user = "bob"
domain = "127.0.0.1"
contact = "sip:bob@127.0.0.1:{bob_port}"
"""


def sipp_uas(tmp, port, name, calls=0):
    log = os.path.join(tmp, name + ".log")
    args = [SIPP, "-sf", os.path.join(SCENARIOS, "uas_rr.xml"), "-i", "127.0.0.1", "-p", str(port), "-nostdin",
            "-timeout", "60s", "-trace_msg", "-message_file", log]
    if calls:
        args += ["-m", str(calls)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp), log


def sipp_uac(tmp, proxy_port, calls, rate, name="uac"):
    return subprocess.Popen([SIPP, "-sf", os.path.join(SCENARIOS, "uac_rr.xml"), "-s", "bob", f"127.0.0.1:{proxy_port}",
                             "-i", "127.0.0.1", "-p", str(free_port()), "-m", str(calls), "-r", str(rate), "-nostdin",
                             "-timeout", "60s", "-timeout_error", "-trace_stat", "-stf", os.path.join(tmp, name + ".csv")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp)


def invites_in(log):
    with open(log) as f:
        return len(re.findall(r"message received[^\n]*\n\n(INVITE .*?)\n\n", f.read(), re.S))


class Operations(DaemonClass, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        need("sipp", "sip-tester")
        cls.tmp = tempfile.mkdtemp(prefix="sipfast-ops-")
        cls.port, cls.bob = free_port(), free_port()
        cls.proxy = Daemon(SIPFASTD, cls.tmp, config(cls.port, cls.bob))
        uas, cls.uas_log = sipp_uas(cls.tmp, cls.bob, "uas", calls=3)
        uac = sipp_uac(cls.tmp, cls.port, 3, 10)
        out = uac.communicate(timeout=60)[0]
        uas.wait(timeout=30)
        if uac.returncode != 0:
            raise AssertionError(out.decode(errors="replace")[-2000:])
        # Bad input: 300 datagrams that are not SIP, then one malformed request that gets a 400.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i in range(300):
                s.sendto(b"garbage %d\r\n\r\n" % i, ("127.0.0.1", cls.port))
            s.sendto(b"OPTIONS sip:x@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbad\r\n"
                     b"From: <sip:a@b>;tag=1\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: bad\r\nCSeq: x OPTIONS\r\n\r\n",
                     ("127.0.0.1", cls.port))
        time.sleep(1.5)  # the workers' once-a-second fault report

    def scrape(self):
        with urllib.request.urlopen(self.proxy.metrics_url, timeout=5) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("text/plain", r.headers["Content-Type"])
            return r.read().decode()

    def ctl(self, *args):
        return subprocess.run([SIPFASTCTL, "--socket", self.proxy.control, *args], capture_output=True, timeout=20)

    def test_counters_and_histograms_after_calls_and_bad_input(self):
        text = self.scrape()
        self.assertEqual(metric(text, "sipfast_requests_received_total", method="INVITE"), 3)
        self.assertEqual(metric(text, "sipfast_requests_received_total", method="ACK"), 3)
        self.assertEqual(metric(text, "sipfast_requests_forwarded_total", method="BYE"), 3)
        self.assertEqual(metric(text, "sipfast_responses_forwarded_total", **{"class": "2xx"}), 6)  # 200 INVITE, 200 BYE
        self.assertEqual(metric(text, "sipfast_transactions_created_total"), 6)  # INVITE and BYE per call
        self.assertEqual(metric(text, "sipfast_transactions_pending"), 0)
        # The BYEs' server transactions stay Completed for Timer J (64*T1) to absorb retransmissions.
        self.assertLessEqual(metric(text, "sipfast_transactions_active"), 3)
        self.assertEqual(metric(text, "sipfast_dropped_total", cause="malformed"), 301)
        self.assertEqual(metric(text, "sipfast_parse_errors_total", reason="invalid_number"), 1)
        self.assertEqual(metric(text, "sipfast_responses_sent_total", **{"class": "4xx"}), 1)
        self.assertEqual(metric(text, "sipfast_request_latency_seconds_count", method="INVITE"), 3)
        self.assertEqual(metric(text, "sipfast_call_setup_seconds_count"), 3)
        self.assertEqual(metric(text, "sipfast_dialogs_created_total"), 3)
        self.assertEqual(metric(text, "sipfast_dialogs_ended_total"), 3)
        self.assertEqual(metric(text, "sipfast_dialogs_active"), 0)
        self.assertGreater(metric(text, "sipfast_received_bytes_total"), 0)
        self.assertGreater(metric(text, "sipfast_worker_busy_seconds_total"), 0)

    def test_metrics_pass_promtool(self):
        need("promtool", "prometheus")
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=self.scrape().encode(), capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 0, (r.stdout + r.stderr).decode())

    def test_a_prometheus_server_scrapes_it(self):
        need("prometheus", "prometheus")
        web = free_port(socket.SOCK_STREAM)
        target = self.proxy.metrics_url.split("//")[1].split("/")[0]
        cfg = os.path.join(self.tmp, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write(f"global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sipfast\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        prom = subprocess.Popen([PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={self.tmp}/tsdb",
                                 f"--web.listen-address=127.0.0.1:{web}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            query = f"http://127.0.0.1:{web}/api/v1/query?query=sum(sipfast_requests_received_total%7Bmethod%3D%22INVITE%22%7D)"
            value = None
            deadline = time.time() + 60
            while time.time() < deadline and value is None:
                time.sleep(1)
                try:
                    with urllib.request.urlopen(query, timeout=5) as r:
                        result = json.load(r)["data"]["result"]
                        if result:
                            value = float(result[0]["value"][1])
                except OSError:
                    continue
            self.assertEqual(value, 3)
        finally:
            prom.terminate()
            try:
                prom.wait(timeout=20)
            except subprocess.TimeoutExpired:
                prom.kill()

    def test_sipfastctl(self):
        r = self.ctl("stats")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertRegex(out, r"\nrequests received\s+\d+\s+[\d.]+\n(  \S+\s+\d+\s+[\d.]+\n)*  INVITE\s+3\s")
        self.assertRegex(out, r"call setup\s+3\s")
        j = json.loads(self.ctl("stats", "--json").stdout)
        self.assertEqual(j["counters"]["requests forwarded"], 9)
        self.assertEqual(j["counters"]["requests forwarded INVITE"], 3)
        self.assertEqual(j["workers"], 2)
        self.assertIn("p99.9", j["latency_us"]["request INVITE"])
        self.assertIn(f"bob@127.0.0.1 -> sip:bob@127.0.0.1:{self.bob}", self.ctl("routes").stdout.decode())
        self.assertRegex(self.ctl("version").stdout.decode(), r"^sipfastd \d+\.\d+")
        gone = subprocess.run([SIPFASTCTL, "--socket", os.path.join(self.tmp, "nobody.sock"), "stats"],
                              capture_output=True, timeout=20)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("sipfastd is not running", gone.stderr.decode())

    def test_a_flood_of_bad_packets_is_one_log_line_a_second(self):
        lines = [l for l in self.proxy.output().splitlines() if "malformed messages in the last second" in l]
        self.assertGreaterEqual(len(lines), 1)
        self.assertLessEqual(len(lines), 4)  # two workers, at most two reports each for a burst under a second
        self.assertEqual(sum(int(re.search(r": (\d+) malformed", l).group(1)) for l in lines), 301)


class ReloadAndStop(unittest.TestCase):
    def setUp(self):
        need("sipp", "sip-tester")
        self.tmp = tempfile.mkdtemp(prefix="sipfast-reload-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.port, self.old_uas, self.new_uas = free_port(), free_port(), free_port()

    def test_a_reload_under_load_changes_the_route_and_drops_no_call(self):
        proxy = Daemon(SIPFASTD, self.tmp, config(self.port, self.old_uas))
        self.addCleanup(proxy.stop)
        old, old_log = sipp_uas(self.tmp, self.old_uas, "old")
        new, new_log = sipp_uas(self.tmp, self.new_uas, "new")
        try:
            time.sleep(0.3)
            calls = 200
            uac = sipp_uac(self.tmp, self.port, calls, 50)  # 4 s of calls
            time.sleep(2)
            proxy.write_config(config(self.port, self.new_uas))
            proxy.proc.send_signal(signal.SIGHUP)
            out = uac.communicate(timeout=90)[0].decode(errors="replace")
            self.assertEqual(uac.returncode, 0, out[-2000:])
        finally:
            for p in (old, new):
                p.terminate()
                p.wait(timeout=20)
        before, after = invites_in(old_log), invites_in(new_log)
        self.assertEqual(before + after, calls)
        self.assertGreater(before, 0)
        self.assertGreater(after, 0)
        self.assertIn("reloaded", proxy.output())
        # A bad file is refused with file, line and reason; the running config stays.
        with open(proxy.config, "a") as f:
            f.write('mode = "fast"\n')
        r = subprocess.run([SIPFASTCTL, "--socket", proxy.control, "reload"], capture_output=True, timeout=20)
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stdout.decode(), rf"error: {re.escape(proxy.config)}:\d+: ")
        self.assertIn(f"-> sip:bob@127.0.0.1:{self.new_uas}",
                      subprocess.run([SIPFASTCTL, "--socket", proxy.control, "routes"], capture_output=True,
                                     timeout=20).stdout.decode())

    def test_sigterm_finishes_transactions_in_flight_and_refuses_new_calls(self):
        proxy = Daemon(SIPFASTD, self.tmp, config(self.port, self.old_uas))
        self.addCleanup(proxy.stop)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as caller, \
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as callee:
            caller.bind(("127.0.0.1", 0))
            callee.bind(("127.0.0.1", self.old_uas))
            for s in (caller, callee):
                s.settimeout(3)
            cport = caller.getsockname()[1]

            def invite(n):
                return (f"INVITE sip:bob@127.0.0.1:{self.port} SIP/2.0\r\n"
                        f"Via: SIP/2.0/UDP 127.0.0.1:{cport};branch=z9hG4bKdrain{n};rport\r\nMax-Forwards: 70\r\n"
                        f"From: <sip:alice@127.0.0.1>;tag=a{n}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: drain{n}@x\r\n"
                        f"CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()

            caller.sendto(invite(1), ("127.0.0.1", self.port))
            self.assertTrue(caller.recv(65535).startswith(b"SIP/2.0 100 Trying"))
            got = callee.recv(65535).decode()
            proxy.proc.send_signal(signal.SIGTERM)  # one transaction in flight
            time.sleep(0.3)
            caller.sendto(invite(2), ("127.0.0.1", self.port))  # a new call while draining
            refused = caller.recv(65535).decode()
            self.assertTrue(refused.startswith("SIP/2.0 503 Service Unavailable"), refused)
            self.assertEqual(header(refused, "Retry-After"), "30")
            self.assertIsNone(proxy.proc.poll())  # still waiting for the first call's answer
            vias = "".join(f"Via: {v}\r\n" for v in all_headers(got, "Via"))
            callee.sendto((f"SIP/2.0 200 OK\r\n{vias}From: {header(got, 'From')}\r\nTo: {header(got, 'To')};tag=b1\r\n"
                           f"Call-ID: drain1@x\r\nCSeq: 1 INVITE\r\nContact: <sip:bob@127.0.0.1:{self.old_uas}>\r\n"
                           f"Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", self.port))
            self.assertTrue(caller.recv(65535).startswith(b"SIP/2.0 200 OK"))  # answered while draining
            started = time.time()
            self.assertEqual(proxy.proc.wait(timeout=8), 0)
            self.assertLess(time.time() - started, 8)


if __name__ == "__main__":
    main()
