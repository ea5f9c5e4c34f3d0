#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What [limits] shedding costs per packet on a sipfast-dpdk lcore (issue 16), against the framing-only
# loop (L2-L4 decode, a fresh mbuf, encode, TX: the ceiling) and the full stateless pipeline, on the
# same input: one source (alice, 198.18.0.9) sending the INVITE of tests/dpdk/replay_test.py over and
# over from a pcap (net_pcap infinite_rx, TX to /dev/null), one worker lcore on CPU $CPU.
#   framing:  --framing-only, each datagram echoed;
#   shed:     [limits] at its defaults (200 messages/s a source): alice is thousands of times over,
#             so all but 200 a second are dropped in proxy::shard::on_packet before a byte is parsed;
#   pipeline: [limits] off (messages_per_s = bytes_per_s = 0): every INVITE parsed and forwarded;
#   floor:    nobody listens on the INVITE's port (5061 instead of 5060): each frame is received,
#             decoded and freed (not_for_us) without reaching the shard. Shed minus floor is what the
#             limiter itself costs.
# Interleaved REPS times (5), SECONDS_PER_RUN each (3); medians of frames received per second per
# lcore and what one frame costs (1/rate). Hugepages (--in-memory) when root can reserve them, else
# --no-huge (HUGE=0 forces that). BUILD names the build directory (build-release: release + LTO, made
# here if missing, as tools/bench-dpdk does).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build-release}
if [[ ! -f $build/build.ninja ]]; then
  meson setup "$build" --buildtype=release -Ddebug=true -Db_lto=true -Dtests=disabled >/dev/null
fi
ninja -C "$build" dpdk_app/sipfast-dpdk >&2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import os, sys
out = sys.argv[1]
sys.path.insert(0, "tests/dpdk")
sys.argv = ["replay_test.py", "/dev/null"]
import replay_test as r
invite = r.udp_frame(r.ALICE_MAC, r.PROXY_MAC, r.ALICE, 5070, r.PROXY, 5060, r.sip(r.MESSAGES[0][1]))
frames = [r.arp_request(r.ALICE_MAC, r.ALICE, r.PROXY), r.arp_request(r.BOB_MAC, r.BOB, r.PROXY)] + [invite] * 300
r.write_pcap(os.path.join(out, "alice.pcap"), frames)
common = ('listen = ["udp:198.18.0.1:5060"]\nmode = "stateless"\ndomains = ["example.com"]\n[metrics]\nlisten = ""\n'
          '[[location]]\nuser = "bob"\ndomain = "example.com"\ncontact = "sip:bob@198.18.0.20:5062"\n'
          f'[registrar]\ndatabase = "{os.path.join(out, "bindings.db")}"\n')
open(os.path.join(out, "shed.toml"), "w").write(common)  # [limits] as embedded: 200 messages/s a source
open(os.path.join(out, "open.toml"), "w").write(common + "[limits]\nmessages_per_s = 0\nbytes_per_s = 0\n")
open(os.path.join(out, "floor.toml"), "w").write(common.replace("198.18.0.1:5060", "198.18.0.1:5061"))
PY
cpu=${CPU:-1}
secs=${SECONDS_PER_RUN:-3}
mem=(--no-huge -m 512 --no-shconf)
if [[ ${HUGE:-1} == 1 && $(id -u) == 0 ]]; then
  before=$(cat /proc/sys/vm/nr_hugepages)
  echo $((before + 256)) > /proc/sys/vm/nr_hugepages  # 512 MB of 2 MB pages, given back at exit
  trap 'echo '"$before"' > /proc/sys/vm/nr_hugepages; rm -rf "$dir"' EXIT
  if (( $(awk '/HugePages_Free/ {print $2}' /proc/meminfo) >= 256 )); then
    mem=(--in-memory -m 512)
  fi
fi
echo "memory: ${mem[*]}; $build; CPU $cpu; ${secs} s a run" >&2
run() {  # CONFIG [ARGS]: prints "frames/s shed/s"
  taskset -c "$cpu" "$build/dpdk_app/sipfast-dpdk" "${mem[@]}" --no-pci --log-level lib.eal:error -l "$cpu" \
    --vdev "net_pcap0,rx_pcap=$dir/alice.pcap,tx_pcap=/dev/null,infinite_rx=1" -- \
    --config "$dir/$1" --address 198.18.0.1/24 --seconds "$secs" "${@:2}" 2>&1 |
    sed -nE 's/.*frames received ([0-9]+)\/s per lcore, shed ([0-9]+)\/s per lcore.*/\1 \2/p'
}
frame=() shed=() shed_share=() pipe=() floor=()
for ((i = 0; i < ${REPS:-5}; i++)); do
  read -r f _ <<<"$(run open.toml --framing-only)"; frame+=("$f")
  read -r f s <<<"$(run shed.toml)"; shed+=("$f"); shed_share+=("$(awk -v s="$s" -v f="$f" 'BEGIN {printf "%.4f", s / f}')")
  read -r f _ <<<"$(run open.toml)"; pipe+=("$f")
  read -r f _ <<<"$(run floor.toml)"; floor+=("$f")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ns() { awk -v r="$1" 'BEGIN {printf "%.0f", 1e9 / r}'; }
echo "frames received per second per lcore, median of ${#frame[@]} (${mem[*]}):"
for row in "received and freed (floor):floor" "shed by [limits]:shed" "framing only (echo):frame" "stateless pipeline:pipe"; do
  name=${row%%:*}
  declare -n runs=${row##*:}
  m=$(median "${runs[@]}")
  printf '  %-28s %9s  (%s ns a frame; runs: %s)\n' "$name" "$m" "$(ns "$m")" "${runs[*]}"
done
echo "  share of the shed run's frames shed: ${shed_share[*]}"
# Each shed run against the floor run next to it (same moment on a shared machine): the limiter's own
# cost per frame, as the median of those paired differences.
diffs=()
for ((i = 0; i < ${#shed[@]}; i++)); do
  diffs+=("$(awk -v s="${shed[i]}" -v f="${floor[i]}" 'BEGIN {printf "%.1f", 1e9 / s - 1e9 / f}')")
done
echo "  shed minus floor, ns a frame, paired by run: median $(median "${diffs[@]}") (runs: ${diffs[*]})"
