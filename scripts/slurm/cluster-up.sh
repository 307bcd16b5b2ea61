#!/usr/bin/env bash
# Starts a throwaway single-node Slurm cluster (munged, slurmctld, slurmd) for
# tests, without systemd, and waits until it runs a job. Run as root.
# Idempotent; stop it with cluster-down.sh. Settings: SLURM_CI_DIR (state,
# logs; default /tmp/motcua-slurm), SLURM_CI_TIMEOUT (seconds, default 60).
set -euo pipefail
DIR=${SLURM_CI_DIR:-/tmp/motcua-slurm}
TIMEOUT=${SLURM_CI_TIMEOUT:-60}
[ "$(id -u)" = 0 ] || { echo "error: run as root (it installs and starts daemons)" >&2; exit 2; }

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# munge: a key owned by the munge user, private directories, a reachable socket.
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge "$DIR"/{state,spool,log} /etc/slurm
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 0755 /run/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  alive /run/munge/munged.pid || rm -f /run/munge/munged.pid /run/munge/munge.socket.2*
  runuser -u munge -- /usr/sbin/munged
  touch "$DIR/munged.ours"
  for _ in $(seq 1 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

# One node called localhost (independent of the host name), no cgroups, no accounting.
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=motcua-ci
SlurmctldHost=localhost
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
MailProg=/bin/true
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=30
NodeName=localhost CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF

# -c: forget jobs of an earlier run (they would be re-run otherwise).
alive "$DIR/slurmctld.pid" || /usr/sbin/slurmctld -c
if alive "$DIR/slurmd.pid"; then scontrol reconfigure >/dev/null 2>&1 || true; else /usr/sbin/slurmd -N localhost; fi

for _ in $(seq 1 $((TIMEOUT * 2))); do
  case "$(sinfo -h -n localhost -o %t 2>/dev/null || true)" in
    idle|mix|alloc) if timeout 30 srun -n1 -t1 true; then echo "slurm ready"; exit 0; fi ;;
    drain*|down*|drng) scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true ;;
  esac
  sleep 0.5
done
echo "error: slurm not ready after ${TIMEOUT}s; logs in $DIR/log" >&2
tail -n 20 "$DIR"/log/*.log >&2 || true
exit 1
