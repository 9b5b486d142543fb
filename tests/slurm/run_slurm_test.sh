#!/usr/bin/env bash
# The workflow through workflow/profiles/slurm on a real single-node SLURM (Debian's 22.05), as root:
# install SLURM and munge, start munged, slurmctld and slurmd, run the micro config with training
# jobs asking for a (fake) GPU, check the outputs and that SLURM saw --gpus=1, stop the daemons.
#   bash tests/slurm/run_slurm_test.sh        (from the repository root; needs root and apt)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
host=$(hostname -s)
state=$(mktemp -d /tmp/andiflow-slurm.XXXXXX)
pids=()

say() { printf '[slurm test] %s\n' "$*"; }
stop_daemons() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap stop_daemons EXIT

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  say "installing SLURM and munge"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    slurmctld slurmd slurm-client munge >/dev/null
fi
python3 -m pip install --quiet -e "$repo[slurm]"

say "starting munged"
install -d -o munge -g munge /run/munge
[ -s /etc/munge/munge.key ] || runuser -u munge -- /usr/sbin/mungekey --create
runuser -u munge -- /usr/sbin/munged --force
sleep 1
pids+=("$(cat /run/munge/munged.pid)")

say "writing /etc/slurm/slurm.conf (state in $state)"
mkdir -p /etc/slurm "$state/spool" "$state/slurmd"
cores=$(nproc)
mem=$(( $(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 2048 ))
cat > /etc/slurm/slurm.conf <<EOF
ClusterName=andiflow-test
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
GresTypes=gpu
StateSaveLocation=$state/spool
SlurmdSpoolDir=$state/slurmd
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/slurmctld.log
SlurmdLogFile=$state/slurmd.log
MinJobAge=3600
NodeName=$host CPUs=$cores RealMemory=$mem Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=$host Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=$host MaxTime=INFINITE State=UP
EOF
cat > /etc/slurm/gres.conf <<EOF
AutoDetect=off
NodeName=$host Name=gpu File=/dev/null Count=1
EOF

say "starting slurmctld and slurmd"
slurmctld -i
slurmd
for _ in $(seq 30); do
  [ -s "$state/slurmctld.pid" ] && [ -s "$state/slurmd.pid" ] && break
  sleep 1
done
pids+=("$(cat "$state/slurmctld.pid")" "$(cat "$state/slurmd.pid")")
for _ in $(seq 30); do
  sinfo -h -o '%T' | grep -qE 'idle|mixed' && break
  sleep 1
done
sinfo

say "running the micro config through the SLURM profile"
work="$state/work"
mkdir -p "$work"
cp -rL "$repo/Snakefile" "$repo/workflow" "$repo/config" "$repo/envs" "$repo/profiles" "$work/"
cp "$repo/tests/micro.yaml" "$work/"
# A user's two edits to the profile: our partitions are already called cpu and gpu, and this
# cluster has no accounts.
sed -i '/slurm_account:/d' "$work/workflow/profiles/slurm/config.yaml"
cd "$work"
# squeue, because without an accounting daemon sacct (the plugin's default) never answers.
timeout -k 30 1800 snakemake --workflow-profile workflow/profiles/slurm --configfile micro.yaml \
  --slurm-status-command squeue --slurm-init-seconds-before-status-checks 2 \
  --set-resources train:gpu=1 train:slurm_partition=gpu calibrate:slurm_partition=gpu predict:slurm_partition=gpu

say "checking the outputs"
for f in results/models/alpha/1D/L10/fold0.pt results/models/diffusion_model/3D/L20/fold1.pt results/calibrate/scale.json \
         results/predictions/testset.txt results/evaluation/testset.json; do
  [ -s "$f" ] || { say "missing $f"; exit 1; }
done
gpu_jobs=$(scontrol show job -o | grep -c 'TresPerJob=gres:gpu:1' || true)
train_jobs=$(scontrol show job -o | grep 'Partition=gpu' | grep -c 'Comment=rule_train' || true)
say "SLURM ran $(scontrol show job -o | grep -c JobId) jobs; $gpu_jobs asked for a GPU, $train_jobs training jobs in partition gpu"
# one rule trains every network of the micro config: 2 tasks x 3 dimensions x 2 lengths x 2 folds
[ "$gpu_jobs" -eq 24 ] && [ "$train_jobs" -eq 24 ] || { scontrol show job -o | cut -c1-300; exit 1; }
say "passed"
