#!/usr/bin/env bash
# Stops the daemons cluster-up.sh started, by their pid files.
set -uo pipefail
DIR=${SLURM_CI_DIR:-/tmp/motcua-slurm}
stop() {
  [ -s "$1" ] || return 0
  local pid; pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$1"
}
stop "$DIR/slurmd.pid"
stop "$DIR/slurmctld.pid"
if [ -e "$DIR/munged.ours" ]; then stop /run/munge/munged.pid; rm -f "$DIR/munged.ours"; fi
exit 0
