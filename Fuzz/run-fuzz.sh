#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/Package.swift, with --sanitize fuzzer,address) and runs each
# for a bounded time, then prints the executions each one reached. `make fuzz` runs this.
#
#   FUZZ_SECONDS=60      run time per target (libFuzzer -max_total_time)
#   FUZZ_TARGETS="..."   a subset of the targets below
#   FUZZ_JOBS=1          parallel runs (one per core at most makes sense)
#
# The seed corpus in Fuzz/corpus/<target>/ is read only: libFuzzer's new inputs go to
# $SCRATCH/corpus/<target>/, crash/timeout/OOM inputs to $SCRATCH/artifacts/.
# Exit status: 0 when every target ran its time without a crash, hang or OOM.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SWIFT=${SWIFT:-$(command -v swift || echo /opt/swift/usr/bin/swift)}
SCRATCH=${FUZZ_SCRATCH:-$ROOT/.build-fuzz}
SECONDS_PER_TARGET=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"fuzz-rpc-frame fuzz-extender fuzz-report-ingest fuzz-config fuzz-rate fuzz-netlink"}
JOBS=${FUZZ_JOBS:-1}

# -debug-info-format none: with -g, swiftc 6.3 drops the -sanitize=fuzzer coverage
# instrumentation (the binaries run but libFuzzer sees no coverage and cannot make progress).
"$SWIFT" build -c release --package-path "$ROOT/Fuzz" --scratch-path "$SCRATCH" \
    --sanitize fuzzer --sanitize address -debug-info-format none || exit 1
BIN=$("$SWIFT" build -c release --package-path "$ROOT/Fuzz" --scratch-path "$SCRATCH" \
    --sanitize fuzzer --sanitize address -debug-info-format none --show-bin-path)

mkdir -p "$SCRATCH/artifacts" "$SCRATCH/logs"
run_one() {
    local target=$1
    mkdir -p "$SCRATCH/corpus/$target"
    # ASan: leaks at exit are not what this run measures (global fixtures live forever).
    ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 "$BIN/$target" \
        -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=5 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$SCRATCH/artifacts/$target-" \
        "$SCRATCH/corpus/$target" "$ROOT/Fuzz/corpus/$target" > "$SCRATCH/logs/$target.log" 2>&1
    echo $? > "$SCRATCH/logs/$target.status"
}

running=0
for t in $TARGETS; do
    [[ -x "$BIN/$t" ]] || { echo "fuzz: no such target $t in $BIN" >&2; exit 1; }
    run_one "$t" &
    running=$((running + 1))
    if (( running >= JOBS )); then wait -n; running=$((running - 1)); fi
done
wait

failed=0
printf '%-20s %14s %10s %8s  %s\n' target executions exec/s cov result
for t in $TARGETS; do
    log="$SCRATCH/logs/$t.log"
    status=$(cat "$SCRATCH/logs/$t.status" 2>/dev/null || echo 1)
    # Final stats lines: "stat::number_of_executed_units: N", "stat::average_exec_per_sec: N".
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    if [[ $status == 0 ]]; then result=ok; else result="FAILED (exit $status, see $log)"; failed=1; fi
    printf '%-20s %14s %10s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$result"
    if [[ $status != 0 ]]; then grep -m3 -E 'ERROR|Fatal error|deadly signal|timeout|out-of-memory' "$log" | sed 's/^/    /'; fi
done
ls "$SCRATCH"/artifacts/ 2>/dev/null | sed 's/^/artifact: /'
exit $failed
