#!/usr/bin/env bash
# Fuzzes the scenario and network parsers with cargo fuzz (libFuzzer) for a
# fixed number of runs, starting from the shipped files. Any panic, a run past
# 10 s or past 4 GiB of memory fails it. Usage: scripts/fuzz.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-100000}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "installing cargo-fuzz (once)"
  cargo install --locked cargo-fuzz >/dev/null
fi
mkdir -p fuzz/corpus/scenario
cp scenarios/*.toml scenarios/reforms/*.toml scenarios/validation/*.toml tests/fixtures/small.toml fuzz/corpus/scenario/
LOG=$(mktemp)
status=0
# Build first, so that a target that no longer compiles is told apart from a
# failing input.
if ! (cd fuzz && cargo fuzz build --sanitizer none -O scenario) >"$LOG" 2>&1; then
  grep -E "^error" -A8 "$LOG" >&2 || tail -40 "$LOG" >&2
  rm -f "$LOG"
  echo "fuzz: the fuzz target does not build (fuzz/fuzz_targets/); fix it against the library's current API" >&2
  exit 1
fi
# No sanitizer: the project denies unsafe code (one audited prefetch hint is
# allowed), and this builds on stable Rust.
(cd fuzz && cargo fuzz run --sanitizer none -O scenario corpus/scenario -- \
  -runs="$RUNS" -seed=1 -timeout=10 -rss_limit_mb=4096 -max_len=65536 -print_final_stats=1) >"$LOG" 2>&1 || status=$?
grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb|SUMMARY|Failing input)|panicked|deadly signal|timeout|out-of-memory" "$LOG" || true
if [ "$status" != 0 ]; then
  tail -40 "$LOG" >&2
  echo "fuzz: FAILED (the failing input is in fuzz/artifacts/scenario/)" >&2
fi
rm -f "$LOG"
exit "$status"
