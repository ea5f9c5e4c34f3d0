# SPDX-License-Identifier: Apache-2.0
"""Steering in the kernel (docs/architecture.md, "Steering"): sipfastd with two workers and its
reuseport BPF program hands no message over between workers for a SIPp call flow, since the kernel
delivers each datagram to its owner's socket; with `steering = "kernel"` (or when BPF is refused)
the 4-tuple spreading hands messages over, and calls still complete.

Usage: steering_test.py SIPFASTD SIPP_SCENARIO_DIR"""
import re
import shutil
import sys
import tempfile
import unittest
import urllib.request

from harness import Daemon, free_port, main, metric, need, sipp_calls

SIPFASTD = sys.argv.pop(1)
SCENARIOS = sys.argv.pop(1)

# Calls from one SIPp caller port to one callee port: two 4-tuples, so the kernel's own spreading
# sends each side's datagrams to one worker while the calls' owners split about evenly between
# the two; 20 calls all owned by the one worker their 4-tuples reach happen once in 2^20 runs.
CALLS = 20


class Steering(unittest.TestCase):
    def setUp(self):
        self.sipp = need("sipp", "sip-tester")
        self.tmp = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def calls_through(self, steering, prefix=()):
        """Runs CALLS calls through a 2-worker stateful sipfastd; (mailbox hops, its log)."""
        port, uas_port = free_port(), free_port()
        config = (f'listen = ["udp:127.0.0.1:{port}"]\nworkers = 2\nmode = "stateful"\n' +
                  (f'steering = "{steering}"\n' if steering else "") +
                  f'domains = ["127.0.0.1"]\n[[location]]\nuser = "bob"\ndomain = "127.0.0.1"\n'
                  f'contact = "sip:bob@127.0.0.1:{uas_port}"\n')
        proxy = Daemon(SIPFASTD, self.tmp, config, prefix=prefix)
        try:
            sipp_calls(self.sipp, SCENARIOS, self.tmp, port, uas_port, CALLS)
            with urllib.request.urlopen(proxy.metrics_url, timeout=5) as r:
                text = r.read().decode()
        finally:
            proxy.stop()
        with open(proxy.log.name) as f:  # stop() closed the daemon's handle
            log = f.read()
        self.assertEqual(metric(text, "sipfast_dropped_total"), 0, text)
        # Every call's INVITE, ACK and BYE and the answers to them reached the proxy.
        self.assertGreaterEqual(metric(text, "sipfast_requests_received_total"), 3 * CALLS)
        return metric(text, "sipfast_mailbox_hops_total"), log

    def test_steered_by_the_kernel_no_message_is_handed_over(self):
        hops, log = self.calls_through(None)  # the default: ebpf
        self.assertIn("steering ebpf", log)
        self.assertEqual(hops, 0, log[-2000:])
        # The program, not luck, placed them: at stop it counts what it steered.
        steered = re.search(r"steering: (\d+) datagrams steered to their owner, (\d+) left to the kernel", log)
        self.assertIsNotNone(steered, log[-2000:])
        self.assertGreaterEqual(int(steered.group(1)), 5 * CALLS)  # INVITE, ACK, BYE, 180, 200, 200 each
        self.assertEqual(int(steered.group(2)), 0)

    def test_spread_by_4_tuple_messages_are_handed_over(self):
        hops, log = self.calls_through("kernel")
        self.assertIn("steering kernel (by 4-tuple)", log)
        self.assertGreater(hops, 0)

    def test_refused_bpf_falls_back_with_one_line(self):
        # Root without CAP_BPF and CAP_SYS_ADMIN: the kernel refuses the program (unprivileged BPF
        # is off on the machines this runs on; if it were on, loading would succeed and no line
        # would be written).
        setpriv = need("setpriv", "util-linux")
        with open("/proc/sys/kernel/unprivileged_bpf_disabled") as f:
            if f.read().strip() == "0":
                self.skipTest("unprivileged BPF is allowed here: nothing refuses the program")
        hops, log = self.calls_through(None, prefix=(setpriv, "--bounding-set=-bpf,-sys_admin,-perfmon"))
        self.assertEqual(len(re.findall(r"steering: eBPF refused", log)), 1, log[-2000:])
        self.assertIn("steering kernel (eBPF refused)", log)
        self.assertGreater(hops, 0)


if __name__ == "__main__":
    main()
