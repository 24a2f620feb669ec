#!/usr/bin/env bash
# One command from a fresh machine to a running sensor on embedded defaults:
# installs libpcap if needed, builds Vagt, generates a synthetic municipal
# capture and replays it. Records go to ./vagt-demo.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! dpkg -s libpcap-dev >/dev/null 2>&1; then
    echo "quickstart: installing libpcap-dev (needs root)"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpcap-dev pkg-config
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "quickstart: Rust is needed; install it from https://rustup.rs and run this again" >&2
    exit 1
fi

cargo build --release --bin vagt-sensor
./target/release/vagt-sensor demo --out vagt-demo.json "$@"
echo "quickstart: connection records are in vagt-demo.json (one JSON object per line)"
