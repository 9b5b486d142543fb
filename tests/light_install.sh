#!/usr/bin/env bash
# The base install on a newer Python (3.13 from pyenv, or $LIGHT_PYTHON): a fresh virtual environment,
# `pip install .` from this clone, no PyTorch importable, numpy 2.x, `andiflow predict` quiet on a
# task1.txt and on a table of tracks, with the alphas of the main environment within 1e-5, and the
# same segments (--task segments) and the same population (andiflow population). CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${LIGHT_PYTHON:-$(ls -d "$(pyenv root)"/versions/3.13*/bin/python | tail -1)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work" <<'EOF'
import sys
import numpy as np
rng, out = np.random.default_rng(13), sys.argv[1]
with open(f"{out}/task1.txt", "w") as f:
    for i, n in enumerate([10, 37, 150, 420, 999, 1600]):
        dim = 1 + i % 3
        f.write(f"{dim}.0;" + ";".join(f"{v:.5f}" for v in rng.normal(size=(dim, n)).cumsum(axis=1).ravel()) + "\n")
with open(f"{out}/tracks.csv", "w") as f:
    f.write("particle,frame,x,y\n")
    for p, n in enumerate([12, 80, 300]):
        for t, (x, y) in enumerate(rng.normal(size=(n, 2)).cumsum(axis=0)):
            f.write(f"{p},{t},{x:.4f},{y:.4f}\n")
with open(f"{out}/many.csv", "w") as f:
    f.write("particle,frame,x,y\n")
    for p in range(40):
        for t, (x, y) in enumerate(rng.normal(size=(int(rng.integers(10, 40)), 2)).cumsum(axis=0)):
            f.write(f"{p},{t},{x:.4f},{y:.4f}\n")
EOF
andiflow predict "$work/task1.txt" --with-std -o "$work/main.txt" 2>/dev/null
andiflow predict "$work/tracks.csv" -o "$work/main.csv" 2>/dev/null
andiflow predict "$work/tracks.csv" --task segments -o "$work/main_segments.csv" 2>/dev/null
andiflow population "$work/many.csv" -o "$work/main_population.csv" 2>/dev/null

"$py" -m venv "$work/venv"
"$work/venv/bin/pip" install -q . 2>&1 | grep -v "^WARNING: Location" || true
echo "light install: $("$work/venv/bin/python" --version), $(du -sh "$work/venv" | cut -f1) in the environment"
"$work/venv/bin/python" -c "
import importlib.util, numpy
assert importlib.util.find_spec('torch') is None, 'torch is importable in the light install'
assert numpy.__version__.startswith('2.'), numpy.__version__
print('numpy', numpy.__version__, '- no torch')"
"$work/venv/bin/andiflow" predict "$work/task1.txt" --with-std -o "$work/light.txt" 2>"$work/err.txt"
"$work/venv/bin/andiflow" predict "$work/tracks.csv" -o "$work/light.csv" 2>>"$work/err.txt"
"$work/venv/bin/andiflow" predict "$work/tracks.csv" --task segments -o "$work/light_segments.csv" 2>>"$work/err.txt"
"$work/venv/bin/andiflow" population "$work/many.csv" -o "$work/light_population.csv" 2>>"$work/err.txt"
if grep -qi "warn" "$work/err.txt"; then
    echo "light install: predict printed a warning:" && cat "$work/err.txt" && exit 1
fi
"$work/venv/bin/python" - "$work" <<'EOF'
import sys
import numpy as np
import pandas as pd
w = sys.argv[1]
main, light = (np.loadtxt(f"{w}/{n}.txt", delimiter=";") for n in ("main", "light"))
assert main.shape == light.shape == (6, 3), (main.shape, light.shape)
np.testing.assert_allclose(light, main, atol=1e-5)
a, b = pd.read_csv(f"{w}/main.csv"), pd.read_csv(f"{w}/light.csv")
np.testing.assert_allclose(b["alpha"], a["alpha"], atol=1e-5)
s, t = pd.read_csv(f"{w}/main_segments.csv"), pd.read_csv(f"{w}/light_segments.csv")
assert s["first_frame"].equals(t["first_frame"]) and s["alpha"].notna().sum() > 0
np.testing.assert_allclose(t[["alpha", "K"]], s[["alpha", "K"]], rtol=1e-4)
print(f"light install: same alphas as the main environment (task1: {len(main)} lines, tracks: {len(a)} particles)")
print(f"light install: same segments as the main environment ({len(s)} rows)")
u, v = pd.read_csv(f"{w}/main_population.csv"), pd.read_csv(f"{w}/light_population.csv")
assert u["tracks"][0] == v["tracks"][0] == 40
np.testing.assert_allclose(v[["alpha_mean", "alpha_sd"]], u[["alpha_mean", "alpha_sd"]], atol=1e-4)
print(f"light install: the same population (alpha mean {u['alpha_mean'][0]:.3f})")
EOF
