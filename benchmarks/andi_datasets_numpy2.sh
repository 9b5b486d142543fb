#!/usr/bin/env bash
# andi-datasets 2.1.13 assumes numpy <= 1.26 (the workflow extra pins it). On a machine whose scipy needs
# numpy 2 (the device's image), its models_phenom stops at float()/int() of 1-element arrays, which
# numpy >= 2.4 refuses: make those calls take the one element. Used by benchmarks/segments_gpu.sh's run.
#   bash benchmarks/andi_datasets_numpy2.sh [SITE]   (default: /tmp/site, where the wheels were installed)
set -euo pipefail
f=${1:-/tmp/site}/andi_datasets/models_phenom.py
sed -i -E 's/int\(np.argwhere\(label\[t,:\] == l\)\[0\]\)/int(np.argwhere(label[t,:] == l)[0, 0])/;
  s/float\(gaussian\(/_scalar(gaussian(/g; s/float\((alphas_t|Ds_t)\[t, i\]\)/_scalar(\1[t, i])/g;
  /^import numpy as np$/a _scalar = lambda v: float(np.asarray(v).reshape(-1)[0])' "$f"
echo "$f: $(grep -c "_scalar(" "$f") calls take the element"
