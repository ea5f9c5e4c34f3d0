# SPDX-License-Identifier: Apache-2.0
"""The systemd units in etc/ (sipfastd's and sipfast-dpdk's) as systemd reads them: systemd-analyze
verify finds nothing wrong once their /usr/local/bin programs are the ones just built.

Usage: units_test.py SOURCE_ROOT BUILD_ROOT"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

from harness import main, need

ROOT = sys.argv.pop(1)
BUILD = sys.argv.pop(1)
BUILT = {"sipfastd": "src/daemon/sipfastd", "sipfast-dpdk": "dpdk_app/sipfast-dpdk"}


class Units(unittest.TestCase):
    def test_every_unit_verifies(self):
        analyze = need("systemd-analyze", "systemd")
        units = sorted(f for f in os.listdir(os.path.join(ROOT, "etc")) if f.endswith(".service"))
        self.assertIn("sipfast.service", units)
        self.assertIn("sipfast-dpdk.service", units)
        for unit in units:
            with open(os.path.join(ROOT, "etc", unit)) as f:
                text = f.read()
            programs = re.findall(r"/usr/local/bin/([\w-]+)", text)
            self.assertTrue(programs, unit)
            for p in programs:
                self.assertIn(p, BUILT, f"{unit} runs {p}, which the build does not make")
                text = text.replace(f"/usr/local/bin/{p}", os.path.join(BUILD, BUILT[p]))
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, unit)
                with open(path, "w") as f:
                    f.write(text)
                r = subprocess.run([analyze, "verify", path], capture_output=True, text=True, timeout=60)
            # Only what is about this unit counts: the host's own units may have their own warnings.
            ours = [l for l in (r.stdout + r.stderr).splitlines() if unit in l]
            self.assertEqual(ours, [], unit)


if __name__ == "__main__":
    main()
