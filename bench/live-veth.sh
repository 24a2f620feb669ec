#!/usr/bin/env bash
# Live capture through AF_PACKET at a set rate: tcpreplay sends a capture
# into one end of a veth pair in a network namespace made for the run, and
# vagt-sensor captures on the other end. Prints what tcpreplay sent, what
# the sensor counted and dropped, and (with PROFILE=1) where the machine's
# time went during the send, per thread.
#
#   bench/live-veth.sh PCAP MBPS [WORKERS]     # MBPS: Mbit/s, or "top" for --topspeed
#   PROFILE=1 bench/live-veth.sh imix.pcap 1000 2
#   SENDERS=2 bench/live-veth.sh imix.pcap top 2   # two tcpreplay processes at once
#
# Needs root, iproute2, tcpreplay and a release build of vagt-sensor
# (cargo build --release -p vagt-sensor); PROFILE=1 also needs perf.
set -euo pipefail

if [ $# -lt 2 ]; then
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
pcap=$(realpath "$1")
rate=$2
workers=${3:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
sensor=${VAGT_SENSOR:-$root/target/release/vagt-sensor}
[ -x "$sensor" ] || { echo "live-veth: build the sensor first: cargo build --release -p vagt-sensor" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "live-veth: needs root (network namespace, raw sockets)" >&2; exit 2; }
command -v tcpreplay >/dev/null || { echo "live-veth: install tcpreplay" >&2; exit 2; }

ns=vagt-bench-$$
out=$(mktemp -d)
cleanup() {
    [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$ns" ip link add name vtx type veth peer name vrx
ip netns exec "$ns" ip link set vtx up
ip netns exec "$ns" ip link set vrx up

ip netns exec "$ns" "$sensor" run -i vrx --method af-packet -w "$workers" --no-promisc \
    -o /dev/null 2>"$out/sensor.err" &
spid=$!
for _ in $(seq 100); do
    grep -q "capturing on" "$out/sensor.err" 2>/dev/null && break
    sleep 0.1
done
grep -q "capturing on" "$out/sensor.err" || { cat "$out/sensor.err" >&2; exit 1; }

if [ "$rate" = top ]; then
    pace=(--topspeed)
else
    pace=(--mbps "$rate")
fi
send() {
    local pids=() i
    for i in $(seq "${SENDERS:-1}"); do
        ip netns exec "$ns" tcpreplay -i vtx "${pace[@]}" "$pcap" >"$out/tcpreplay.$i.out" 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}"
}
if [ "${PROFILE:-0}" = 1 ]; then
    perf record -a -o "$out/perf.data" -- bash -c "$(declare -f send); $(declare -p ns pace pcap out); send"
else
    send
fi
sleep 0.5
kill -TERM "$spid"
wait "$spid" || true
spid=

for f in "$out"/tcpreplay.*.out; do
    echo "== tcpreplay ($(basename "$f" .out))"
    grep -E "Actual:|Rated:|Successful packets:|Failed packets:" "$f"
done
echo "== vagt-sensor ($workers workers, AF_PACKET)"
grep -vE "capturing on" "$out/sensor.err" || true
if [ "${PROFILE:-0}" = 1 ]; then
    echo "== CPU during the send, by thread (perf, all CPUs)"
    perf report -i "$out/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null |
        grep -vE '^#|^$' | head -12
    echo "== top functions"
    perf report -i "$out/perf.data" --no-children --sort comm,sym --stdio -g none 2>/dev/null |
        grep -vE '^#|^$' | head -25
fi
