# SPDX-License-Identifier: Apache-2.0
"""The newcomer's first load test: sipfastd on the embedded default (etc/sipfast.toml as it is,
but for its control socket, metrics port and bindings database, which must not meet another
daemon's), then tools/loadtest: SIPp's built-in caller and callee through it, every call complete,
sipfastd's counts and latency quantiles printed.

Usage: loadtest_test.py SIPFASTD SOURCE_ROOT"""
import os
import subprocess
import sys
import tempfile
import unittest

from harness import Daemon, main, need

SIPFASTD = sys.argv.pop(1)
ROOT = sys.argv.pop(1)


class LoadTest(unittest.TestCase):
    def test_sipps_built_in_scenarios_complete_through_the_embedded_default(self):
        need("sipp", "sip-tester")
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(ROOT, "etc/sipfast.toml")) as f:
                proxy = Daemon(SIPFASTD, tmp, f.read())
            try:
                r = subprocess.run([os.path.join(ROOT, "tools/loadtest"), "--socket", proxy.control, "50", "100"],
                                   capture_output=True, text=True, timeout=120)
            finally:
                proxy.stop()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("100 completed, 0 failed, 0 unfinished", r.stdout)
        self.assertIn("requests forwarded 300", r.stdout)  # INVITE, ACK and BYE of each call
        self.assertRegex(r.stdout, r"call setup +100 ")

    def test_the_loadgen_variant_completes_through_the_embedded_default(self):
        loadgen = os.path.join(ROOT, "build/tools/loadgen/sipfast-loadgen")  # where tools/loadtest looks
        if not os.path.exists(loadgen):
            self.skipTest("sipfast-loadgen is not built")
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(ROOT, "etc/sipfast.toml")) as f:
                proxy = Daemon(SIPFASTD, tmp, f.read())
            try:
                r = subprocess.run([os.path.join(ROOT, "tools/loadtest"), "--socket", proxy.control, "--loadgen", "50",
                                    "100"], capture_output=True, text=True, timeout=120)
            finally:
                proxy.stop()
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("100 completed, 0 failed, 0 unfinished", r.stdout)
        self.assertIn("requests forwarded 300", r.stdout)
        self.assertRegex(r.stdout, r"INVITE->200 +100 ")  # sipfast-loadgen's own percentiles


if __name__ == "__main__":
    main()
