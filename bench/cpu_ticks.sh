#!/usr/bin/env bash
# CPU ticks (1/100 s, user and system, from /proc) a sipfastd binary spends on CALLS SIPp calls at
# RATE calls/s through loopback, one worker, started under `taskset -c CPUS` (SIPp on CPU 0).
# For A/B runs of two builds side by side:
#   for i in 1 2 3; do bench/cpu_ticks.sh OLD/sipfastd 1; bench/cpu_ticks.sh build-release/src/daemon/sipfastd 1; done
# Usage: bench/cpu_ticks.sh SIPFASTD CPUS [CALLS] [RATE]
set -euo pipefail
bin=$1 cpus=$2 calls=${3:-5000} rate=${4:-1000}
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
cat > "$dir/cfg.toml" <<TOML
listen = ["udp:127.0.0.1:26060"]
mode = "stateful"
workers = 1
domains = ["127.0.0.1"]
control_socket = ""
[metrics]
listen = ""
[[location]]
user = "bob"
domain = "127.0.0.1"
contact = "sip:bob@127.0.0.1:26070"
TOML
taskset -c "$cpus" "$bin" --config "$dir/cfg.toml" 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; pkill -f "sipp.*26070" 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
taskset -c 0 sipp -sf "$here/tools/sipp/uas_rr.xml" -i 127.0.0.1 -p 26070 -nostdin -m "$calls" -bg >/dev/null 2>&1 || true  # -bg exits non-zero
read -r -a a < "/proc/$pid/stat"
taskset -c 0 sipp -sf "$here/tools/sipp/uac_rr.xml" -s bob 127.0.0.1:26060 -i 127.0.0.1 -p 26080 -m "$calls" \
  -r "$rate" -nostdin >/dev/null 2>&1
read -r -a b < "/proc/$pid/stat"
echo "$bin on CPUs $cpus: user $(( b[13] - a[13] )) sys $(( b[14] - a[14] )) ticks for $calls calls"
