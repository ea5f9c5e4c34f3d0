#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Calls through a location lookup: sipfastd and Kamailio 5.6 (bench/peers/kamailio_lookup.cfg) as
registrar and transaction-stateful record-routing proxy of 127.0.0.1, bindings in memory (sipfastd
[registrar] database = "", Kamailio usrloc db_mode 0), no authentication on either. In each run
the target is started afresh and USERS users u0..u{USERS-1} register (tools/sipp/uac_register.xml,
users from an injection file) with a contact at the SIPp callee's port; a probe then checks that
a call really takes the lookup (the callee sees the Request-URI rewritten to the registered
contact, a user never registered is answered 404 or 480); then SIPp calls the users in turn
(tools/sipp/uac_rr.xml, user from the injection file; INVITE/100/180/200/ACK/BYE/200, ACK and BYE
through the proxy by the route set) to tools/sipp/uas_rr.xml. For each rate and target: calls
completed and failed, and the target's CPU (user + system, every thread and process, from /proc)
per completed call, counted from after the registrations to 2 s after the last call; then the
medians over the repetitions and the ratio Kamailio / sipfastd.

  meson setup build-release --buildtype=release -Dwerror=false && ninja -C build-release src/daemon/sipfastd
  bench/lookup_compare.py --build build-release --rates 500,1000,2000 --seconds 10 --reps 3

Cores, as bench/proxy_compare.py: the target on CPU 1 (SIPFAST_TARGET_CPUS; both its workers share
it: sipfastd workers = SIPFAST_WORKERS, default 2; Kamailio children=2), SIPp on CPU 0."""
import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import proxy_compare as pc
import register_compare as rc

PORT, UAS, UAC, REG = 29060, 29070, 29080, 29090
EXPIRES_S = 3600  # longer than any run; under sipfastd's max_expires_s (7200)


def start_target(name, tmp, build):
    if name == "sipfastd":
        cmd = pc.sipfastd_cmd(build, tmp, f'listen = ["udp:127.0.0.1:{PORT}"]\nmode = "stateful"\n'
                                          f'workers = {pc.WORKERS}\ndomains = ["127.0.0.1"]\nlog_level = "warn"\n'
                                          f'control_socket = ""\n[metrics]\nlisten = ""\n'
                                          f'[auth]\nauthenticate = "none"\n'
                                          # As Kamailio's usrloc here (db_mode 0): bindings in memory.
                                          f'[registrar]\ndatabase = ""\n')
    else:
        cmd = pc.kamailio_cmd(tmp, "kamailio_lookup.cfg", PROXY_PORT=PORT)
    return pc.launch(name, cmd)


def register(name, tmp, users, rate):
    """Registers u0..u{users-1}, each with the contact sip:uI@127.0.0.1:UAS; raises unless all got 200."""
    stat = os.path.join(tmp, "reg.csv")
    seconds = users // rate + 1
    subprocess.run(pc.sipp_cmd(seconds) + ["-sf", rc.inf_scenario(tmp, "uac_register.xml"),
                                           "-inf", os.path.join(tmp, "users.csv"), "-key", "contact_port", str(UAS),
                                           "-key", "expires", str(EXPIRES_S), f"127.0.0.1:{PORT}", "-p", str(REG),
                                           "-m", str(users), "-r", str(rate), "-l", str(rate * 4),
                                           "-trace_stat", "-stf", stat, "-fd", "1"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp, timeout=seconds * 3 + 40)
    ok, failed, _ = pc.sipp_counts(stat, users)
    if ok != users:
        raise RuntimeError(f"{name}: {ok} of {users} users registered ({failed} failed)")


def probe(name, n):
    """Checks that a call takes the location lookup: an INVITE to u{n} reaches the callee's port with
    its Request-URI rewritten to u{n}'s contact (answered 486 there, so nothing stays pending), and
    an INVITE to a user never registered is answered 404 or 480. Run before the SIPp callee holds
    the port. Returns (Request-URI the callee saw, status the stranger got); raises otherwise."""
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    callee = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        caller.bind(("127.0.0.1", 0))
        callee.bind(("127.0.0.1", UAS))
        for s in (caller, callee):
            s.settimeout(3.0)
        sent = invite(caller, f"u{n}", "probe-reg")
        request, source = callee.recvfrom(65535)
        request = request.decode()
        seen = request.split(" ", 2)[1]
        callee.sendto(answer(request, 486, "Busy Here").encode(), source)
        busy = final(caller)
        caller.sendto(ack(sent, busy).encode(), ("127.0.0.1", PORT))
        sent = invite(caller, "nobody", "probe-unreg")
        stranger = final(caller)
        caller.sendto(ack(sent, stranger).encode(), ("127.0.0.1", PORT))
    except socket.timeout:
        raise RuntimeError(f"{name}: the probe got no answer")
    finally:
        caller.close()
        callee.close()
    status = int(stranger.split(" ", 2)[1])
    if seen != f"sip:u{n}@127.0.0.1:{UAS}" or "\r\nRecord-Route:" not in request or status not in (404, 480) \
            or not busy.startswith("SIP/2.0 486"):
        raise RuntimeError(f"{name}: the probe's call did not go through the lookup: callee saw {seen}, "
                           f"caller got {busy.splitlines()[0]}, a stranger got {status}")
    return seen, status


def invite(sock, user, call_id):
    port = sock.getsockname()[1]
    msg = (f"INVITE sip:{user}@127.0.0.1:{PORT} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}{os.getpid()};rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag={call_id}\r\n"
           f"To: <sip:{user}@127.0.0.1:{PORT}>\r\nCall-ID: {call_id}-{os.getpid()}\r\nCSeq: 1 INVITE\r\n"
           f"Contact: <sip:probe@127.0.0.1:{port}>\r\nContent-Length: 0\r\n\r\n")
    sock.sendto(msg.encode(), ("127.0.0.1", PORT))
    return msg


def headers(msg, *names):
    return [line for line in msg.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
            if line.split(":", 1)[0].strip().lower() in names]


def answer(request, status, reason):
    """The callee's final answer: Vias, From, Call-ID and CSeq copied, a To tag added."""
    lines = [f"SIP/2.0 {status} {reason}", *headers(request, "via", "v"), *headers(request, "from", "f"),
             headers(request, "to", "t")[0] + ";tag=callee", *headers(request, "call-id", "i"),
             *headers(request, "cseq"), "Content-Length: 0"]
    return "\r\n".join(lines) + "\r\n\r\n"


def final(sock):
    while True:
        msg = sock.recv(65535).decode()
        if int(msg.split(" ", 2)[1]) >= 200:
            return msg


def ack(invite_msg, response):
    """RFC 3261 §17.1.1.3: the ACK to a non-2xx has the INVITE's Request-URI, Via, From, Call-ID and
    CSeq number, and the To of the answer."""
    lines = invite_msg.split("\r\n")
    to = headers(response, "to", "t")[0]
    out = [lines[0].replace("INVITE", "ACK", 1)]
    for line in lines[1:]:
        if line.startswith("To:"):
            line = to
        elif line.startswith("CSeq:"):
            line = "CSeq: 1 ACK"
        out.append(line)
    return "\r\n".join(out)


def run(name, rate, seconds, build, users, reg_rate):
    load_before = os.getloadavg()[0]  # kept with the figures: anything else running on 2 cores skews them
    tmp = tempfile.mkdtemp(prefix="sipfast-lookup-")
    rc.write_users(tmp, users)
    target = start_target(name, tmp, build)
    try:
        register(name, tmp, users, reg_rate)
        seen, stranger = probe(name, users - 1)
        r = pc.calls(name, target, tmp, rate, seconds, ["-inf", os.path.join(tmp, "users.csv")],
                     ports=(PORT, UAS, UAC), caller_xml=rc.inf_scenario(tmp, "uac_rr.xml"))
    finally:
        pc.stop(target)
    shutil.rmtree(tmp, ignore_errors=True)
    return dict(r, users=users, probe_request_uri=seen, probe_unregistered_status=stranger,
                load_1min=[load_before, os.getloadavg()[0]])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(pc.ROOT, "build-release"))
    ap.add_argument("--rates", default="500,1000,2000", help="calls per second")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--register-rate", type=int, default=2000, help="registrations per second before the calls")
    ap.add_argument("--targets", default="sipfastd,kamailio")
    ap.add_argument("--out", default=os.path.join(pc.ROOT, "bench/results/lookup_compare.json"))
    args = ap.parse_args()
    targets = args.targets.split(",")
    pc.need_tools("lookup_compare", targets)
    results = rc.compare(lambda t, rate: run(t, rate, args.seconds, args.build, args.users, args.register_rate),
                         targets, [int(r) for r in args.rates.split(",")], args.reps, "call",
                         "call through a location lookup (INVITE, 100, 180, 200, ACK, BYE, 200)")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    json.dump(results, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
