#!/usr/bin/env bash
# Builds the sensor binary to deploy, with profile-guided optimisation
# (PGO), and prints where it is. bench/RESULTS.md times this binary.
#
#   deploy/build-sensor.sh            # -> target/pgo/vagt-sensor
#   deploy/build-sensor.sh --plain    # the same release build without PGO
#
# Why: the packet path is branchy code (decoders, the connection table,
# a dozen parsers), and telling the compiler which branches real traffic
# takes lets it lay the hot paths out straight. One worker's replay of
# the corpus mix takes about 0.83 times the wall time of the plain
# release build (bench/RESULTS.md).
#
# How: an instrumented build replays training traffic, llvm-profdata
# merges the counts, and a second build uses them. The training traffic
# is the seeded synthetic municipal capture of `vagt-sensor demo` and,
# when the test corpus is present (VAGT_CORPUS, default ../shared/corpus),
# its zeek-app and suricata-verify traces. Never the corpus's zeek,
# attacks and ot folders: the benchmark's corpus mix is made of those,
# and a profile trained on the input it is timed on would flatter it.
#
# Needs llvm-profdata of the LLVM that rustc uses: rustup's llvm-tools
# component, installed here when missing. Without it the script says so
# and builds without PGO. Takes two release builds (about 10 minutes on
# two cores).
set -euo pipefail
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
fi
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
out=$target/pgo
corpus=${VAGT_CORPUS:-$root/../shared/corpus}

plain() {
    cargo build --release -p vagt-sensor
    cp "$target/release/vagt-sensor" "$out/vagt-sensor"
    echo "build-sensor: $out/vagt-sensor (release build without PGO)"
}

mkdir -p "$out"
if [ "${1:-}" = "--plain" ]; then
    plain
    exit 0
elif [ $# -gt 0 ]; then
    echo "build-sensor: unknown argument '$1' (options: --plain, --help)" >&2
    exit 2
fi

host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ] && command -v rustup >/dev/null 2>&1; then
    echo "build-sensor: installing rustup's llvm-tools (llvm-profdata for rustc's LLVM)"
    rustup component add llvm-tools || true
fi
if [ ! -x "$profdata" ]; then
    echo "build-sensor: warning: no llvm-profdata at $profdata (rustup component" \
        "add llvm-tools installs it); building without PGO, which is slower" >&2
    plain
    exit 0
fi

train=$out/train
rm -rf "$train"
mkdir -p "$train/raw"

echo "build-sensor: 1/3 instrumented build"
# Build scripts are instrumented too and write their own counts at build
# time: those go to a folder of their own, which is not merged.
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$train/build-scripts" \
    cargo build --release -p vagt-sensor --target-dir "$out/gen"
gen=$out/gen/release/vagt-sensor

echo "build-sensor: 2/3 training"
export LLVM_PROFILE_FILE="$train/raw/%p-%m.profraw"
"$gen" demo --quiet --packets 300000 --pcap "$train/demo.pcap" --out /dev/null
for workers in 1 2; do
    "$gen" replay --quiet -w "$workers" -o /dev/null "$train/demo.pcap"
done
traces=()
for dir in zeek-app suricata-verify; do
    [ -d "$corpus/$dir" ] || continue
    while IFS= read -r -d '' f; do
        traces+=("$f")
    done < <(find "$corpus/$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' \
        -o -name '*.trace' \) -print0 | sort -z)
done
if [ ${#traces[@]} -gt 0 ]; then
    echo "build-sensor: training on ${#traces[@]} corpus traces (zeek-app, suricata-verify)"
    for workers in 1 2; do
        # Some traces are broken on purpose: the replay reports them and
        # goes on, and so does the training.
        "$gen" replay --quiet -w "$workers" -o /dev/null "${traces[@]}" 2>/dev/null || true
    done
else
    echo "build-sensor: no corpus at $corpus: training on the synthetic capture alone"
fi
unset LLVM_PROFILE_FILE
# The counts are written by an exit handler of the instrumented binary: a
# sensor that ended without running them (killed, or `_exit`) left none.
if ! compgen -G "$train/raw/*.profraw" >/dev/null; then
    echo "build-sensor: error: the training runs wrote no profile counts to" \
        "$train/raw; the instrumented sensor must end through exit()" >&2
    exit 1
fi
"$profdata" merge -o "$train/merged.profdata" "$train/raw"

echo "build-sensor: 3/3 optimised build"
# Functions training never ran (parsers of protocols it did not carry)
# have no counts; that is expected, not worth a warning each.
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$train/merged.profdata -Cllvm-args=-pgo-warn-missing-function=false" \
    cargo build --release -p vagt-sensor --target-dir "$out/use"
cp "$out/use/release/vagt-sensor" "$out/vagt-sensor"
echo "build-sensor: $out/vagt-sensor (release build with PGO)"
