#!/usr/bin/env bash
# A one-node Slurm cluster on localhost for `npm run test:cluster`: munge, MariaDB + slurmdbd (so that sacct
# works), slurmctld and slurmd with CPU-only nodes. Installs Debian's packages when they are missing.
#   bash test/cluster/cluster.sh start   # idempotent; prints "cluster: up" when sinfo answers
#   bash test/cluster/cluster.sh stop
# Needs root (or sudo). It writes /etc/slurm/{slurm,slurmdbd,cgroup}.conf, marked as ours; it refuses to
# overwrite a configuration it did not write, so it never clobbers a real cluster's.
set -euo pipefail
MARK="# written by gae test/cluster/cluster.sh"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
STATE=/var/lib/gae-slurm
HOST=$(hostname -s)

fail() { echo "cluster: $*" >&2; exit 1; }

install_packages() {
  local need=()
  for p in slurm-wlm slurmdbd munge mariadb-server; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "cluster: installing ${need[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || fail "apt-get install ${need[*]} failed"
  fi
}

CHANGED=0
write_conf() { # file, content; sets CHANGED=1 when the file's content changes
  if [ -e "$1" ] && ! grep -qF "$MARK" "$1"; then fail "$1 exists and was not written by this script; not touching a real cluster's config"; fi
  local new; new=$(printf '%s\n%s\n' "$MARK" "$2")
  if [ ! -e "$1" ] || [ "$(cat "$1")" != "$new" ]; then CHANGED=1; fi
  printf '%s\n' "$new" | $SUDO tee "$1" >/dev/null
}

start() {
  install_packages
  $SUDO mkdir -p /etc/slurm "$STATE"/{ctld,d,log} /run/munge /var/run/mysqld
  # munge: a key, then the daemon (it refuses to run with loose permissions).
  [ -s /etc/munge/munge.key ] || $SUDO mungekey --create --force 2>/dev/null || $SUDO dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
  $SUDO chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  $SUDO chmod 0700 /etc/munge; $SUDO chmod 0400 /etc/munge/munge.key; $SUDO chmod 0755 /run/munge
  pgrep -x munged >/dev/null || $SUDO -u munge munged 2>/dev/null || $SUDO runuser -u munge -- munged || fail "munged did not start"
  # MariaDB for slurmdbd (sacct needs accounting storage).
  $SUDO chown mysql:mysql /var/run/mysqld
  if ! pgrep -x mariadbd >/dev/null && ! pgrep -x mysqld >/dev/null; then
    [ -d /var/lib/mysql/mysql ] || $SUDO mariadb-install-db --user=mysql >/dev/null
    ($SUDO mysqld_safe --user=mysql >/dev/null 2>&1 &)
  fi
  for _ in $(seq 1 60); do $SUDO mariadb -e 'select 1' >/dev/null 2>&1 && break; sleep 1; done
  $SUDO mariadb -e 'select 1' >/dev/null 2>&1 || fail "MariaDB did not start"
  $SUDO mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'gae-ci'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost'; FLUSH PRIVILEGES;"
  local cpus mem
  cpus=$(nproc); mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 2048 ))
  write_conf /etc/slurm/slurmdbd.conf "AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=gae-ci
StorageLoc=slurm_acct_db
LogFile=$STATE/log/slurmdbd.log
PidFile=/run/slurmdbd.pid"
  $SUDO chmod 600 /etc/slurm/slurmdbd.conf
  $SUDO rm -f /etc/slurm/cgroup.conf
  write_conf /etc/slurm/slurm.conf "ClusterName=gae-ci
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/d
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ReturnToService=2
KillWait=10
MinJobAge=3600
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=cpu Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO"
  # Daemons started with another configuration are restarted with this one.
  if [ "$CHANGED" = 1 ]; then stop; sleep 1; fi
  pgrep -x slurmdbd >/dev/null || $SUDO slurmdbd || fail "slurmdbd did not start (see $STATE/log/slurmdbd.log)"
  for _ in $(seq 1 30); do $SUDO sacctmgr -i show cluster >/dev/null 2>&1 && break; sleep 1; done
  $SUDO sacctmgr -i show cluster format=cluster -n 2>/dev/null | grep -qw gae-ci || $SUDO sacctmgr -i add cluster gae-ci >/dev/null || true
  pgrep -x slurmctld >/dev/null || $SUDO slurmctld || fail "slurmctld did not start (see $STATE/log/slurmctld.log)"
  pgrep -x slurmd >/dev/null || $SUDO slurmd || fail "slurmd did not start (see $STATE/log/slurmd.log)"
  for _ in $(seq 1 60); do
    if sinfo -h -o '%T' 2>/dev/null | grep -Eq '^(idle|mixed|allocated)'; then echo "cluster: up ($HOST, $cpus CPUs)"; return 0; fi
    scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
    sleep 1
  done
  sinfo >&2 || true
  tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
  fail "the node did not become idle"
}

stop() {
  for d in slurmd slurmctld slurmdbd; do $SUDO pkill -x "$d" 2>/dev/null || true; done
  # Wait until they are gone, so that a start right after this one really starts them again.
  # One name per pgrep: it matches at most 15 characters of a name, and warns and matches nothing for a longer pattern.
  live() { local d; for d in slurmd slurmctld slurmdbd; do pgrep -x "$d" >/dev/null && return 0; done; return 1; }
  for _ in $(seq 1 30); do live || return 0; sleep 0.5; done
  for d in slurmd slurmctld slurmdbd; do $SUDO pkill -9 -x "$d" 2>/dev/null || true; done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: cluster.sh start|stop" >&2; exit 2 ;;
esac
