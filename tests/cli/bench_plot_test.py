#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/plot.py draws what a user of the benchmark suite reads: from a side_by_side result (two
targets, four shares each) the latency curves, the CPU bars and the latency distribution; from
tools/bench-dpdk's runs the per-lcore bars against the framing ceiling. Each SVG names what it shows
(labels kept as text). A missing input is a clear error naming the file.
Usage: bench_plot_test.py PLOT_PY"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

PLOT = sys.argv.pop(1)


def text(path):
    with open(path) as f:
        return f.read()


def dump(data, path):
    with open(path, "w") as f:
        json.dump(data, f)


def run(name, max_rate, cpu):
    runs = []
    for share in (0.25, 0.5, 0.75, 0.9):
        rate = int(max_rate * share)
        runs.append({"share": share, "rate": rate, "completed": rate * 5, "failed": 0, "kept_up": True,
                     "user_us_per_call": cpu * 0.4, "system_us_per_call": cpu * 0.6, "total_us_per_call": cpu,
                     "latency_us": {"invite_200": {"count": rate * 5, "p50_us": 300, "p90_us": 500, "p99_us": 900,
                                                   "p99_9_us": 1500, "max_us": 2000,
                                                   "bins": [[250, rate], [300, rate * 3], [900, rate]]}}})
    return {"target": name, "highest_rate_held": max_rate, "runs": runs}


class Plot(unittest.TestCase):
    def test_side_by_side_and_dpdk_plots(self):
        with tempfile.TemporaryDirectory() as tmp:
            sbs = os.path.join(tmp, "sbs.json")
            dump({"target_cpus": "1", "results": [run("sipfastd-registrar", 20000, 60), run("kamailio-registrar", 2000, 500)]},
                 sbs)
            dpdk = os.path.join(tmp, "dpdk.json")
            dump({"memory": "--no-huge", "stateless": [400000, 420000, 380000], "framing_only": [2900000, 2800000, 3000000],
                  "stateless_two_lcores": [], "generated_stateless": [350000], "generated_stateful": [300000]}, dpdk)
            out = os.path.join(tmp, "plots")
            r = subprocess.run(["/usr/bin/python3", PLOT, "--out", out, "--side-by-side", sbs, "--dpdk", dpdk],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr)
            expect = {"latency_vs_load.svg": ["sipfastd-registrar p99", "kamailio-registrar p50"],
                      "cpu_per_call.svg": ["kamailio-registrar", "500 µs at 1000/s"],
                      "latency_histogram.svg": ["sipfastd-registrar at 10000/s"],
                      "dpdk_per_lcore.svg": ["framing only (ceiling)", "2.90 M", "0.40 M"]}
            for name, wanted in expect.items():
                svg = text(os.path.join(out, name))
                self.assertTrue(svg.lstrip().startswith("<?xml") and "<svg" in svg, name)
                for words in wanted:
                    self.assertIn(words, svg, name)
            self.assertNotIn("stateless, each of 2 lcores", text(os.path.join(out, "dpdk_per_lcore.svg")))

    def test_a_missing_input_names_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = subprocess.run(["/usr/bin/python3", PLOT, "--out", tmp, "--side-by-side", os.path.join(tmp, "none.json")],
                               capture_output=True, text=True, timeout=60)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("none.json: [Errno 2] No such file or directory", r.stderr)
            self.assertNotIn("Traceback", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
