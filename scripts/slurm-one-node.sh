#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine (Debian's slurm-wlm and munge), for the test
# that submits the README's job-array scripts (tests/slurm.rs). Installs the packages if they
# are missing and apt-get is there; runs the daemons as root, without systemd. Idempotent: a
# cluster already answering `sinfo` is left as it is. Exits non-zero, saying why, if the
# cluster does not come up.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "slurm-one-node: needs root (or sudo)" >&2; exit 1; }
  SUDO="sudo"
fi
if sinfo -h -o '%T' 2>/dev/null | grep -q idle; then
  exit 0
fi
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || { echo "slurm-one-node: no apt-get to install slurm-wlm" >&2; exit 1; }
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq slurm-wlm munge >/dev/null
fi
HOST=$(hostname -s)
CPUS=$(nproc)
MEMORY=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
STATE=/var/spool/slurm-one-node
$SUDO mkdir -p /etc/slurm "$STATE/ctld" "$STATE/d" /var/log/slurm /run/munge /var/lib/munge /var/log/munge
# munge: a key, and the daemon (it wants its directories owned by its user, or by root).
if [ ! -s /etc/munge/munge.key ]; then
  $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
if id munge >/dev/null 2>&1; then
  $SUDO chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  $SUDO chmod 0400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || $SUDO runuser -u munge -- munged
else
  $SUDO chmod 0400 /etc/munge/munge.key
  pgrep -x munged >/dev/null || $SUDO munged --force
fi
$SUDO tee /etc/slurm/slurm.conf >/dev/null <<CONF
ClusterName=crisis-sim-ci
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
NodeName=$HOST CPUs=$CPUS RealMemory=$MEMORY State=UNKNOWN
PartitionName=batch Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
# No cgroup.conf: Debian 12's Slurm (22.05) has no "disabled" cgroup plugin, and with
# proctrack/linuxproc and task/none its default loads and is not used.
# Started even if a process of the name is listed (it may be a zombie); a second daemon
# refuses to start on its pid file, which is harmless.
$SUDO slurmctld 2>/dev/null || true
$SUDO slurmd 2>/dev/null || true
for _ in $(seq 1 60); do
  # A node the controller marked down before its slurmd answered comes back.
  if sinfo -h -o '%T' 2>/dev/null | grep -q down; then
    $SUDO scontrol update nodename="$HOST" state=resume 2>/dev/null || true
  fi
  if sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; then
    echo "slurm-one-node: $HOST up ($CPUS CPUs)"
    exit 0
  fi
  sleep 1
done
echo "slurm-one-node: the node did not come up; sinfo says:" >&2
sinfo >&2 || true
tail -20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 2>/dev/null || true
exit 1
