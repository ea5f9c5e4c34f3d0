# SPDX-License-Identifier: Apache-2.0
"""sipfast-loadgen through sipfastd (UDP, and TCP): its caller calls a user whom sipfastd (stateful, record-route)
routes to its own callee, a bounded number of calls; every call completes, with its latencies
reported, and sipfastd saw each call's INVITE, ACK and BYE once. With --users, the callee first
registers the users through sipfastd's digest challenge and the calls reach them by lookup. Also the caller against its own
callee with no proxy between, the generator's own baseline.

Usage: loadgen_test.py SIPFASTD SIPFAST_LOADGEN"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from harness import Daemon, free_port, ipv6_loopback_port, main

SIPFASTD = sys.argv.pop(1)
LOADGEN = sys.argv.pop(1)

CALLS = 2000
RATE = 500  # 4 s of calls: sized by work; a 2x slower machine still keeps up at this rate


def requests_received(proxy):
    with urllib.request.urlopen(proxy.metrics_url, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^sipfast_requests_received_total\{worker="\d+",method="(\w+)"\} (\S+)$', text, re.M):
        out[m.group(1)] = out.get(m.group(1), 0) + int(float(m.group(2)))
    return out


def proxy_cpu(proxy):
    """User and system seconds the daemon has used (all its threads)."""
    with open(f"/proc/{proxy.proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Loadgen(unittest.TestCase):
    def run_loadgen(self, tmp, *args):
        out = os.path.join(tmp, "summary.json")
        r = subprocess.run([LOADGEN, *args, "-r", str(RATE), "-m", str(CALLS), "--json", out],
                           capture_output=True, text=True, timeout=120)
        if not os.path.exists(out):
            return r, {}
        with open(out) as f:
            return r, json.load(f)

    def assert_every_call_completed(self, r, j):
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)
        self.assertEqual(j["offered"], CALLS)
        self.assertEqual(j["completed"], CALLS)
        self.assertEqual(j["failed"], 0)
        self.assertEqual(j["uas"]["invites"], CALLS)
        self.assertEqual(j["uas"]["completed"], CALLS)
        for step in ("invite_180", "invite_200", "bye_200"):
            lat = j["latency_us"][step]
            self.assertEqual(lat["count"], CALLS, step)
            self.assertTrue(0 < lat["p50_us"] <= lat["p99_us"] <= lat["max_us"], (step, lat))
        self.assertRegex(r.stdout, rf"calls: {CALLS} offered, {CALLS} started, {CALLS} completed, 0 failed")
        self.assertRegex(r.stdout, r"INVITE->200 +%d " % CALLS)
        self.assertRegex(r.stdout, r"\[1s\] offered \d+/s completed \d+/s failed 0")  # the report every second

    def test_calls_through_sipfastd_to_its_own_callee_all_complete(self):
        with tempfile.TemporaryDirectory() as tmp:
            port, uas_port = free_port(), free_port()
            proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:127.0.0.1:{port}"]\nmode = "stateful"\nrecord_route = true\n'
                                          f'domains = ["localhost", "127.0.0.1"]\n[[location]]\nuser = "service"\n'
                                          f'contact = "sip:service@127.0.0.1:{uas_port}"\n')
            try:
                r, j = self.run_loadgen(tmp, "both", "-t", f"127.0.0.1:{port}", "--uas-port", str(uas_port))
                seen = requests_received(proxy)
            finally:
                proxy.stop()
            self.assert_every_call_completed(r, j)
            # Through the proxy, each request once (no retransmission on loopback at this rate is
            # not promised: at most a few), and the route set was followed (ACK and BYE came back).
            self.assertGreaterEqual(seen.get("INVITE", 0), CALLS)
            self.assertGreaterEqual(seen.get("ACK", 0), CALLS)
            self.assertGreaterEqual(seen.get("BYE", 0), CALLS)
            self.assertLessEqual(seen["INVITE"] + seen["ACK"] + seen["BYE"] - 3 * CALLS, j["retransmissions"])

    def test_calls_between_users_it_registered_with_digest_all_complete(self):
        """--users with --password: the callee registers user1..user20 through sipfastd, which
        challenges each REGISTER (authenticate = "all"); calls are then between them, each INVITE
        challenged 407 and sent again with credentials, and reach the callee through the registrar's
        lookup, not a static route."""
        users = 20
        with tempfile.TemporaryDirectory() as tmp:
            port, uas_port = free_port(), free_port()
            accounts = "".join(f'[[user]]\nname = "user{i}"\npassword = "secret"\n' for i in range(1, users + 1))
            proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:127.0.0.1:{port}"]\nmode = "stateful"\n'
                                          f'domains = ["127.0.0.1"]\n[auth]\nauthenticate = "all"\n{accounts}')
            try:
                r, j = self.run_loadgen(tmp, "both", "-t", f"127.0.0.1:{port}", "--uas-port", str(uas_port),
                                        "--user", "user", "--users", str(users), "--password", "secret")
                seen = requests_received(proxy)
                # A wrong password: told, and no call made.
                bad = subprocess.run([LOADGEN, "both", "-t", f"127.0.0.1:{port}", "--uas-port", str(uas_port),
                                      "--user", "user", "--users", "3", "--password", "wrong", "-m", "10"],
                                     capture_output=True, text=True, timeout=60)
            finally:
                proxy.stop()
            self.assert_every_call_completed(r, j)
            reg = j["registration"]
            self.assertEqual((reg["users"], reg["registered"], reg["challenges"]), (users, users, users), reg)
            self.assertEqual(reg["register_200_us"]["count"], users)
            self.assertRegex(r.stdout, rf"registered {users} of {users} users in ")
            self.assertEqual(seen.get("REGISTER"), 2 * users)  # each challenged once, then accepted
            self.assertEqual(j["challenges"], CALLS)  # every INVITE challenged once ...
            self.assertGreaterEqual(seen.get("INVITE", 0), 2 * CALLS)  # ... and sent again
            self.assertIn(f"challenges answered: {CALLS}", r.stdout)
            self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
            self.assertIn("failed auth_rejected 3", bad.stdout)
            self.assertIn("3 of 3 users not registered", bad.stderr)
            self.assertNotIn("calls:", bad.stdout)

    def test_over_ipv6_users_register_and_every_call_completes(self):
        users = 10
        with tempfile.TemporaryDirectory() as tmp:
            port, uas_port = ipv6_loopback_port(), ipv6_loopback_port()
            accounts = "".join(f'[[user]]\nname = "v{i}"\npassword = "pw"\n' for i in range(1, users + 1))
            proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:[::1]:{port}"]\nmode = "stateful"\ndomains = ["[::1]"]\n'
                                          f'[policy]\nallow_loopback = true\n[[peer]]\naddress = "::1/128"\n'
                                          f'[auth]\nauthenticate = "register"\n{accounts}')
            try:
                r, j = self.run_loadgen(tmp, "both", "--local", "::1", "-t", f"[::1]:{port}", "--uas-port", str(uas_port),
                                        "--user", "v", "--users", str(users), "--password", "pw")
                seen = requests_received(proxy)
            finally:
                proxy.stop()
            self.assert_every_call_completed(r, j)
            self.assertEqual(j["registration"]["registered"], users)
            self.assertEqual(j["target"], f"[::1]:{port}")
            self.assertGreaterEqual(seen.get("INVITE", 0), CALLS)

    def test_a_busy_poll_window_keeps_workers_awake_and_loses_nothing(self):
        """busy_poll_us (for dedicated cores): after traffic a worker polls without sleeping for the
        window. Every call still completes, and the workers spend the window awake: the daemon uses
        several times the CPU of the same daemon without it, for the same calls."""
        cpu = {}
        for window in (0, 2000):
            with tempfile.TemporaryDirectory() as tmp:
                port, uas_port = free_port(), free_port()
                proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:127.0.0.1:{port}"]\nworkers = 2\nbusy_poll_us = {window}\n'
                                              f'domains = ["localhost", "127.0.0.1"]\n[[location]]\nuser = "service"\n'
                                              f'contact = "sip:service@127.0.0.1:{uas_port}"\n')
                try:
                    before = proxy_cpu(proxy)
                    r, j = self.run_loadgen(tmp, "both", "-t", f"127.0.0.1:{port}", "--uas-port", str(uas_port))
                    cpu[window] = proxy_cpu(proxy) - before
                finally:
                    proxy.stop()
                self.assert_every_call_completed(r, j)
        # 3 000 datagrams a second keep each worker in its 2 ms window nearly all the time; without
        # it a worker sleeps between them (a few per cent of a core at this rate).
        self.assertGreater(cpu[2000], 3 * cpu[0], cpu)

    def test_calls_over_tcp_through_sipfastd_all_complete(self):
        with tempfile.TemporaryDirectory() as tmp:
            port, uas_port = free_port(), free_port()  # free for UDP and TCP both
            proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:127.0.0.1:{port}", "tcp:127.0.0.1:{port}"]\n'
                                          f'mode = "stateful"\nrecord_route = true\n'
                                          f'domains = ["localhost", "127.0.0.1"]\n[[location]]\nuser = "service"\n'
                                          f'contact = "sip:service@127.0.0.1:{uas_port};transport=tcp"\n')
            try:
                r, j = self.run_loadgen(tmp, "both", "--tcp", "-t", f"127.0.0.1:{port}", "--uas-port", str(uas_port))
                seen = requests_received(proxy)
            finally:
                proxy.stop()
            self.assert_every_call_completed(r, j)
            self.assertEqual(j["transport"], "tcp")
            self.assertEqual(j["retransmissions"], 0)  # none over TCP
            self.assertEqual((seen.get("INVITE"), seen.get("ACK"), seen.get("BYE")), (CALLS, CALLS, CALLS))

    def test_calls_to_its_own_callee_with_no_proxy_all_complete(self):
        with tempfile.TemporaryDirectory() as tmp:
            r, j = self.run_loadgen(tmp, "both", "--uas-port", str(free_port()), "--threads", "2")
            self.assert_every_call_completed(r, j)
            self.assertEqual(j["threads"], 2)


if __name__ == "__main__":
    main()
