#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The same calls through sipfastd (stateless; stateful with record-route) and Kamailio from Debian
configured for the same job (bench/peers/kamailio.cfg), driven by sipfast-loadgen, in one run; and,
as targets sipfastd-registrar and kamailio-registrar (bench/peers/kamailio_registrar_lookup.cfg), the
registrar's job: --users users registered with digest authentication (each REGISTER challenged
once) before the calls, which are then between them, each INVITE challenged 407 and sent again with
credentials, and found by the registrar's lookup:
1. after a 3 s warm-up, each target's highest clean rate (sipfast-loadgen --search: on schedule, < 0.1 % of calls failed,
   INVITE->200 p99 under --p99-bound-us);
2. then --seconds at 25, 50, 75 and 90 % of that target's own maximum: CPU per call of the target's
   whole process tree from /proc (user, system), and the latency percentiles loadgen measured
   (INVITE->180, INVITE->200, BYE->200: p50, p90, p99, p99.9);
3. the ratios of sipfastd to Kamailio at each share of its maximum.
Results go to bench/results/side_by_side.json and a Markdown table on stdout; with --plot,
bench/plot.py draws latency against offered load, CPU per call and the latency distribution as SVG
next to the JSON.

  bench/side_by_side.py --build build-release [--seconds 10] [--targets sipfastd-stateless,sipfastd-stateful,kamailio]
  bench/side_by_side.py --build build-release --targets sipfastd-registrar,kamailio-registrar [--users 1000]
  bench/side_by_side.py --build build-release --targets sipfastd-stateful,floor   # against the kernel floor

Cores: the generator (caller and callee in one sipfast-loadgen process) on CPU 0, the target on
SIPFAST_TARGET_CPUS (default "1": a core of its own; "0,1" lets it use both, sharing CPU 0 with the
generator, as a proxy's users run it on a machine of its own). The arrangement is recorded with the
results. A SIPp-driven variant of the same comparison stays: bench/proxy_compare.py."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_compare as pc  # noqa: E402  (its targets, their start and their CPU accounting)

SHARES = (0.25, 0.50, 0.75, 0.90)
PASSWORD = "secret"  # every registrar target's user's


def registrar(name):
    return name.endswith("-registrar")


def loadgen(build, args, tmp, name, users=0, register=False):
    """sipfast-loadgen on CPU 0 playing caller and callee through the target; its JSON summary. With
    `users`, the calls go to user1 ... userN in turn, registered first when `register`."""
    out = os.path.join(tmp, name + ".json")
    who = ["--user", "user", "--users", str(users), "--password", PASSWORD] + ([] if register else ["--no-register"]) \
        if users else ["--user", "bob"]
    # A registered user's domain is the registrar's, port and all: Kamailio takes a Request-URI
    # without its port for another host's (uri == myself compares ports).
    domain = f"127.0.0.1:{pc.PROXY}" if users else "127.0.0.1"
    # The caller's port fixed: the floor sends what the callee says back to it.
    cmd = ["taskset", "-c", "0", os.path.join(build, "tools/loadgen/sipfast-loadgen"), "both",
           "-t", f"127.0.0.1:{pc.PROXY}", *who, "--domain", domain, "--uas-port", str(pc.UAS), "--port", str(pc.UAC),
           "-q", "--json", out, *args]
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    with open(out) as f:
        j = json.load(f)
    if register and users and j.get("registration", {}).get("registered") != users:
        raise RuntimeError(f"{name}: users not registered: {done.stdout[-2000:]}")
    return j


def start_target(name, tmp, build, users):
    """As proxy_compare's targets, but sipfastd with memory for its highest rate: stateful, a call
    holds a transaction slot for Timer J (32 s) after its BYE, and the search's steps follow one
    another on the same daemon, so at 16 000 calls/s half a million slots are held (768 MiB a worker
    gives 560 000 each; 2 GiB would take seconds to touch at start, longer than a target is given).
    The registrar targets: the users' bindings in memory on both sides (Kamailio's usrloc db_mode 0,
    sipfastd's [registrar] database = "")."""
    if registrar(name):  # user1 ... userN, all with PASSWORD (bench/peers/kamailio_registrar_lookup.cfg reads them)
        pc.write_digest_users(tmp, [(f"user{i}", PASSWORD) for i in range(1, users + 1)], "127.0.0.1")
    if name == "kamailio-registrar":
        return pc.launch(name, pc.kamailio_cmd(tmp, "kamailio_registrar_lookup.cfg", PROXY_PORT=pc.PROXY, USERS_DIR=tmp))
    if not name.startswith("sipfastd"):
        return pc.start_target(name, tmp, build)
    mode = "stateless" if name.endswith("stateless") else "stateful"
    job = (f'[auth]\nauthenticate = "all"\nusers_file = "{tmp}/users.htdigest"\n[registrar]\ndatabase = ""\n'
           if registrar(name) else
           f'[[location]]\nuser = "bob"\ndomain = "127.0.0.1"\ncontact = "sip:bob@127.0.0.1:{pc.UAS}"\n')
    return pc.launch(name, pc.sipfastd_cmd(build, tmp, f'listen = ["udp:127.0.0.1:{pc.PROXY}"]\nmode = "{mode}"\n'
                                           f'workers = {pc.WORKERS}\ndomains = ["127.0.0.1"]\nlog_level = "warn"\n'
                                           f'[memory]\nper_worker_mb = 768\n' + job))


def measure(name, build, seconds, p99_bound_us, start_rate, users, rates=None):
    """A target's search and its runs at SHARES of its maximum; with `rates`, runs at those rates and
    no search (the floor, measured at the rates sipfastd was)."""
    tmp = tempfile.mkdtemp(prefix="sipfast-sbs-")
    users = users if registrar(name) else 0
    target = start_target(name, tmp, build, users)
    try:
        # A warm-up first, discarded: a daemon's first seconds fault in the memory its stored
        # messages first use, and a search that fails its first step never climbs again. The
        # registrar targets' users register in it, so what is measured after is the calls alone.
        loadgen(build, ["-r", str(start_rate), "-d", "3", "--timeout-s", "2"], tmp, "warmup", users, register=True)
        if rates is None:
            search = loadgen(build, ["--search", "-r", str(start_rate), "--step-s", "3", "--timeout-s", "2",
                                     "--p99-bound-us", str(p99_bound_us)], tmp, "search", users)
            highest = int(search["highest_rate_held"])
            plan = [(share, max(1, int(highest * share))) for share in SHARES]
            # The search's last steps leave a stateful proxy holding their transactions for Timer J
            # (32 s): the runs begin once they are gone, or the first is refused for room they hold.
            time.sleep(33)
        else:
            search, highest, plan = None, None, [(None, r) for r in rates]
        rows = []
        for share, rate in plan:
            before = pc.cpu_of_group(target.pid)
            r = loadgen(build, ["-r", str(rate), "-d", str(seconds), "--timeout-s", "5"], tmp, f"r{rate}", users)
            time.sleep(1.0)  # transactions retire before the CPU is read
            after = pc.cpu_of_group(target.pid)
            done = max(int(r["completed"]), 1)
            user, system = after[0] - before[0], after[1] - before[1]
            rows.append({"share": share, "rate": rate, "completed": r["completed"], "failed": r["failed"],
                         "kept_up": r["kept_up"], "user_us_per_call": 1e6 * user / done,
                         "system_us_per_call": 1e6 * system / done, "total_us_per_call": 1e6 * (user + system) / done,
                         "latency_us": r["latency_us"]})
        return {"target": name, "users": users, "highest_rate_held": highest, "search": search, "runs": rows}
    finally:
        pc.stop(target)
        shutil.rmtree(tmp, ignore_errors=True)


def table(results):
    lines = ["| target | share of its max | calls/s | failed | CPU µs/call (user+sys) | INVITE→200 p50 / p90 / p99 / p99.9 µs |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for t in results:
        for r in t["runs"]:
            l = r["latency_us"]["invite_200"]
            lines.append(f"| {t['target']} (max {t['highest_rate_held']}) | {int(r['share'] * 100)} % | {r['rate']} | "
                         f"{r['failed']} | {r['total_us_per_call']:.0f} ({r['user_us_per_call']:.0f}+{r['system_us_per_call']:.0f}) | "
                         f"{l['p50_us']} / {l['p90_us']} / {l['p99_us']} / {l['p99_9_us']} |")
    kams = {registrar(t["target"]): t for t in results if t["target"].startswith("kamailio")}
    if kams:
        lines += ["", "| sipfastd ÷ Kamailio (same job) at the same share of each one's max | highest rate | CPU per call | user CPU per call | p99 |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        for t in results:
            kam = kams.get(registrar(t["target"]))
            if kam is None or t["target"].startswith("kamailio"):
                continue
            for a, b in zip(t["runs"], kam["runs"]):
                lines.append(f"| {t['target']}, {int(a['share'] * 100)} % | {t['highest_rate_held'] / max(kam['highest_rate_held'], 1):.2f}× | "
                             f"{a['total_us_per_call'] / max(b['total_us_per_call'], 1e-9):.3f} | "
                             f"{a['user_us_per_call'] / max(b['user_us_per_call'], 1e-9):.3f} | "
                             f"{a['latency_us']['invite_200']['p99_us'] / max(b['latency_us']['invite_200']['p99_us'], 1):.2f} |")
    return "\n".join(lines)


def floor_table(results, floor):
    """Each sipfastd run's CPU per call against the kernel floor's at the same rate."""
    by_rate = {r["rate"]: r for r in floor["runs"]}
    lines = ["| target, share of its max | calls/s | CPU µs/call | floor's CPU µs/call (user+sys) | ÷ floor |",
             "| --- | ---: | ---: | ---: | ---: |"]
    for t in results:
        if not t["target"].startswith("sipfastd"):
            continue
        for r in t["runs"]:
            f = by_rate.get(r["rate"])
            if f is not None:
                lines.append(f"| {t['target']}, {int(r['share'] * 100)} % | {r['rate']} | {r['total_us_per_call']:.1f} | "
                             f"{f['total_us_per_call']:.1f} ({f['user_us_per_call']:.0f}+{f['system_us_per_call']:.0f}) | "
                             f"{r['total_us_per_call'] / max(f['total_us_per_call'], 1e-9):.2f}× |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(pc.ROOT, "build-release"))
    ap.add_argument("--targets", default="sipfastd-stateless,sipfastd-stateful,kamailio")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--p99-bound-us", type=int, default=10000)
    ap.add_argument("--start-rate", type=int, default=1000)
    ap.add_argument("--users", type=int, default=1000, help="the registrar targets' users")
    ap.add_argument("--out", default=os.path.join(pc.ROOT, "bench/results/side_by_side.json"))
    ap.add_argument("--plot", action="store_true", help="SVG plots beside --out (bench/plot.py)")
    a = ap.parse_args()
    targets = a.targets.split(",")
    pc.need_tools(sys.argv[0], ["kamailio"] if any(t.startswith("kamailio") for t in targets) else [])
    if not os.path.exists(os.path.join(a.build, "tools/loadgen/sipfast-loadgen")):
        sys.exit(f"{sys.argv[0]}: {a.build}/tools/loadgen/sipfast-loadgen is not built")
    results = [measure(t, a.build, a.seconds, a.p99_bound_us, a.start_rate, a.users) for t in targets if t != "floor"]
    # The kernel floor (bench/udp_forwarder.cpp: the same datagrams moved and nothing else) at the
    # rates sipfastd ran: issue 19's "total <= 1.5x the floor at the same rate".
    rates = sorted({r["rate"] for t in results if t["target"].startswith("sipfastd") and not registrar(t["target"])
                    for r in t["runs"]})
    floor = measure("floor", a.build, a.seconds, a.p99_bound_us, a.start_rate, 0, rates) \
        if "floor" in targets and rates else None
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump({"target_cpus": pc.TARGET_CPUS, "generator_cpus": "0", "workers": pc.WORKERS, "seconds": a.seconds,
                   "p99_bound_us": a.p99_bound_us, "results": results, "floor": floor}, f, indent=2)
    print(f"target on CPUs {pc.TARGET_CPUS}, sipfast-loadgen on CPU 0, sipfastd workers {pc.WORKERS}\n")
    print(table(results))
    if floor is not None:
        print("\n" + floor_table(results, floor))
    if a.plot:
        subprocess.run(["/usr/bin/python3", os.path.join(pc.HERE, "plot.py"), "--out", os.path.dirname(a.out),
                        "--side-by-side", a.out])


if __name__ == "__main__":
    main()
