#!/usr/bin/env bash
# Integration test on a real Slurm cluster: starts one, runs the small test
# sweep as a 2-task job array, merges the shards and checks the result is
# byte-identical to the same sweep run locally. Needs root; run by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$(realpath "${MOTCUA_BIN:-target/debug/motcua}")
[ -x "$BIN" ] || { echo "error: $BIN not built; run cargo test (or set MOTCUA_BIN) first" >&2; exit 2; }
bash scripts/slurm/cluster-up.sh
trap 'bash scripts/slurm/cluster-down.sh' EXIT
WORK=$(mktemp -d)
"$BIN" sweep tests/fixtures/sweep.toml --out "$WORK/local" --quiet >/dev/null
sbatch --wait --array=1-2 --chdir="$PWD" --output="$WORK/task-%a.out" \
  scripts/slurm/sweep-array.sbatch tests/fixtures/sweep.toml "$WORK/slurm" "$BIN" >/dev/null
"$BIN" merge "$WORK"/slurm/shard-* --out "$WORK/merged" >/dev/null
passed=0 failed=0
for f in results.csv summary.csv; do
  if cmp -s "$WORK/local/$f" "$WORK/merged/$f"; then
    echo "ok: $f of the Slurm job array equals the local run"; passed=$((passed + 1))
  else
    echo "FAIL: $f of the Slurm job array differs from the local run" >&2; failed=$((failed + 1))
  fi
done
rm -rf "$WORK"
echo "slurm: $passed passed, $failed failed"
[ "$failed" = 0 ]
