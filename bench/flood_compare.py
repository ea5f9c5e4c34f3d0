#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Legitimate calls through sipfastd during a flood ten times their message rate, with [limits] on
(sipfastd's default) and off, in one run (bench/RESULTS.md, "Calls through a flood").

The calls: SIPp (tools/sipp/uac_rr.xml → sipfastd → uas_rr.xml, both SIPp on 127.0.0.1, a trusted
[[peer]] as a trunk would be) at --rate calls/s, six messages each into the proxy. The flood: OPTIONS
for carol, whose phone reads and never answers (each forwarded one holds a transaction and is
retransmitted until Timer F), from --sources addresses of 127.0.1.0/24 and up, strangers, at ten
times the calls' message rate, paced by count, on CPU 0 with SIPp. sipfastd runs on CPU 1 (both
workers), as in proxy_compare.py. Reported per run: calls completed and failed, sipfastd's CPU per
completed call, flood messages sent and shed (sipfast_dropped_total{cause="rate_limited"}).

  bench/flood_compare.py [--build DIR] [--rate 200] [--seconds 15] [--sources 1,1000] [--reps 3]
"""
import argparse
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from proxy_compare import PROXY, UAS, calls, launch, need_tools, sipfastd_cmd, stop, WORKERS  # noqa: E402

METRICS = 25090


def flood(port, sources, rate, stop_at, sent):
    """OPTIONS for carol from `sources` addresses at `rate` a second until time `stop_at`."""
    os.sched_setaffinity(0, {0})
    socks = []
    for i in range(sources):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((f"127.0.{1 + i // 250}.{1 + i % 250}", 0))
        socks.append(s)
    start, n = time.monotonic(), 0
    while time.monotonic() < stop_at:
        s = socks[n % sources]
        host, sport = s.getsockname()
        s.sendto((f"OPTIONS sip:carol@127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{sport};branch=z9hG4bKf{n}\r\n"
                  f"Max-Forwards: 70\r\nFrom: <sip:mallory@{host}>;tag=m{n}\r\nTo: <sip:carol@127.0.0.1>\r\n"
                  f"Call-ID: flood-{n}@{host}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
        n += 1
        if n % 64 == 0:
            sent.value = n
            ahead = n / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    sent.value = n


def shed_count():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{METRICS}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return -1
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("sipfast_dropped_total{") and 'cause="rate_limited"' in line)


def run(build, limits, sources, rate, seconds):
    tmp = tempfile.mkdtemp(prefix="sipfast-flood-")
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    config = (f'listen = ["udp:127.0.0.1:{PROXY}"]\nworkers = {WORKERS}\ndomains = ["127.0.0.1"]\nlog_level = "warn"\n'
              f'[metrics]\nlisten = "127.0.0.1:{METRICS}"\n'
              f'[[location]]\nuser = "bob"\ndomain = "127.0.0.1"\ncontact = "sip:bob@127.0.0.1:{UAS}"\n'
              f'[[location]]\nuser = "carol"\ndomain = "127.0.0.1"\ncontact = "sip:carol@127.0.0.1:{hole.getsockname()[1]}"\n'
              '[policy]\nallow_loopback = true\n[[peer]]\naddress = "127.0.0.1"\n')
    if not limits:
        config += "[limits]\nmessages_per_s = 0\nbytes_per_s = 0\n"
    target = launch("sipfastd", sipfastd_cmd(build, tmp, config))
    sent = multiprocessing.Value("q", 0)
    flood_rate = 10 * 6 * rate
    flooder = multiprocessing.Process(target=flood, args=(PROXY, sources, flood_rate, time.monotonic() + seconds + 1, sent))
    flooder.start()
    try:
        r = calls("sipfastd", target, tmp, rate, seconds, ["-s", "bob"])
    finally:
        flooder.join(timeout=seconds + 30)
        if flooder.is_alive():
            flooder.kill()
    r.update({"limits": "on" if limits else "off", "flood_sources": sources, "flood_rate": flood_rate,
              "flood_sent": sent.value, "flood_shed": shed_count()})
    stop(target)
    hole.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--sources", default="1,1000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--out", default="bench/results/flood_compare.json")
    a = ap.parse_args()
    need_tools("flood_compare.py", ())
    runs = []
    for rep in range(a.reps):
        for sources in (int(s) for s in a.sources.split(",")):
            for limits in (True, False):
                r = run(a.build, limits, sources, a.rate, a.seconds)
                r["rep"] = rep
                runs.append(r)
                print(json.dumps(r), flush=True)
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(runs, f, indent=1)
    print(f"\n{a.rate} calls/s for {a.seconds} s, flood {10 * 6 * a.rate} messages/s; medians of {a.reps}:")
    print("| flood sources | [limits] | calls completed | failed | sipfastd µs/call | flood sent | shed before parsing |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for sources in (int(s) for s in a.sources.split(",")):
        for limits in ("on", "off"):
            rs = [r for r in runs if r["flood_sources"] == sources and r["limits"] == limits]
            med = lambda k: statistics.median(r[k] for r in rs)  # noqa: E731
            print(f"| {sources} | {limits} | {med('successful'):.0f} of {rs[0]['calls']} | {med('failed'):.0f} | "
                  f"{med('total_us_per_call'):.0f} | {med('flood_sent'):.0f} | {med('flood_shed'):.0f} |")


if __name__ == "__main__":
    main()
