#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""What the allocator changes in sipfastd off the fast path: two builds of sipfastd (one linked with
mimalloc, one on libc malloc: -Dmimalloc=disabled), run interleaved REPS times, medians last.

  reload: sipfastd on a configuration of LOCATIONS static locations; RELOADS `sipfastctl reload`
          one after the other. The daemon's CPU per reload, the wall time per reload (sipfastctl's
          own start included) and the daemon's RSS growth per reload (every configuration loaded
          stays alive).
  tcp:    CALLS SIPp calls at RATE calls/s from a caller on TCP through sipfastd (stateful, one UDP
          worker and the TCP thread) to a SIPp callee on UDP, as tests/integration/tcp_test.py
          does; the daemon's CPU (user + system, every thread) per call.
  tcp-conn: the same with a new TCP connection for every call (SIPp -t tn).
  udp:    the same calls with the caller on UDP: the fast path, for comparison.
With heaptrack installed, the calls to malloc/new per reload or call are counted first (first build).

The daemon runs on CPU 1, SIPp and sipfastctl on CPU 0 (taskset). CPU time is the sum of the
daemon's threads' run time from /proc/PID/task/*/schedstat (nanoseconds).

  meson setup build-release --buildtype=release -Ddebug=true -Db_lto=true -Dtests=disabled
  meson setup /tmp/rel-nomi --buildtype=release -Ddebug=true -Db_lto=true -Dtests=disabled -Dmimalloc=disabled
  ninja -C build-release src/daemon/sipfastd src/daemon/sipfastctl
  ninja -C /tmp/rel-nomi src/daemon/sipfastd
  bench/alloc_compare.py /tmp/rel-nomi build-release --reps 7 --calls 3000   (bench/RESULTS.md)
"""
import argparse
import glob
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(os.path.dirname(HERE), "tools", "sipp")
DAEMON_CPU, LOAD_CPU = "1", "0"
KINDS = ["reload", "tcp", "tcp-conn", "udp"]


def free_port(kind=socket.SOCK_DGRAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def allocator_of(binary):
    needed = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True).stdout
    return "mimalloc" if "libmimalloc" in needed else "libc malloc"


def cpu_ns(pid):
    """Run time of every thread of `pid` so far, in nanoseconds."""
    total = 0
    for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            total += int(open(f).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


HEAPTRACK = "/usr/lib/heaptrack/libheaptrack_preload.so"


class Daemon:
    """sipfastd on CPU 1; with `heaptrack_out`, under heaptrack's preload (every allocation recorded)."""

    def __init__(self, binary, tmp, config, heaptrack_out=None):
        self.cfg = os.path.join(tmp, "sipfast.toml")
        self.sock = os.path.join(tmp, "sipfast.sock")
        with open(self.cfg, "w") as f:
            f.write(f'control_socket = "{self.sock}"\nlog_level = "warn"\n' + config + '[metrics]\nlisten = ""\n'
                    f'[registrar]\ndatabase = "{os.path.join(tmp, "bindings.db")}"\n'
                    '[policy]\nallow_loopback = true\n[[peer]]\naddress = "127.0.0.0/8"\n')  # SIPp on loopback
        self.log = open(os.path.join(tmp, "sipfastd.log"), "w+")
        env = ["env", f"LD_PRELOAD={HEAPTRACK}", f"DUMP_HEAPTRACK_OUTPUT={heaptrack_out}"] if heaptrack_out else []
        self.proc = subprocess.Popen(["taskset", "-c", DAEMON_CPU, *env, binary, "--config", self.cfg],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while not os.path.exists(self.sock):
            if self.proc.poll() is not None or time.time() > deadline:
                self.log.seek(0)
                sys.exit("sipfastd did not start: " + self.log.read()[-2000:])
            time.sleep(0.05)
        time.sleep(0.3)  # workers up, slabs touched

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def locations(n):
    return "".join(f'[[location]]\nuser = "user{i:05d}"\ndomain = "example.com"\n'
                   f'contact = "sip:user{i:05d}@192.0.2.{i % 250 + 1}:5060"\n' for i in range(n))


def run_reload(binary, ctl, args, reloads, heaptrack_out=None):
    with tempfile.TemporaryDirectory(prefix="sipfast-alloc-") as tmp:
        d = Daemon(binary, tmp, f'listen = ["udp:127.0.0.1:{free_port()}"]\nworkers = 1\n'
                                f'domains = ["example.com"]\n' + locations(args.locations), heaptrack_out)
        try:
            c0, t0, rss0 = cpu_ns(d.proc.pid), time.perf_counter(), rss_kb(d.proc.pid)
            for _ in range(reloads):
                r = subprocess.run(["taskset", "-c", LOAD_CPU, ctl, "--socket", d.sock, "reload"],
                                   capture_output=True, text=True)
                if r.returncode != 0 or not r.stdout.startswith("reloaded"):
                    sys.exit("reload failed: " + r.stdout + r.stderr)
            c1, t1, rss1 = cpu_ns(d.proc.pid), time.perf_counter(), rss_kb(d.proc.pid)
        finally:
            d.stop()
    n = max(reloads, 1)
    return {"cpu_us_per_reload": (c1 - c0) / 1e3 / n, "wall_ms_per_reload": (t1 - t0) * 1e3 / n,
            "rss_kb_per_reload": (rss1 - rss0) / n}


def run_calls(binary, kind, args, calls, heaptrack_out=None):
    """`calls` SIPp calls; kind: udp, tcp (one connection: SIPp t1) or tcp-conn (one per call: tn)."""
    sipp = shutil.which("sipp")
    with tempfile.TemporaryDirectory(prefix="sipfast-alloc-") as tmp:
        port, uas_port = free_port(), free_port()
        d = Daemon(binary, tmp, f'listen = ["udp:127.0.0.1:{port}", "tcp:127.0.0.1:{port}"]\nmode = "stateful"\n'
                                f'workers = 1\ntransactions_per_worker = 16384\ndomains = ["127.0.0.1"]\n'
                                f'[[location]]\nuser = "bob"\ndomain = "127.0.0.1"\n'
                                f'contact = "sip:bob@127.0.0.1:{uas_port}"\n', heaptrack_out)
        try:
            c0 = c1 = cpu_ns(d.proc.pid)
            if calls:
                uas = subprocess.Popen(["taskset", "-c", LOAD_CPU, sipp, "-sf", os.path.join(SCENARIOS, "uas_rr.xml"),
                                        "-i", "127.0.0.1", "-p", str(uas_port), "-m", str(calls), "-nostdin",
                                        "-timeout", "60s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp)
                time.sleep(0.3)
                transport = {"udp": ["u1"], "tcp": ["t1"], "tcp-conn": ["tn", "-max_socket", str(calls + 100)]}[kind]
                sock_kind = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
                c0 = cpu_ns(d.proc.pid)
                uac = subprocess.run(["taskset", "-c", LOAD_CPU, sipp, "-sf", os.path.join(SCENARIOS, "uac_rr.xml"),
                                      "-t", *transport, "-s", "bob", f"127.0.0.1:{port}", "-i", "127.0.0.1",
                                      "-p", str(free_port(sock_kind)), "-m", str(calls), "-r", str(args.rate),
                                      "-nostdin", "-timeout", "60s", "-timeout_error"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp, timeout=120)
                ok = uac.returncode == 0 and uas.wait(timeout=30) == 0
                c1 = cpu_ns(d.proc.pid)
                if uas.poll() is None:
                    uas.kill()
                if not ok:
                    sys.exit(f"SIPp calls ({kind}) failed: " + uac.stdout.decode(errors="replace")[-2000:])
        finally:
            d.stop()
    return {"cpu_us_per_call": (c1 - c0) / 1e3 / max(calls, 1)}


def run(kind, binary, ctl, args, units, heaptrack_out=None):
    if kind == "reload":
        return run_reload(binary, ctl, args, units, heaptrack_out)
    return run_calls(binary, kind, args, units, heaptrack_out)


def allocations(kind, binary, ctl, args, units):
    """Calls to malloc/new per reload or call, under heaptrack: a run of `units` less one of none."""
    counts = []
    with tempfile.TemporaryDirectory(prefix="sipfast-heaptrack-") as tmp:
        for n in (0, units):
            raw = os.path.join(tmp, f"{n}.raw")
            run(kind, binary, ctl, args, n, raw)
            data = os.path.join(tmp, f"{n}.txt")
            with open(raw, "rb") as f, open(data, "wb") as g:
                subprocess.run(["/usr/lib/heaptrack/libexec/heaptrack_interpret"], stdin=f, stdout=g,
                               stderr=subprocess.DEVNULL)
            out = subprocess.run(["heaptrack_print", "-f", data], capture_output=True).stdout
            m = re.search(rb"^calls to allocation functions: (\d+)", out, re.M)
            counts.append(int(m.group(1)) if m else 0)
    return (counts[1] - counts[0]) / units


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("builds", nargs=2, help="two build folders (src/daemon/sipfastd in each; sipfastctl in the first)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--reloads", type=int, default=200)
    p.add_argument("--locations", type=int, default=1000)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--rate", type=int, default=400)
    p.add_argument("--only", choices=KINDS, action="append")
    args = p.parse_args()
    kinds = args.only or KINDS
    ctl = os.path.join(args.builds[0], "src/daemon/sipfastctl")
    bins = [os.path.join(b, "src/daemon/sipfastd") for b in args.builds]
    units = {k: args.reloads if k == "reload" else args.calls for k in kinds}
    allocs = {}
    if os.path.exists(HEAPTRACK) and shutil.which("heaptrack_print"):
        for k in kinds:
            allocs[k] = allocations(k, bins[0], ctl, args, min(units[k], 200))
    results = {(b, k): {} for b in bins for k in kinds}
    for rep in range(args.reps):
        for kind in kinds:
            for b in (bins if rep % 2 == 0 else bins[::-1]):  # who goes first alternates
                r = run(kind, b, ctl, args, units[kind])
                for k, v in r.items():
                    results[(b, kind)].setdefault(k, []).append(v)
                print(f"rep {rep + 1} {kind:8} {allocator_of(b):11} " +
                      " ".join(f"{k} {v:.1f}" for k, v in r.items()), file=sys.stderr, flush=True)
    print(f"medians of {args.reps} interleaved runs; reload: {args.reloads} reloads of {args.locations} locations; "
          f"calls: {args.calls} at {args.rate}/s, stateful, 1 worker")
    for kind in kinds:
        if kind in allocs:
            print(f"{kind}: {allocs[kind]:.1f} calls to malloc/new per {'reload' if kind == 'reload' else 'call'} "
                  f"({allocator_of(bins[0])} build, heaptrack)")
        for b in bins:
            print(f"  {allocator_of(b):11} " +
                  "  ".join(f"{k} {statistics.median(v):.1f} (runs {' '.join(f'{x:.1f}' for x in v)})"
                            for k, v in results[(b, kind)].items()))
        for k in results[(bins[0], kind)]:
            if k.startswith("rss"):
                continue
            ratios = [y / x for x, y in zip(results[(bins[0], kind)][k], results[(bins[1], kind)][k]) if x]
            print(f"  {k}: {allocator_of(bins[1])} / {allocator_of(bins[0])} in each rep: median "
                  f"{statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})")


if __name__ == "__main__":
    main()
