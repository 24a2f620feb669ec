#!/usr/bin/env bash
# One command from a fresh machine to a running sensor on embedded defaults:
# installs libpcap if needed, builds Vagt, generates a synthetic municipal
# capture and replays it. Records go to ./vagt-demo.json, the network's
# segments to ./vagt-demo.toml (a configuration to read and reuse). Any
# arguments are passed on to `vagt-sensor demo` (see `--help`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s libpcap-dev >/dev/null 2>&1 || ! dpkg -s pkg-config >/dev/null 2>&1; then
    echo "quickstart: installing libpcap-dev and pkg-config (needs root)"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpcap-dev pkg-config
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "quickstart: Rust is needed; install it from https://rustup.rs and run this again" >&2
    exit 1
fi

# Through cargo, so the binary is found wherever CARGO_TARGET_DIR points.
cargo run --release --quiet --bin vagt-sensor -- demo \
    --out vagt-demo.json --write-config vagt-demo.toml "$@"
echo "quickstart: connection records are in vagt-demo.json (one JSON object per line);"
echo "quickstart: the demo network's segments are in vagt-demo.toml. Replaying the demo's"
echo "quickstart: capture with them gives the same records:"
echo "quickstart:   cargo run --release --bin vagt-sensor -- demo --pcap demo.pcap -o a.json"
echo "quickstart:   cargo run --release --bin vagt-sensor -- -c vagt-demo.toml replay demo.pcap -o b.json"
