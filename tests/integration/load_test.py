# SPDX-License-Identifier: Apache-2.0
"""The embedded default under load: SIPp at 2000 calls/s through sipfastd with its default worker
count (one per core), every call complete and no message dropped at a hand-over between workers.
A bounded version of bench/sustained_load.py (60 s, past Timer J, with resident memory over time).

Usage: load_test.py SIPFASTD SIPP_SCENARIO_DIR"""
import csv
import os
import re
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from harness import Daemon, free_port, main, need

SIPFASTD = sys.argv.pop(1)
SCENARIOS = sys.argv.pop(1)

RATE = 2000
CALLS = 10000  # 5 s of calls: sized by work, the rate is SIPp's


def samples(text, name):
    """{labels: value} of every sample of `name` in Prometheus text."""
    out = {}
    for m in re.finditer(rf"^{name}(\{{[^}}]*\}})? (\S+)$", text, re.M):
        out[m.group(1) or ""] = float(m.group(2))
    return out


class Load(unittest.TestCase):
    def test_2000_calls_a_second_through_the_default_complete_with_nothing_dropped(self):
        sipp = need("sipp", "sip-tester")
        with tempfile.TemporaryDirectory() as tmp:
            port, uas_port = free_port(), free_port()
            # The embedded default's keys (etc/sipfast.toml) but for where it listens and its
            # operations endpoints, which must not meet another daemon's, and the steering: with the
            # kernel's 4-tuple spreading the hand-over between workers is what is loaded (with the
            # default eBPF steering nothing is handed over: steering_test.py).
            proxy = Daemon(SIPFASTD, tmp, f'listen = ["udp:127.0.0.1:{port}"]\ndomains = ["localhost", "127.0.0.1"]\n'
                                          'steering = "kernel"\n')
            uas = None
            try:
                self.assertRegex(proxy.output(), r"; (\d+) workers;")
                buffers = ["-buff_size", str(4 << 20)]  # SIPp's own sockets must not be what drops
                uas = subprocess.Popen([sipp, "-sf", os.path.join(SCENARIOS, "uas_rr.xml"), "-i", "127.0.0.1", "-p",
                                        str(uas_port), "-nostdin", *buffers],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
                stats = os.path.join(tmp, "uac.csv")
                uac = subprocess.run([sipp, "-sf", os.path.join(SCENARIOS, "uac_rr.xml"), "-s", "bob",
                                      f"127.0.0.1:{uas_port}", "-rsa", f"127.0.0.1:{port}", "-i", "127.0.0.1",
                                      "-p", str(free_port()), "-m", str(CALLS), "-r", str(RATE), "-nostdin",
                                      "-timeout", "60s", "-trace_stat", "-stf", stats, *buffers],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp, timeout=120)
                with open(stats) as f:
                    rows = list(csv.reader(f, delimiter=";"))
                last = dict(zip(rows[0], rows[-1]))
                self.assertEqual(int(last["SuccessfulCall(C)"]), CALLS, uac.stdout.decode(errors="replace")[-2000:])
                self.assertEqual(int(last["FailedCall(C)"]), 0)
                self.assertEqual(uac.returncode, 0)
                with urllib.request.urlopen(proxy.metrics_url, timeout=5) as r:
                    text = r.read().decode()
                drops = {k: v for k, v in samples(text, "sipfast_dropped_total").items() if v}
                self.assertEqual(drops, {}, "messages dropped by sipfastd")
                hops = sum(samples(text, "sipfast_mailbox_hops_total").values())
                workers = int(re.search(r"; (\d+) workers;", proxy.output()).group(1))
                if workers > 1:  # the hand-over was exercised, not avoided
                    self.assertGreater(hops, 0)
            finally:
                if uas is not None:
                    uas.kill()
                    uas.wait()
                proxy.stop()


if __name__ == "__main__":
    main()
