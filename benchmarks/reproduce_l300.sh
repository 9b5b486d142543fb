#!/usr/bin/env bash
# Reproduce HNU's L=300 fold-0 result on a GPU machine: generate 1.5 M trajectories (one job
# per shard, all cores), train fold 0 with HNU's settings, keep the epoch table and timings.
#   bash benchmarks/reproduce_l300.sh [OUT_DIR [SEED]]   (default: benchmarks/results, seed 2020)
# Another seed draws other trajectories and another fold split; its files are named l300_seed<SEED>_*.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results}
seed=${2:-2020}
name=l300$([[ $seed == 2020 ]] || echo "_seed$seed")
mkdir -p "$out"
target=results/models/alpha/1D/L300/fold0.pt
start=$(date +%s)
# targets first: whatever follows --configfile is read as config files
snakemake $(python3 -c "print(' '.join(f'results/shards/1D/L300/shard{k}.h5' for k in range(15)))") \
  --cores all --configfile config/config.yaml benchmarks/l300.yaml --config seed="$seed"
generated=$(date +%s)
snakemake "$target" --cores all --resources gpu=1 --configfile config/config.yaml benchmarks/l300.yaml --config seed="$seed"
trained=$(date +%s)
cp results/models/alpha/1D/L300/fold0.csv "$out/${name}_fold0_epochs.csv"
cp results/logs/train/alpha_1D_L300_fold0.log "$out/${name}_fold0.log"
{
  echo "command: bash benchmarks/reproduce_l300.sh $out $seed"
  echo "generation of 1,500,000 trajectories at L=300: $((generated - start)) s on $(nproc) cores"
  echo "training of fold 0: $((trained - generated)) s on $(python3 -c 'import torch; print(torch.cuda.get_device_name())')"
  tail -n 1 results/logs/train/alpha_1D_L300_fold0.log
} | tee "$out/${name}_summary.txt"
