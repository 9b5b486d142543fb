"""The segments task's ensemble, numpy and ONNX Runtime only: its members' per-frame outputs averaged,
cut into segments (segment.py), with intervals and K in the units of the user's file.

    ens = SegmentsEnsemble.load("segments-gpu/results/segments/ensemble")
    ens.frames([xy])            # [T, 7] per track: P(changepoint), alpha, log10 K, P(state)
    ens.table(tracks)           # one row per segment (andiflow.predict(..., task="segments"))
    ens.frame_table(tracks)     # one row per frame (per_frame=True)

Its folder holds the members' ONNX files and a manifest.json ("task": "segments") naming them with
their checksums, the segmentation's settings (threshold, gap) and the interval table.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow import segment
from andiflow.errors import ModelFileError
from andiflow.manifest import sha256
from andiflow.members import OnnxMember
from andiflow.tracks import short_first

MICRONS = {"µm": 1.0, "nm": 1e-3}  # a position unit in µm
SECONDS = {"s": 1.0, "ms": 1e-3}
STATE_MIXES = ("file", "training")  # the mixes of states a file's segments' states can be read by
COLUMNS = (
    "particle", "segment", "first_frame", "last_frame", "points", "alpha", "alpha_low", "alpha_high",
    "K", "K_low", "K_high", "K_unit", "state", "note",
)  # fmt: skip


def is_segments(folder) -> bool:
    manifest = Path(folder) / "manifest.json"
    return manifest.is_file() and json.loads(manifest.read_text()).get("task") == "segments"


class SegmentsEnsemble:
    def __init__(self, members: list, manifest: dict):
        self.members, self.manifest = members, manifest
        self.min_length = int(manifest["min_length"])
        self.intervals = segment.Intervals(manifest["intervals"]) if manifest.get("intervals") else None

    @classmethod
    def load(cls, folder, batch_values: int = 1 << 18) -> "SegmentsEnsemble":
        folder = Path(folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        members = []
        for entry in manifest["members"]:
            file = folder / entry["onnx"]
            if not file.is_file():
                raise ModelFileError(f"{file}: named by {folder / 'manifest.json'} but missing")
            if sha256(file) != entry["onnx_sha256"]:
                raise ModelFileError(f"{file}: checksum differs from {folder / 'manifest.json'}; rebuild the ensemble")
            members.append(OnnxMember(file, batch_values))
        return cls(members, manifest)

    def describe(self) -> str:
        return f"{self.manifest.get('name', 'segments ensemble')} ({len(self.members)} members)"

    def frames(self, trajectories: list[np.ndarray]) -> list[np.ndarray]:
        """Each track's per-frame outputs [T, 7], the mean over members, from positions [2, T]; tracks of
        one length run as one batch."""
        out: list = [None] * len(trajectories)
        by_length: dict = {}
        for i, t in enumerate(trajectories):
            by_length.setdefault(t.shape[-1], []).append(i)
        for rows in by_length.values():
            x = np.stack([trajectories[i] for i in rows]).astype(np.float32)
            mean = np.mean([member(x) for member in self.members], axis=0)
            for i, frames in zip(rows, mean):
                out[i] = frames
        return out

    def segments(self, frames: np.ndarray, weights=None) -> list[segment.Segment]:
        settings = self.manifest["segmentation"]
        return segment.segments_of(frames, settings["threshold"], settings["gap"], weights)

    def state_weights(self, frames: list, state_mix="training") -> np.ndarray | None:
        """Per state, the mix of states of these tracks' segments over the training one (segment.file_mix),
        by which their states are read; None where they are read by the training mix (`state_mix`
        "training")."""
        if state_mix not in STATE_MIXES:
            raise ValueError(f"state_mix {state_mix!r}: one of {', '.join(STATE_MIXES)}")
        settings = self.manifest["segmentation"]
        if state_mix == "training" or not frames:
            return None
        if "state_mix" not in settings:
            raise ModelFileError(f"{self.describe()}: records no training mix of states (rebuild it to read a file's)")
        training = np.array(settings["state_mix"])
        p = segment.state_probabilities(frames, settings["threshold"], settings["gap"])
        return segment.file_mix(p, training) / training

    def segmented(self, found, state_mix="training") -> tuple[dict, dict]:
        """({index of a track in `found` (tracks.Tracks): its segments}, {particle: why it has none}),
        states read by the tracks' own mix of states or the training one (`state_mix`, state_weights)."""
        usable, problems = [], {}
        for i, pid in enumerate(found.particles):
            problem = self._cannot(found, i)
            if problem:
                problems[pid] = problem
            else:
                usable.append(i)
        frames = self.frames([xy(found.trajectories[i]) for i in usable])
        weights = self.state_weights(frames, state_mix)
        return {i: self.segments(out, weights) for i, out in zip(usable, frames)}, problems

    def table(
        self, found, pixel_size=None, frame_interval=None, interval: float | None = 0.9, state_mix="training"
    ) -> pd.DataFrame:
        """One row per segment of each particle of `found` (tracks.Tracks): COLUMNS. A particle that
        cannot be segmented gets one row with its reason in `note`. K is in µm²/s^alpha where the
        positions' unit (or `pixel_size`, µm per position unit) and the frame interval (`frame_interval`
        in s, or the file's) are known, otherwise in the units it has, as K_unit says. States are read
        by the tracks' own mix of states, or the training one (`state_mix`, state_weights)."""
        length_um, seconds, unit = k_units(found, pixel_size, frame_interval)
        segmented, problems = self.segmented(found, state_mix)
        rows = []
        for i, pid in enumerate(found.particles):
            if pid in problems:
                rows.append({"particle": pid, "note": problems[pid]})
                continue
            times, note = found.frames_of(i), found.notes.get(pid, "")
            if found.dims[i] == 3:
                note = "; ".join(filter(None, [note, "3D: segmented in its first two moving axes (x, y)"]))
            for k, s in enumerate(segmented[i]):
                rows.append(self._row(pid, k, s, times, length_um, seconds, unit, interval, note))
        return pd.DataFrame(rows, columns=list(COLUMNS))

    def frame_table(self, found) -> pd.DataFrame:
        """The per-frame outputs of every particle that can be segmented: particle, frame,
        p_changepoint, alpha, log10_K (in the positions' unit² per frame^alpha), p_immobile, p_confined,
        p_free, p_directed."""
        usable = [i for i, pid in enumerate(found.particles) if not self._cannot(found, i)]
        frames = self.frames([xy(found.trajectories[i]) for i in usable])
        names = ["p_changepoint", "alpha", "log10_K", *(f"p_{s}" for s in segment.STATES)]
        parts = [
            pd.DataFrame({"particle": found.particles[i], "frame": found.frames_of(i)} | dict(zip(names, out.T)))
            for i, out in zip(usable, frames)
        ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["particle", "frame", *names])

    def _cannot(self, found, i: int) -> str | None:
        if found.dims[i] == 1:
            return "1D: segments need x and y"
        return short_first(found.problems.get(found.particles[i]), found.trajectories[i].shape[-1], self.min_length)

    def challenge_lines(self, found, state_mix="training") -> tuple[list[str], dict]:
        """The 2024 challenge's lines of the tracks of `found` (K in the file's units per frame^alpha:
        px²/frame^alpha for the challenge's files), changepoints counted from each track's first
        point, and the particles left out with why; states as `state_mix` says (state_weights)."""
        segmented, problems = self.segmented(found, state_mix)
        lines = [
            segment.challenge_line(found.particles[i], parts, found.trajectories[i].shape[-1])
            for i, parts in segmented.items()
        ]
        return lines, problems

    def _row(self, pid, k, s: segment.Segment, times, length_um, seconds, unit, interval, note) -> dict:
        row = dict(particle=pid, segment=k, first_frame=times[s.first], last_frame=times[s.last], points=s.points)
        row |= dict(alpha=s.alpha, K=10**s.log10_k, K_unit=unit, state=segment.STATES[s.state], note=note)
        if interval is not None and self.intervals is not None:
            wa, wk = (self.intervals.half_width(name, s.points) for name in ("alpha", "log10_k"))
            low, high = segment.ALPHA_RANGE
            row |= dict(alpha_low=max(s.alpha - wa, low), alpha_high=min(s.alpha + wa, high))
            row |= dict(K_low=10 ** (s.log10_k - wk), K_high=10 ** (s.log10_k + wk))
        factor = (length_um or 1.0) ** 2 / (seconds or 1.0) ** s.alpha
        for key in ("K", "K_low", "K_high"):
            if key in row:
                row[key] *= factor
        return row


def xy(trajectory: np.ndarray) -> np.ndarray:
    """x and y of a trajectory [axes, T] (an axis it never moves on was dropped when read: zeros)."""
    if len(trajectory) >= 2:
        return trajectory[:2]
    return np.vstack([trajectory, np.zeros_like(trajectory)])


def k_units(found, pixel_size=None, frame_interval=None) -> tuple[float | None, float | None, str]:
    """(µm per position unit or None, seconds per frame or None, K's unit in words)."""
    space = found.space_unit
    length_um = pixel_size if pixel_size else MICRONS.get(space)
    seconds = frame_interval
    if seconds is None and found.time_unit in SECONDS:
        interval = found.frame_interval if found.frame_interval else found.step  # frames in time units
        seconds = interval * SECONDS[found.time_unit]
    length = "µm" if length_um else (space or "px")
    time = "s" if seconds else "frame"
    return length_um, seconds, f"{length}²/{time}^alpha"
