#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One run, the same SIPp load through each proxy on loopback: sipfastd stateful (record-route),
sipfastd stateless, Kamailio from Debian configured for the same job (bench/peers/kamailio.cfg) and
udp-floor, which only moves the datagrams (the kernel floor). For each target and rate: user and
system CPU per call from /proc (every thread and process of the target), failed calls,
retransmissions. Then, with --search, the highest rate each holds with < 0.1 % failed calls.

  bench/proxy_compare.py --build build-release --rates 1000,2000 --seconds 10 [--search]

Cores: the target runs on CPU 1, both SIPp agents on CPU 0 (taskset), so proxy and load do not
compete; the target's own workers share CPU 1."""
import argparse
import csv
import glob
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROXY, UAS, UAC = 25060, 25070, 25080
WORKERS = int(os.environ.get("SIPFAST_WORKERS", "2"))
# sipfastd's [steering] (docs/configuration.md): "ebpf" (the default) or "kernel".
STEERING = os.environ.get("SIPFAST_STEERING", "")
# The CPUs the target may run on (taskset -c); sipfastd pins its workers to the first of them.
TARGET_CPUS = os.environ.get("SIPFAST_TARGET_CPUS", "1")


def cpu_of_group(pgid):
    """user and system seconds of every live process in a process group (threads included)."""
    user = system = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = open(stat).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 (pgrp), counted after the comm field
            user += int(fields[11])
            system += int(fields[12])
    return user / CLK_TCK, system / CLK_TCK


def start_target(name, tmp, build):
    if name.startswith("sipfastd"):
        mode = "stateless" if name.endswith("stateless") else "stateful"
        cmd = sipfastd_cmd(build, tmp, f'listen = ["udp:127.0.0.1:{PROXY}"]\nmode = "{mode}"\nworkers = {WORKERS}\n'
                                       f'domains = ["127.0.0.1"]\ntransactions_per_worker = 65536\nlog_level = "warn"\n'
                                       + (f'steering = "{STEERING}"\n' if STEERING else "") +
                                       f'[[location]]\nuser = "bob"\ndomain = "127.0.0.1"\n'
                                       f'contact = "sip:bob@127.0.0.1:{UAS}"\n')
    elif name == "kamailio":
        cmd = kamailio_cmd(tmp, "kamailio.cfg", PROXY_PORT=PROXY, CALLEE_PORT=UAS)
    else:
        cmd = [os.path.join(build, "bench/udp-floor"), str(PROXY), str(UAS), str(UAC)]
    return launch(name, cmd)


def sipfastd_cmd(build, tmp, config):
    """sipfastd of `build` on the TOML text `config`, written into tmp; its bindings database there
    too unless `config` names one (never the system's), and loopback trusted unless it has a [policy]."""
    cfg = os.path.join(tmp, "sipfast.toml")
    if "database =" not in config:
        config += f'\n[registrar]\ndatabase = "{os.path.join(tmp, "bindings.db")}"\n'
    if "[policy]" not in config:
        # SIPp and the peer's agents run on loopback: trusted and reachable, as the embedded default has it.
        config += '\n[policy]\nallow_loopback = true\n[[peer]]\naddress = "127.0.0.0/8"\n'
    with open(cfg, "w") as f:
        f.write(config)
    return [os.path.join(build, "src/daemon/sipfastd"), "--config", cfg]


def write_digest_users(tmp, users, realm):
    """Digest users [(name, password)] for both kinds of target: tmp/users.htdigest for sipfastd
    (users_file), tmp/users, a db_text table of their HA1s, for Kamailio's htable."""
    ha1 = [(name, hashlib.md5(f"{name}:{realm}:{password}".encode()).hexdigest()) for name, password in users]
    with open(os.path.join(tmp, "users.htdigest"), "w") as f:
        f.writelines(f"{name}:{realm}:{h}\n" for name, h in ha1)
    with open(os.path.join(tmp, "users"), "w") as f:
        f.write("id(int,auto) key_name(str) key_type(int) value_type(int) key_value(str) expires(int)\n")
        f.writelines(f"{i}:{name}:0:0:{h}:0\n" for i, (name, h) in enumerate(ha1, 1))


def kamailio_cmd(tmp, peer_cfg, **placeholders):
    """Kamailio on bench/peers/`peer_cfg` with each placeholder (PROXY_PORT, ...) replaced, written into tmp."""
    text = open(os.path.join(HERE, "peers", peer_cfg)).read()
    for key, value in placeholders.items():
        text = text.replace(key, str(value))
    cfg = os.path.join(tmp, "kamailio.cfg")
    open(cfg, "w").write(text)
    return ["kamailio", "-f", cfg, "-DD", "-E", "-m", "256", "-M", "16", "-Y", tmp]


def launch(name, cmd):
    """Start a target on TARGET_CPUS in its own process group (cpu_of_group counts that group)."""
    p = subprocess.Popen(["taskset", "-c", TARGET_CPUS, *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    time.sleep(2.0)  # Kamailio forks its children and binds after a moment
    if p.poll() is not None:
        raise RuntimeError(f"{name} did not start: {cmd}")
    return p


def sipp_counts(stat, calls):
    """(successful, failed, retransmissions) from the last line of a SIPp -trace_stat file; calls that
    never completed (SIPp stopped, overload) count as failed."""
    rows = list(csv.reader(open(stat), delimiter=";")) if os.path.exists(stat) else []
    last = dict(zip(rows[0], rows[-1])) if len(rows) > 1 else {}
    ok = int(last.get("SuccessfulCall(C)", 0))
    failed = int(last.get("FailedCall(C)", 0)) + max(0, calls - ok - int(last.get("FailedCall(C)", 0)))
    return ok, failed, int(last.get("Retransmissions(C)", 0))


def sipp_cmd(seconds):
    """SIPp on CPU 0, on loopback, with room for a burst, given up seconds + 40 s after its start."""
    return ["taskset", "-c", "0", "sipp", "-i", "127.0.0.1", "-nostdin", "-buff_size", "8388608",
            "-timeout", f"{seconds + 40}s"]


def need_tools(script, targets):
    """Exit with what to install when SIPp, taskset or (for a Kamailio target) kamailio is missing."""
    for tool in ("sipp", "taskset") + (("kamailio",) if "kamailio" in targets else ()):
        if shutil.which(tool) is None:
            sys.exit(f"{script}: {tool} is not installed (tools/setup installs sip-tester; apt-get install kamailio)")


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(name, rate, seconds, build):
    tmp = tempfile.mkdtemp(prefix="sipfast-cmp-")
    target = start_target(name, tmp, build)
    r = calls(name, target, tmp, rate, seconds, ["-s", "bob"])
    stop(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return r


def calls(name, target, tmp, rate, seconds, callee, ports=(PROXY, UAS, UAC), caller_xml=None):
    """rate * seconds calls through the running `target` at `rate` a second: tools/sipp/uac_rr.xml (or
    caller_xml) on ports[2] → target on ports[0] → tools/sipp/uas_rr.xml on ports[1], both SIPp agents
    on CPU 0; `callee` names whom the caller calls (SIPp arguments: -s USER, or -inf FILE). Returns
    tally()'s record, CPU counted from the callee's start to 2 s after the caller's end."""
    proxy, uas_port, uac_port = ports
    planned = rate * seconds
    sipp = sipp_cmd(seconds) + ["-max_socket", "64",
                                # A 180 overtaking its 200 (two workers forward them in parallel) is not a failed call.
                                "-default_behaviors", "all,-abortunexp"]
    uas = subprocess.Popen(sipp + ["-sf", os.path.join(ROOT, "tools/sipp/uas_rr.xml"), "-p", str(uas_port),
                                   "-m", str(planned)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp, start_new_session=True)
    time.sleep(0.5)
    before = cpu_of_group(target.pid)
    stat = os.path.join(tmp, "uac.csv")
    uac = subprocess.Popen(sipp + ["-sf", caller_xml or os.path.join(ROOT, "tools/sipp/uac_rr.xml"), *callee,
                                   f"127.0.0.1:{proxy}", "-p", str(uac_port), "-m", str(planned), "-r", str(rate),
                                   "-l", str(rate * 4), "-trace_stat", "-stf", stat, "-fd", "1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp, start_new_session=True)
    try:
        uac.wait(timeout=seconds * 3 + 40)
    except subprocess.TimeoutExpired:  # an overloaded target can leave calls hanging: stop and count them failed
        stop(uac)
    time.sleep(2.0)  # transactions retire (timers, table cleanup) before the CPU is read
    after = cpu_of_group(target.pid)
    stop(uas)
    return tally(name, rate, planned, stat, before, after, uac)


def tally(name, rate, planned, stat, before, after, uac, unit="call"):
    """One run's record: SIPp's counts and the target's CPU (cpu_of_group before, after) per completed `unit`."""
    ok, failed, retrans = sipp_counts(stat, planned)
    user, system = after[0] - before[0], after[1] - before[1]
    per = max(ok, 1)
    return {"target": name, "rate": rate, f"{unit}s": planned, "successful": ok, "failed": failed,
            "retransmissions": retrans, "uac_exit": uac.returncode if uac.returncode is not None else -1,
            f"user_us_per_{unit}": 1e6 * user / per, f"system_us_per_{unit}": 1e6 * system / per,
            f"total_us_per_{unit}": 1e6 * (user + system) / per}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build-release"))
    ap.add_argument("--rates", default="1000,2000")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--targets", default="sipfastd-stateful,sipfastd-stateless,kamailio,floor")
    ap.add_argument("--search", action="store_true", help="find the highest rate with < 0.1 %% failed calls")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results/proxy_compare.json"))
    args = ap.parse_args()
    targets = args.targets.split(",")
    need_tools("proxy_compare", targets)
    results = []
    print(f"{'target':22} {'rate':>6} {'ok':>7} {'failed':>7} {'retrans':>8} {'user µs':>9} {'sys µs':>9} {'total µs':>9}")
    for rate in [int(r) for r in args.rates.split(",")]:
        for t in targets:
            r = run(t, rate, args.seconds, args.build)
            results.append(r)
            print(f"{t:22} {rate:6} {r['successful']:7} {r['failed']:7} {r['retransmissions']:8} "
                  f"{r['user_us_per_call']:9.1f} {r['system_us_per_call']:9.1f} {r['total_us_per_call']:9.1f}", flush=True)
    if args.search:
        for t in targets:
            rate, best = 1000, 0
            while rate <= 20000:
                r = run(t, rate, max(5, args.seconds // 2), args.build)
                results.append(dict(r, search=True))
                clean = r["failed"] <= 0.001 * r["calls"] and r["uac_exit"] == 0
                print(f"search {t:15} {rate:6} ok={r['successful']} failed={r['failed']} {'clean' if clean else 'NOT clean'}", flush=True)
                if not clean:
                    break
                best = rate
                rate += 1000
            print(f"highest clean rate {t}: {best} calls/s", flush=True)
            results.append({"target": t, "highest_clean_rate": best})
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
