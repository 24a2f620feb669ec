#!/usr/bin/env bash
# Runs every fuzz target of the sensor (sensor/fuzz) for SECONDS each, one
# after another, and ends with a table of executions and coverage per target.
#
#   bench/fuzz.sh SECONDS [TARGET...]
#   bench/fuzz.sh --total SECONDS [TARGET...]   # one budget shared by all
#   VAGT_SKIP_FUZZ=1 bench/fuzz.sh SECONDS    # explicit opt-out: says so, exits 0
#
# Installs cargo-fuzz (from crates.io) only if it is missing. cargo fuzz needs
# nightly-only rustc flags (-Zsanitizer=address); the stable toolchain accepts
# them with RUSTC_BOOTSTRAP=1, which this script sets for the fuzz build only.
#
# Seed corpora are generated on first use from the captures in the test
# corpus (../shared/corpus, or $VAGT_CORPUS) into sensor/fuzz/corpus/<target>;
# the regression inputs in tests/regressions/<target> are used as seeds too.
# Findings go to sensor/fuzz/artifacts/<target>/, logs to sensor/fuzz/logs/.
# Fuzzers run under `nice -n ${FUZZ_NICE:-19}`.
#
# Exit status: 0 when every target ran without a crash, hang or
# out-of-memory; 1 when one did (the table says which); 2 on bad usage, or
# when cargo-fuzz cannot be installed or the targets do not build: a fuzz
# run that did not happen never looks like a pass. Only VAGT_SKIP_FUZZ=1
# skips, and it says so.
set -uo pipefail

if [ "${1:-}" = "--if-available" ]; then
    # Older spelling; it no longer hides a failed install or build.
    shift
fi
# --total SECONDS: a budget for the whole run, shared by the targets (at
# least 5 s each), so that CI's fuzz time stays fixed as targets are added.
budget=
if [ "${1:-}" = "--total" ]; then
    budget=${2:-}
    shift 2 || true
    set -- "${budget:-x}" "$@"
fi
if [ $# -lt 1 ] || ! [[ "$1" =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ]; then
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
seconds=$1
shift

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/sensor/fuzz"
cd "$fuzz" || exit 2

unavailable() {
    echo "fuzz: $1 (set VAGT_SKIP_FUZZ=1 to skip fuzzing on purpose)" >&2
    exit 2
}

if [ "${VAGT_SKIP_FUZZ:-0}" = 1 ]; then
    echo "fuzz: SKIPPED on purpose (VAGT_SKIP_FUZZ=1): no fuzz target ran" >&2
    exit 0
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked --version '^0.13' >&2 ||
        unavailable "cargo-fuzz could not be installed (cargo install cargo-fuzz failed)"
fi

export RUSTC_BOOTSTRAP=1
echo "fuzz: building the fuzz targets (cargo fuzz build, address sanitizer)" >&2
if ! nice -n "${FUZZ_NICE:-19}" cargo fuzz build >&2; then
    unavailable "cargo fuzz build failed"
fi
triple=$(rustc -vV | sed -n 's/^host: //p')
bin="${CARGO_TARGET_DIR:-$fuzz/target}/$triple/release"

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list | grep -vx seeds)
fi

if [ -n "$budget" ]; then
    seconds=$((budget / ${#targets[@]}))
    [ "$seconds" -ge 5 ] || seconds=5
fi

# Seed corpora, once.
corpus_src=${VAGT_CORPUS:-$root/../shared/corpus}
for t in "${targets[@]}"; do
    if [ ! -x "$bin/$t" ]; then
        echo "fuzz: no fuzz target called $t (see: cd sensor/fuzz && cargo fuzz list)" >&2
        exit 2
    fi
    if [ -z "$(ls -A "corpus/$t" 2>/dev/null)" ]; then
        if [ -d "$corpus_src" ]; then
            echo "fuzz: writing seed corpora from $corpus_src" >&2
            "$bin/seeds" "$corpus_src" corpus >&2 || exit 2
        else
            echo "fuzz: no capture corpus at $corpus_src; starting from empty corpora" >&2
        fi
        break
    fi
done

mkdir -p logs
failed=0
total=0
rows=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    dirs=("corpus/$t")
    if [ -d "$root/tests/regressions/$t" ]; then
        dirs+=("$root/tests/regressions/$t")
    fi
    log="logs/$t.log"
    echo "fuzz: $t for ${seconds} s" >&2
    # -timeout: an input taking 10 s is a hang (they take microseconds);
    # -rss_limit_mb: libFuzzer's out-of-memory limit, stated explicitly.
    nice -n "${FUZZ_NICE:-19}" "$bin/$t" "${dirs[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1
    rc=$?
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
    last=${done_line:-$(grep -E '^#[0-9]+' "$log" | tail -n 1)}
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(echo "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
    field() { echo "$last" | sed -n "s|.* $1: *\([^ ]*\).*|\1|p"; }
    if [ $rc -eq 0 ] && [ -n "$done_line" ]; then
        status=ok
    else
        failed=1
        if grep -q 'ERROR: libFuzzer: timeout' "$log"; then
            status=HANG
        elif grep -q 'ERROR: libFuzzer: out-of-memory' "$log"; then
            status=OOM
        else
            status=CRASH
        fi
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        status="$status ${artifact:-(see $fuzz/$log)}"
    fi
    rows+=("$(printf '%-14s %12s %8s %6s %7s %8s  %s' "$t" "${execs:-?}" "$(field exec/s)" \
        "$(field cov)" "$(field ft)" "$(field corp | cut -d/ -f1)" "$status")")
    total=$((total + ${execs:-0}))
done

echo
echo "fuzz: ${seconds} s per target ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'))"
printf '%-14s %12s %8s %6s %7s %8s  %s\n' target executions exec/s cov ft corpus status
for r in "${rows[@]}"; do
    echo "$r"
done
echo "total: $total executions, ${#targets[@]} targets x ${seconds} s"
exit $failed
