#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The embedded default past Timer J: SIPp at RATE calls/s for SECONDS through
`sipfastd --listen udp:127.0.0.1:PORT` (nothing else changed: default workers, default memory),
printing sipfastd's resident memory every 5 s, then the calls SIPp completed and failed and what
sipfastd dropped, by cause. Repeat with --runs.

    bench/sustained_load.py [--rate 2000] [--seconds 60] [--runs 3] [--build build-release]

The control socket and metrics port are the embedded default's (/run/sipfast/sipfastd.sock,
127.0.0.1:9160): run no other sipfastd meanwhile."""
import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def run(build, rate, seconds, port=25060, uas_port=25070):
    sipp = "sipp"
    scen = os.path.join(ROOT, "tools/sipp")
    with tempfile.TemporaryDirectory() as tmp:
        d = subprocess.Popen([os.path.join(build, "src/daemon/sipfastd"), "--listen", f"udp:127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1)
        buffers = ["-buff_size", str(4 << 20)]
        uas = subprocess.Popen([sipp, "-sf", f"{scen}/uas_rr.xml", "-i", "127.0.0.1", "-p", str(uas_port), "-nostdin",
                                *buffers], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
        time.sleep(0.3)
        stats = os.path.join(tmp, "uac.csv")
        uac = subprocess.Popen([sipp, "-sf", f"{scen}/uac_rr.xml", "-s", "bob", f"127.0.0.1:{uas_port}", "-rsa",
                                f"127.0.0.1:{port}", "-i", "127.0.0.1", "-p", "25080", "-m", str(rate * seconds),
                                "-r", str(rate), "-nostdin", "-timeout", str(seconds + 60) + "s", "-trace_stat",
                                "-stf", stats, *buffers], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
        start = time.time()
        series = []
        while uac.poll() is None:
            time.sleep(5)
            series.append((round(time.time() - start), rss_kib(d.pid) // 1024))
        with urllib.request.urlopen("http://127.0.0.1:9160/metrics", timeout=5) as r:
            text = r.read().decode()
        drops = {}
        for m in re.finditer(r'^sipfast_dropped_total\{[^}]*cause="(\w+)"[^}]*\} (\S+)$', text, re.M):
            drops[m.group(1)] = drops.get(m.group(1), 0) + float(m.group(2))
        uas.kill()
        d.terminate()
        d.wait()
        with open(stats) as f:
            rows = list(csv.reader(f, delimiter=";"))
        last = dict(zip(rows[0], rows[-1]))
        return series, int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]), {k: v for k, v in drops.items() if v}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rate", type=int, default=2000)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = p.parse_args()
    for i in range(a.runs):
        series, ok, failed, drops = run(a.build, a.rate, a.seconds)
        print(f"run {i + 1}: {a.rate} calls/s for {a.seconds} s: completed {ok}, failed {failed}, dropped {drops or 0}")
        print("  RSS MiB over time (s, MiB): " + " ".join(f"{t}:{m}" for t, m in series))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
