"""Segments ensembles side by side on the workflow's validation sets (never its test sets), scored by the
2024 challenge's scorer as the test sets are: the ground on which one ensemble is chosen over another.

    python benchmarks/segments_validation.py \
        --ensembles segments-cpu segments-gpu segments-broad/results/segments/ensemble \
        --sets segments-cpu/results/sets/segments_validation_mixed segments-broad/results/sets/segments_validation_broad

An ensemble is a shipped name or a folder; a set is a folder of the segments_set rule (trajs_fov_0.csv,
traj_labs_fov_0.txt, experiments.csv). Each ensemble's segmentation is the one tuned on its own
validation set, as shipped.
"""

import argparse
import tempfile
from pathlib import Path

from andiflow import segments_score
from andiflow.cli import main as andiflow

COLUMNS = ("jaccard", "cp_rmse", "alpha_mae", "log10_k_mae", "k_msle", "state_f1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ensembles", nargs="+", required=True)
    parser.add_argument("--sets", nargs="+", required=True)
    parser.add_argument("--by-model", action="store_true", help="also each diffusion model's scores")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for folder in map(Path, args.sets):
            print(f"\n# {folder}")
            print(f"{'ensemble':44s} {'':14s}" + "".join(f"{c:>12s}" for c in COLUMNS))
            for name in args.ensembles:
                out = f"{tmp}/out.txt"
                andiflow(["predict", str(folder / "trajs_fov_0.csv"), "--task", "segments", "--models", name,
                          "--threads", "1", "-o", out])  # fmt: skip
                scores = segments_score.evaluate(out, folder / "traj_labs_fov_0.txt", folder / "experiments.csv")
                groups = {"all": scores["all"]} | (scores["by_model"] if args.by_model else {})
                for group, values in groups.items():
                    print(f"{name:44s} {group:14s}" + "".join(f"{values[c]:12.4f}" for c in COLUMNS), flush=True)


if __name__ == "__main__":
    main()
