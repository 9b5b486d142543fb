#!/usr/bin/env bash
# Train config/segments-gpu.yaml's networks on a GPU machine: the shards first (one job per shard, all
# cores), then both folds side by side on the GPU; the timings and epoch tables into OUT_DIR.
#   bash benchmarks/segments_gpu.sh [OUT_DIR [CONFIG]]   (default: benchmarks/results, config/segments-gpu.yaml)
# Where andiflow is importable but not installed (PYTHONPATH), its two commands are made as shims.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results}
config=${2:-config/segments-gpu.yaml}
mkdir -p "$out"
if ! command -v andiflow-step > /dev/null; then
  mkdir -p /tmp/andiflow-bin
  for pair in andiflow:andiflow.cli andiflow-step:andiflow.steps; do
    printf '#!/bin/sh\nexec python3 -c "import sys; from %s import main; sys.exit(main())" "$@"\n' "${pair#*:}" \
      > "/tmp/andiflow-bin/${pair%%:*}"
    chmod +x "/tmp/andiflow-bin/${pair%%:*}"
  done
  export PATH=/tmp/andiflow-bin:$PATH
fi
read -r workdir shards < <(python3 -c "
import math, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
print(c['workdir'], math.ceil(c['segments']['data']['tracks'] / c['data']['shard_size']))" "$config")
models=results/models/segments/2D/L200
start=$(date +%s)
# targets first: whatever follows --configfile is read as config files
snakemake $(for k in $(seq 0 $((shards - 1))); do echo "results/shards/segments/L200/shard$k.h5"; done) \
  --cores all --configfile "$config"
generated=$(date +%s)
snakemake "$models/fold0.pt" "$models/fold1.pt" --cores all --resources gpu=2 --configfile "$config"
trained=$(date +%s)
{
  echo "command: bash benchmarks/segments_gpu.sh $out $config"
  echo "generation of $shards shards: $((generated - start)) s on $(nproc) cores"
  echo "training of folds 0 and 1 side by side: $((trained - generated)) s on" \
    "$(python3 -c 'import torch; print(torch.cuda.get_device_name() if torch.cuda.is_available() else "the CPU")')"
  for fold in 0 1; do echo "fold $fold:"; cat "$workdir/$models/fold$fold.csv"; done
} | tee "$out/segments_gpu_summary.txt"
