#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Authenticated REGISTERs: sipfastd and Kamailio 5.6 (bench/peers/kamailio_registrar.cfg) as the
registrar of 127.0.0.1 with the same USERS users u0..u{USERS-1} (password pw<i>, realm 127.0.0.1;
sipfastd reads their HA1s from an htdigest file, Kamailio from an htable). SIPp registers them in
turn (tools/sipp/uac_register_auth.xml with the user and password taken from an injection file):
REGISTER, 401, REGISTER with Authorization, 200 listing the binding. For each rate and target:
registrations completed and failed, and the target's CPU (user + system, every thread and process,
from /proc) per completed registration; then the medians over the repetitions and the ratio
Kamailio / sipfastd.

  meson setup build-release --buildtype=release -Dwerror=false && ninja -C build-release src/daemon/sipfastd
  bench/register_compare.py --build build-release --rates 1000,2000,4000 --seconds 10 --reps 3

Cores, as bench/proxy_compare.py: the target on CPU 1 (SIPFAST_TARGET_CPUS; both its workers share
it: sipfastd workers = SIPFAST_WORKERS, default 2; Kamailio children=2), SIPp on CPU 0."""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import proxy_compare as pc

PORT, UAC = 27060, 27080
REALM = "127.0.0.1"


def write_users(tmp, users):
    """The users for both targets (u0 ... with password pw0 ...), and for SIPp's injection file."""
    pc.write_digest_users(tmp, [(f"u{i}", f"pw{i}") for i in range(users)], REALM)
    with open(os.path.join(tmp, "users.csv"), "w") as f:  # SIPp -inf: field0 user, field1 password
        f.write("SEQUENTIAL\n")
        f.writelines(f"u{i};pw{i}\n" for i in range(users))


def inf_scenario(tmp, xml):
    """tools/sipp/`xml` with the user (and, where it authenticates, the credentials) taken from the
    injection file of write_users instead of -s/-au/-ap; written into tmp, its path returned."""
    text = open(os.path.join(pc.ROOT, "tools/sipp", xml)).read()
    text = text.replace("[service]", "[field0]").replace(
        "[authentication]", "[authentication username=\"[field0]\" password=\"[field1]\"]")  # quoted: SIPp nests keywords only so
    path = os.path.join(tmp, xml.replace(".xml", "_inf.xml"))
    open(path, "w").write(text)
    return path


def start_target(name, tmp, build):
    if name == "sipfastd":
        cmd = pc.sipfastd_cmd(build, tmp, f'listen = ["udp:127.0.0.1:{PORT}"]\nworkers = {pc.WORKERS}\n'
                                          f'domains = ["{REALM}"]\nlog_level = "warn"\ncontrol_socket = ""\n'
                                          f'[metrics]\nlisten = ""\n[auth]\nauthenticate = "register"\n'
                                          f'users_file = "{tmp}/users.htdigest"\n'
                                          # As Kamailio's usrloc here (db_mode 0): bindings in memory.
                                          f'[registrar]\ndatabase = ""\n')
    else:
        cmd = pc.kamailio_cmd(tmp, "kamailio_registrar.cfg", PROXY_PORT=PORT, USERS_DIR=tmp)
    return pc.launch(name, cmd)


def run(name, rate, seconds, build, users):
    tmp = tempfile.mkdtemp(prefix="sipfast-reg-")
    write_users(tmp, users)
    scenario = inf_scenario(tmp, "uac_register_auth.xml")
    target = start_target(name, tmp, build)
    regs = rate * seconds
    stat = os.path.join(tmp, "uac.csv")
    before = pc.cpu_of_group(target.pid)
    uac = subprocess.Popen(pc.sipp_cmd(seconds) + ["-sf", scenario, "-inf", os.path.join(tmp, "users.csv"),
                                                   "-key", "domain", REALM, f"127.0.0.1:{PORT}", "-p", str(UAC),
                                                   "-m", str(regs), "-r", str(rate), "-l", str(rate * 4),
                                                   "-trace_stat", "-stf", stat, "-fd", "1"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp, start_new_session=True)
    try:
        uac.wait(timeout=seconds * 3 + 40)
    except subprocess.TimeoutExpired:  # an overloaded target can leave registrations hanging: count them failed
        pc.stop(uac)
    time.sleep(2.0)  # as proxy_compare: whatever the target does after its last answer is counted
    after = pc.cpu_of_group(target.pid)
    pc.stop(target)
    r = pc.tally(name, rate, regs, stat, before, after, uac, unit="reg")
    shutil.rmtree(tmp, ignore_errors=True)
    return r


def compare(run, targets, rates, reps, unit, what):
    """`reps` repetitions of every rate on every target, interleaved so that drift of the shared host
    hits each alike; `run(target, rate)` returns tally()'s record for `unit`. Prints each run, then
    per rate the median CPU per `unit` (`what` says what one is) for each target and the ratio
    Kamailio / sipfastd. Returns every record, with its repetition."""
    results = []
    print(f"{'rep':>3} {'target':10} {'rate':>6} {'ok':>7} {'failed':>7} {'retrans':>8} {'user µs':>9} "
          f"{'sys µs':>9} {'total µs':>9}")
    for rep in range(reps):
        for rate in rates:
            for t in targets:
                r = dict(run(t, rate), rep=rep)
                results.append(r)
                print(f"{rep:3} {t:10} {rate:6} {r['successful']:7} {r['failed']:7} {r['retransmissions']:8} "
                      f"{r[f'user_us_per_{unit}']:9.1f} {r[f'system_us_per_{unit}']:9.1f} "
                      f"{r[f'total_us_per_{unit}']:9.1f}", flush=True)
    print(f"\nmedian CPU µs per {what}")
    for rate in rates:
        med = {}
        for t in targets:
            rs = [r for r in results if r["target"] == t and r["rate"] == rate]
            med[t] = statistics.median(r[f"total_us_per_{unit}"] for r in rs)
            print(f"{t:10} {rate:6}/s  {med[t]:8.1f} µs  failed {sum(r['failed'] for r in rs)} of "
                  f"{sum(r[f'{unit}s'] for r in rs)}")
        if med.get("sipfastd") and "kamailio" in med:
            print(f"{'ratio':10} {rate:6}/s  kamailio / sipfastd = {med['kamailio'] / med['sipfastd']:.1f}×")
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(pc.ROOT, "build-release"))
    ap.add_argument("--rates", default="1000,2000,4000", help="registrations per second")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--targets", default="sipfastd,kamailio")
    ap.add_argument("--out", default=os.path.join(pc.ROOT, "bench/results/register_compare.json"))
    args = ap.parse_args()
    targets = args.targets.split(",")
    pc.need_tools("register_compare", targets)
    results = compare(lambda t, rate: run(t, rate, args.seconds, args.build, args.users), targets,
                      [int(r) for r in args.rates.split(",")], args.reps, "reg",
                      "authenticated registration (REGISTER, 401, REGISTER, 200)")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
