#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""sipfast-loadgen checked against SIPp on the same flow through sipfastd: the built-in scenarios'
call (INVITE, 180, 200, ACK, BYE, 200; sipfastd stateful with record-route adds its 100) at a low
rate, with each caller against each callee, and for each: the calls the caller completed and
failed, what sipfastd received, and INVITE -> 200 as the caller measured it (SIPp in whole
milliseconds, sipfast-loadgen in microseconds).

  bench/loadgen_vs_sipp.py [--rate 200] [--calls 2000] [--runs 3] [--build build]"""
import argparse
import csv
import glob
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
from harness import Daemon, free_port  # noqa: E402


def received(proxy):
    with urllib.request.urlopen(proxy.metrics_url, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^sipfast_requests_received_total\{worker="\d+",method="(\w+)"\} (\S+)$', text, re.M):
        out[m.group(1)] = out.get(m.group(1), 0) + int(float(m.group(2)))
    return out


def pct(values, q):
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(-(-q * len(s) // 1)) - 1))  # the smallest value with q of them at or below
    return s[k]


def callee(kind, loadgen, port, tmp):
    if kind == "sipp":
        return subprocess.Popen(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-nostdin"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
    return subprocess.Popen([loadgen, "uas", "--uas-port", str(port), "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tmp)


def caller(kind, loadgen, proxy_port, rate, calls, tmp):
    """(completed, failed, retransmissions, INVITE->200 latencies in µs or None, p50/p90/p99 in µs)"""
    if kind == "sipp":
        for f in glob.glob(os.path.join(tmp, "*_rtt.csv")):
            os.remove(f)
        stat = os.path.join(tmp, "uac.csv")
        subprocess.run(["sipp", "-sn", "uac", f"127.0.0.1:{proxy_port}", "-i", "127.0.0.1", "-p", "0", "-r", str(rate),
                        "-m", str(calls), "-nostdin", "-timeout", "120s", "-trace_stat", "-stf", stat, "-trace_rtt",
                        "-rtt_freq", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp, timeout=180)
        rows = list(csv.reader(open(stat), delimiter=";"))
        last = dict(zip(rows[0], rows[-1]))
        rtt = []
        for f in glob.glob(os.path.join(tmp, "*_rtt.csv")):
            for row in list(csv.reader(open(f), delimiter=";"))[1:]:
                if row and row[2] == "1":
                    rtt.append(float(row[1]) * 1000)
        os.remove(stat)
        return (int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]), int(last["Retransmissions(C)"]),
                [pct(rtt, q) for q in (0.5, 0.9, 0.99)])
    out = os.path.join(tmp, "loadgen.json")
    subprocess.run([loadgen, "uac", "-t", f"127.0.0.1:{proxy_port}", "-r", str(rate), "-m", str(calls), "-q",
                    "--json", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp, timeout=180)
    j = json.load(open(out))
    lat = j["latency_us"]["invite_200"]
    return j["completed"], j["failed"], j["retransmissions"], [lat["p50_us"], lat["p90_us"], lat["p99_us"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    sipfastd = os.path.join(a.build, "src/daemon/sipfastd")
    loadgen = os.path.join(a.build, "tools/loadgen/sipfast-loadgen")
    print(f"| caller | callee | calls completed / failed | retransmissions | sipfastd INVITE / ACK / BYE received "
          f"| INVITE->200 p50 / p90 / p99 (µs, median of {a.runs} runs) |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        port, uas_port = free_port(), free_port()
        proxy = Daemon(sipfastd, tmp, f'listen = ["udp:127.0.0.1:{port}"]\nmode = "stateful"\nrecord_route = true\n'
                                      f'domains = ["localhost", "127.0.0.1"]\n[[location]]\nuser = "service"\n'
                                      f'contact = "sip:service@127.0.0.1:{uas_port}"\n')
        try:
            for c_kind, s_kind in (("sipp", "sipp"), ("loadgen", "loadgen"), ("loadgen", "sipp"), ("sipp", "loadgen")):
                results = []
                for _ in range(a.runs):
                    before = received(proxy)
                    uas = callee(s_kind, loadgen, uas_port, tmp)
                    time.sleep(0.5)
                    try:
                        r = caller(c_kind, loadgen, port, a.rate, a.calls, tmp)
                    finally:
                        uas.terminate()
                        uas.wait()
                    after = received(proxy)
                    results.append((r, {k: after.get(k, 0) - before.get(k, 0) for k in ("INVITE", "ACK", "BYE")}))
                done = "; ".join(f"{r[0]} / {r[1]}" for r, _ in results)
                retrans = ", ".join(str(r[2]) for r, _ in results)
                seen = "; ".join(f"{d['INVITE']} / {d['ACK']} / {d['BYE']}" for _, d in results)
                med = [statistics.median(r[3][i] for r, _ in results) for i in range(3)]
                print(f"| {c_kind} | {s_kind} | {done} | {retrans} | {seen} | {med[0]:.0f} / {med[1]:.0f} / {med[2]:.0f} |",
                      flush=True)
        finally:
            proxy.stop()


if __name__ == "__main__":
    main()
