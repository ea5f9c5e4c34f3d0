#!/bin/bash
# sipfastd stateful (WORKERS, default 1) on CPU 1, sipfast-loadgen on CPU 0 at 5 000 calls/s for 5 s:
# busy_poll_us 0 against 200, interleaved, 3 times: INVITE->200 percentiles and CPU per call (bench/RESULTS.md).
set -e
cd "$(dirname "$0")/.."
for rep in 1 2 3; do for w in 0 200; do
  tmp=$(mktemp -d)
  cat > $tmp/s.toml <<T
listen = ["udp:127.0.0.1:35060"]
workers = ${WORKERS:-1}
busy_poll_us = $w
control_socket = "$tmp/c.sock"
domains = ["127.0.0.1"]
log_level = "warn"
[metrics]
listen = ""
[registrar]
database = ""
[policy]
allow_loopback = true
[[peer]]
address = "127.0.0.0/8"
[[location]]
user = "bob"
domain = "127.0.0.1"
contact = "sip:bob@127.0.0.1:35070"
T
  taskset -c 1 build/src/daemon/sipfastd --config $tmp/s.toml > $tmp/log 2>&1 &
  pid=$!; sleep 1.5
  b=$(awk '{print $14+$15}' /proc/$pid/stat)
  taskset -c 0 build/tools/loadgen/sipfast-loadgen both -t 127.0.0.1:35060 --user bob --domain 127.0.0.1 --uas-port 35070 -r 5000 -d 5 -q --json $tmp/j.json >/dev/null 2>&1
  a=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill $pid; wait $pid 2>/dev/null || true
  python3 -c "
import json,sys; j=json.load(open('$tmp/j.json')); l=j['latency_us']['invite_200']
print('busy_poll_us=$w', 'completed', j['completed'], 'failed', j['failed'], 'p50', l['p50_us'], 'p90', l['p90_us'], 'p99', l['p99_us'], 'cpu_us_per_call', round(($a-$b)/100*1e6/max(j['completed'],1),1))"
  rm -rf $tmp
done; done
