"""The segments ensemble made and scored (the workflow's steps; needs andi-datasets, the workflow extra):
its segmentation tuned and its intervals calibrated on a validation set, and a file of the 2024
challenge's lines scored by the challenge's own scorer (`utils_challenge.error_SingleTraj_dataset`,
changepoint threshold 10 frames), experiment by experiment, averaged weighted by their tracks, as the
challenge did; beside it the MAE of log10 K over matched segments with K > 0, which the challenge's
K metric (a log1p error) barely sees at small K."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow import segment, tracks
from andiflow.manifest import sha256
from andiflow.segmenter import SegmentsEnsemble, xy

LEVEL = 0.9  # of the segments' intervals
THRESHOLDS = np.round(np.arange(0.1, 0.8, 0.05), 2)  # the peak thresholds tune tries
GAPS = (2, 3, 4, 5, 7)  # and the gaps
METRICS = ("cp_rmse", "jaccard", "alpha_mae", "k_msle", "state_f1", "log10_k_mae")


ANDIJ = "andiflow-segments-andij.onnx"  # the same networks by AnDi-J's plug-in contract (export.AnDiJ)


def build_ensemble(members, networks, tracks_csv, labels, folder, config) -> dict:
    """Write the ensemble folder from the members' ONNX files and their PyTorch networks (for the
    AnDi-J file); return what the validation set said."""
    from andiflow.export import export_andij
    from andiflow.model import load_checkpoint

    folder = Path(folder)
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    checkpoints = [load_checkpoint(p) for p in networks]
    entries = []
    for path, (_, meta) in zip(members, checkpoints):
        name = Path(path).name  # fold<k>.onnx
        shutil.copyfile(path, staging / name)
        entries.append(
            {
                "onnx": name,
                "onnx_sha256": sha256(staging / name),
                "fold": int(name[4:-5]),
                "trained_on": meta.get("trained_on", "cpu"),
            }
        )
    manifest = {
        "task": "segments",
        "name": config["name"],
        "members": entries,
        "min_length": config["segments"]["model"]["min_length"],
        "made_by": config,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest))
    ens = SegmentsEnsemble.load(staging)
    found = tracks.read_tracks(tracks_csv)
    truth = segment.read_challenge_lines(labels)
    frames = ens.frames([xy(t) for t in found.trajectories])
    true_cps = [truth[pid][0] for pid in found.particles]
    tuned = tune(frames, true_cps)
    ens.manifest["segmentation"] = {"threshold": tuned["threshold"], "gap": tuned["gap"]}
    ens.manifest["segmentation"]["state_mix"] = training_mix(frames, tuned["threshold"], tuned["gap"])
    points, alpha_error, k_error = [], [], []
    for pid, out in zip(found.particles, frames):
        for s, (alpha, k) in zip(parts := ens.segments(out), overlapping_truth(parts, truth[pid])):
            points.append(s.points)
            alpha_error.append(abs(s.alpha - alpha))
            k_error.append(abs(s.log10_k - np.log10(k)) if k > 0 else np.nan)
    manifest |= {"segmentation": ens.manifest["segmentation"]}
    export_andij([model for model, _ in checkpoints], tuned["threshold"], tuned["gap"], staging / ANDIJ)
    manifest["andij"] = {"onnx": ANDIJ, "onnx_sha256": sha256(staging / ANDIJ)}
    manifest["intervals"] = segment.Intervals.calibrate(points, alpha_error, k_error, LEVEL).table
    manifest["validation"] = {"tracks": len(found.particles), **tuned}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return manifest["validation"] | {"segmentation": manifest["segmentation"]}


def tune(outputs: list, true: list[list[int]]) -> dict:
    """The threshold and gap (of THRESHOLDS, GAPS) whose changepoints have the highest Jaccard index of
    the challenge's scorer (`ensemble_changepoint_error`, threshold 10 frames) on a validation set's
    per-frame outputs and true changepoints; and that index and the changepoints' RMSE."""
    from andi_datasets.utils_challenge import ensemble_changepoint_error

    best = None
    for gap in GAPS:
        for threshold in THRESHOLDS:
            found = [segment.changepoints(o[:, 0], threshold, gap) for o in outputs]
            rmse, jaccard = ensemble_changepoint_error(true, found, threshold=10)
            if best is None or jaccard > best["jaccard"]:
                best = {"threshold": float(threshold), "gap": gap, "jaccard": jaccard, "cp_rmse": float(rmse)}
    return best


def training_mix(frames: list, threshold: float, gap: int) -> list[float]:
    """The mix of states the networks learnt: the mean state probability of the validation set's
    segments (the training recipe), by which a file's own mix is weighed (segment.file_mix)."""
    return [round(float(q), 6) for q in segment.state_probabilities(frames, threshold, gap).mean(0)]


def _trained_where(members: list[dict]) -> str:
    """How the folds were trained: CPU jobs of one thread, or jobs on a GPU (named)."""
    where = sorted({m.get("trained_on", "cpu") for m in members})
    if where == ["cpu"]:
        return "each fold a job of one CPU thread"
    return f"each fold a job on {', '.join(where)} (trained at GPU scale; seconds below are GPU-job seconds)"


def overlapping_truth(parts: list, truth: tuple) -> list[tuple[float, float]]:
    """(alpha, K) of the true segment each found segment overlaps most."""
    cps, alphas, ks, _, length = truth
    starts, ends = [0, *cps], [*cps, length]
    found = []
    for s in parts:
        overlap = [min(s.last + 1, b) - max(s.first, a) for a, b in zip(starts, ends)]
        k = int(np.argmax(overlap))
        found.append((alphas[k], ks[k]))
    return found


def evaluate(predictions, labels, experiments) -> dict:
    """The challenge's metrics of a file of predicted lines against the reference, over all tracks and
    per diffusion model: each the mean over experiments weighted by their tracks."""
    from andi_datasets.utils_challenge import load_file_to_df

    pred, true = load_file_to_df(predictions), load_file_to_df(labels)
    true["T"] = [int(c[-1]) for c in true["changepoints"]]
    groups = pd.read_csv(experiments)
    scores = {"tracks": len(true), "predicted": len(pred), "all": _weighted(pred, true, groups)}
    scores["by_model"] = {m: _weighted(pred, true, g) for m, g in groups.groupby("model")}
    return scores


def _weighted(pred, true, groups) -> dict:
    rows, weights = [], []
    for _, g in groups.groupby("experiment"):
        ids = set(g["traj_idx"])
        rows.append(_scores(pred[pred.traj_idx.isin(ids)], true[true.traj_idx.isin(ids)]))
        weights.append(len(ids))
    return {m: float(np.average([r[m] for r in rows], weights=weights)) for m in METRICS} | {"tracks": sum(weights)}


def _scores(pred, true) -> dict:
    from andi_datasets.utils_challenge import error_SingleTraj_dataset, segment_property_errors

    rmse, jaccard, alpha, k, state = error_SingleTraj_dataset(pred, true, prints=False, disable_tqdm=True)
    errors = []
    for t in true.itertuples():
        p = pred[pred.traj_idx == t.traj_idx]
        if p.empty:
            continue
        p = p.iloc[0]
        _, pairs, _ = segment_property_errors(
            np.array(t.changepoints).astype(int), t.alphas, t.Ds, t.states,
            np.array(p.changepoints).astype(int), p.alphas, p.Ds, p.states, return_pairs=True,
        )  # fmt: skip
        errors += [abs(np.log10(a) - np.log10(b)) for a, b in pairs if a > 0 and b > 0]
    return dict(cp_rmse=rmse, jaccard=jaccard, alpha_mae=alpha, k_msle=k, state_f1=state, log10_k_mae=np.mean(errors))


def summary(scores: dict) -> str:
    head = f"{'':14s}" + "".join(f"{m:>12s}" for m in METRICS)
    lines = [f"segments: {scores['predicted']} of {scores['tracks']} tracks predicted", head]
    for name, row in [("all", scores["all"]), *scores["by_model"].items()]:
        lines.append(f"{name:14s}" + "".join(f"{row[m]:12.4f}" for m in METRICS))
    return "\n".join(lines)


def card(manifest: dict, evaluations: dict, histories: dict) -> str:
    """The segments ensemble's MODEL_CARD.md: what it is, how it was made and trained, and its test
    sets' scores beside the challenge's own scorer's floors."""
    made = manifest["made_by"]
    model, data, train = made["segments"]["model"], made["segments"]["data"], made["train"]
    lines = [
        f"# {manifest['name']}: segments of tracks whose motion changes (the 2nd AnDi challenge, 2024)",
        "",
        "Where a 2D track's motion changes, and each segment's alpha, K (generalised diffusion coefficient) and "
        "state (immobile, confined, free, directed), from per-frame networks "
        f"(`{model['kind']}`, framewise.py) averaged over {len(manifest['members'])} folds; changepoints are the "
        f"peaks of the mean changepoint probability at or above {manifest['segmentation']['threshold']}, at least "
        f"{manifest['segmentation']['gap']} frames apart (tuned on the validation set: changepoint Jaccard index "
        f"{manifest['validation']['jaccard']:.3f} on {manifest['validation']['tracks']} tracks). Made by andiflow's "
        f"workflow with `config/{manifest['name']}.yaml` (its header gives the commands).",
        "",
        f"Training data: {data['tracks']:,} tracks of {data['length']} frames, andi-datasets' phenomenological "
        f"models, recipe `{data['recipe']}`, {data['tracks_per_experiment']} tracks per experiment (of "
        f"{data.get('particles', data['tracks_per_experiment'])} particles in the box where the experiment has "
        "the challenge's defaults); each batch cut "
        f"to a random window of {model['min_length']}-{data['length']} frames. Training: batch "
        f"{train['batch_size']}, Adam, lr {train['learning_rate']} ({train['schedule']}), {train['max_epochs']} "
        f"epochs, {_trained_where(manifest['members'])}.",
        "",
        "| fold | epochs | samples | seconds | best validation frame error |",
        "|---|---|---|---|---|",
    ]
    for fold, h in sorted(histories.items()):
        best = h.loc[h["valid_frame_error"].idxmin()]
        lines.append(
            f"| {fold} | {len(h)} | {int(h['samples'].iloc[-1]):,} | {h['seconds'].sum():.0f} | "
            f"{best['valid_frame_error']:.4f} (epoch {int(best['epoch'])}) |"
        )
    lines += [
        "",
        "Test sets (tracks of 20-200 frames cut from simulated experiments, seeds of their own), scored by "
        "andi-datasets' `utils_challenge.error_SingleTraj_dataset` (changepoint threshold 10 frames), experiments "
        "weighted by their tracks; log10 K MAE over matched segments with K > 0:",
        "",
        "| recipe | tracks | CP RMSE | CP JSC | alpha MAE | K MSLE | state F1 | log10 K MAE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for recipe, scores in evaluations.items():
        a = scores["all"]
        lines.append(
            f"| {recipe} | {scores['tracks']} | {a['cp_rmse']:.3f} | {a['jaccard']:.3f} | {a['alpha_mae']:.3f} | "
            f"{a['k_msle']:.4f} | {a['state_f1']:.3f} | {a['log10_k_mae']:.3f} |"
        )
    lines += ["", "Per diffusion model:", ""]
    for recipe, scores in evaluations.items():
        lines += [f"{recipe}:", "", "```", summary(scores), "```", ""]
    lines.append(
        f"The same networks by AnDi-J's plug-in contract (Fiji): `{ANDIJ}` (raw x, y in; per-frame alpha, "
        "logD = log10 K, cp, diffusive_state out; opset 17)."
    )
    return "\n".join(lines) + "\n"
