"""Trajectories as our users' trackers write them (the answers go out through results.py).

`detect_format` tells the formats apart by content, not by file name:
- "table": delimited text with a header, one row per particle and frame (trackpy and most others):
  the particle, frame and position columns recognised by the names trackers give them (columns.py),
  or as named. Position columns absent from the file are dropped from the end of `positions` (x, y ->
  2D). Rows with no particle, or particle -1, are positions in no track (Imaris' untracked spots leave
  it empty, ilastik writes -1): left out, and counted in `read_as` (strict=True: an error naming the
  first).
- "trackmate-csv": TrackMate's spots CSV export: a header of feature keys (LABEL, ID, TRACK_ID, ...,
  POSITION_X, POSITION_Y, POSITION_Z, POSITION_T, FRAME, ...), then rows of names, short names and units
  (the leading rows whose FRAME is not a number are skipped), then spots in any order. particle =
  TRACK_ID, frame = FRAME; spots in no track (TRACK_ID empty) are dropped. A track that splits or
  merges (two of its spots in one frame; the file has no edges) is read along the branch that continues
  it most smoothly, with a note.
- "trackmate-xml": TrackMate's model file (File > Save). A track is the spots its edges connect, ordered
  by FRAME (a track that splits or merges: its longest path forward in time, with a note); only the
  tracks listed in FilteredTracks are read (all tracks when the file has none).
- "tracks-xml": TrackMate's "Export tracks to XML" (the ISBI 2012 particle-tracking challenge format):
  `<particle>`s numbered 0, 1, 2... in file order, each of `<detection t x y z/>`; frame = t.
- "icy-xml": Icy's track files (its Spot Tracking and Track Manager; TrackMate's "Export to Icy"):
  `<trackgroup>`s of `<track id>`s of `<detection t x y z type/>`, positions in pixels; particle = the
  track's id (numbered 0, 1, 2... in file order where ids are missing or repeat); a detection of type 2
  is one Icy filled in on a line across a gap, not a measured position: left out, the gap closed as
  `gaps` says.
- "task1": the AnDi challenge's task1.txt: particle = line number, dims = the line's dimension.

Every format gives particles sorted by id, each trajectory [axes, T] (float64) sorted by frame, the
units its file states (positions' `space_unit`, `time_unit`, `frame_interval` in time units), and:
- an axis whose positions never move anywhere in the file, or whose column is empty, is not a
  dimension (TrackMate writes POSITION_Z = 0.0 for 2D data);
- `gaps`: particles with frames missing, beyond the file's frame step, and their frames: bridged (their
  points used as consecutive), interpolated or split as `gaps=` says (close_gaps, with a note);
- `notes`: what was done to predict a particle (still on an axis: predicted from the others; a split);
- `precisions`: where a table's columns are named (`precision`), each particle's localisation precision
  in the positions' unit: the median of its spots' (columns.precision_columns);
- `problems`: particles that cannot have an alpha and why (a value missing or not finite, a frame given
  twice, positions that never move): listed with an empty alpha; with strict=True the first is an
  InputFileError naming the file, the line (or XML element), the particle and the column (or attribute).
Text is read as andi_io.text_encoding says; a binary file is one InputFileError.
"""

import functools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from andiflow import columns
from andiflow.andi_io import read_text, task1_line, task1_lines, text_encoding
from andiflow.columns import AXES
from andiflow.delimited import line_of, read_csv
from andiflow.errors import InputFileError

FORMATS = ("table", "trackmate-csv", "trackmate-xml", "tracks-xml", "icy-xml", "task1")  # what read_tracks reads
_HEAD_BYTES = 1 << 16  # what detect_format looks at
_TASK1_LINE = re.compile(r"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*;")
_TRACKMATE_KEYS = {"TRACK_ID", "FRAME", "POSITION_X"}
_TRACKMATE_POSITIONS = ("POSITION_X", "POSITION_Y", "POSITION_Z")
NEVER_MOVE = "positions never move"
GAPS = ("bridge", "interpolate", "split")  # what close_gaps does with missing frames


@dataclass
class Tracks:
    particles: list  # particle ids, sorted
    trajectories: list[np.ndarray]  # [axes, T] each, sorted by frame: the axes the particle moves on
    dims: list = field(default_factory=list)  # the dimension as read (the file's axes, a task1 line's dim)
    gaps: dict = field(default_factory=dict)  # particle id -> its points' frames, where frames are missing
    step: float = 1.0  # the file's frame step (1, 2, or 0.05 s)
    notes: dict = field(default_factory=dict)  # particle id -> what was done to predict it
    problems: dict = field(default_factory=dict)  # particle id -> why it gets no alpha
    read_as: str = ""  # a table's columns, as recognised or given (columns.Columns.describe)
    recognised: bool = False  # some column was recognised by its tracker's name
    space_unit: str | None = None  # the positions' unit, where the file states it
    time_unit: str | None = None
    frame_interval: float | None = None  # time between frames, in time_unit
    first_frames: dict = field(default_factory=dict)  # particle id -> its first frame, as read
    position_columns: list = field(default_factory=list)  # a table's: those read as the axes, x first
    precisions: dict = field(default_factory=dict)  # particle id -> its spots' median precision, where read
    precision_columns: list = field(default_factory=list)  # a table's columns they were read from, or would be

    def frames_of(self, i: int) -> np.ndarray:
        """The frames of the i-th trajectory's points: those kept where frames were missing, else counted
        from its first frame by the file's step (a task1 line's from 0)."""
        pid, length = self.particles[i], self.trajectories[i].shape[-1]
        if pid in self.gaps:
            return np.asarray(self.gaps[pid])
        return self.first_frames.get(pid, 0) + self.step * np.arange(length)

    def close_gaps(self, rule: str) -> "Tracks":
        """Each particle with frames missing closed as `rule` says (close_gaps), with a note."""
        where = {pid: i for i, pid in enumerate(self.particles)}
        for pid, frames in self.gaps.items():
            i = where[pid]
            self.trajectories[i], note, self.gaps[pid] = close_gaps(frames, self.trajectories[i], self.step, rule)
            self.notes[pid] = "; ".join(filter(None, [self.notes.get(pid), note]))
        return self

    def add(self, pid, trajectory: np.ndarray, dim: int, axes=AXES, problem=None) -> None:
        """One particle: a problem, or its trajectory on the axes it moves on (with a note when it
        stays still on some of them); none moving is a problem."""
        self.particles.append(pid)
        self.dims.append(dim)
        moving = np.ptp(trajectory, axis=1) > 0 if trajectory.shape[1] else np.zeros(len(trajectory), bool)
        if problem is None and not moving.any():
            problem = NEVER_MOVE
        elif problem is None and not moving.all():
            self.notes[pid] = (
                f"still on {', '.join(np.array(axes)[~moving])}: predicted from {', '.join(np.array(axes)[moving])}"
            )
            trajectory = trajectory[moving]
        self.trajectories.append(trajectory)
        if problem is not None:
            self.problems[pid] = problem


def short_first(problem: str | None, points: int, min_length: int) -> str | None:
    """A particle's problem, named as too short first where it has fewer than min_length points,
    whatever else is wrong with it (a one-point track never moves, being too short)."""
    if not 0 < points < min_length:
        return problem
    also = f"; also {problem}" if problem and problem != NEVER_MOVE else ""
    return f"too short: fewer than {min_length} points{also}"


def read_tracks(
    path,
    format="auto",
    particle=None,
    frame=None,
    positions=None,
    strict=False,
    gaps="bridge",
    workers=None,
    precision=False,
) -> Tracks:
    """Trajectories of a tracker's file or a task1.txt; `format` is "auto" (detect_format) or one of
    FORMATS. The column names apply to "table" only (None: recognised, columns.py), and so does
    `precision`: the column, or one per axis, of the spots' localisation precision to read (None: none
    read, a tracker's found and named in `precision_columns`; False: none looked for). A particle's
    problem is kept in `problems` (strict: raised, naming its place). Missing frames are closed as
    `gaps` says (close_gaps; bridged by default, as benchmarks/gaps.py measured best). A task1.txt's
    lines, and a large table's rows, are parsed by `workers` (workers.Workers) where given."""
    path = Path(path)
    head = _head(path)  # also refuses an empty or binary file, whatever its format
    chosen = _format_of(path, head) if format == "auto" else format
    if chosen == "table":
        return _read_table(path, particle, frame, positions, strict, gaps, workers, precision)
    if precision:
        raise InputFileError(f"{path}: a {chosen} file, with no column {precision!r} of the localisation precision")
    if chosen == "task1":
        return read_task1(path, strict, workers)
    if chosen in _READERS:
        return _READERS[chosen](path, strict).close_gaps(gaps)
    raise InputFileError(f"{path}: unknown format {format!r} (auto, {', '.join(FORMATS)})")


def read_task1(path, strict=False, workers=None) -> Tracks:
    """A task1.txt as tracks: particle = line number, dims = the line's dimension; a line that is not a
    trajectory is that line's problem (strict: an error naming it). Parsed by `workers`
    (workers.Workers), each its own byte range of whole lines, where given."""
    parsed = _task1_in_parts(path, workers) if workers is not None else None
    if parsed is None:
        numbered = task1_lines(path)
        parsed = zip([n for n, _ in numbered], _task1_trajectories(str(path), [line for _, line in numbered]))
    tracks = Tracks([], [])
    for lineno, (dim, trajectory, problem) in parsed:
        if strict and problem:
            raise InputFileError(f"{path}:{lineno}: {problem}")
        tracks.add(lineno, trajectory, dim, AXES[: len(trajectory)], problem)
    return tracks


def _task1_in_parts(path, workers) -> list | None:
    """(line number, (dim, trajectory, problem)) of each line but the blank ones at the end, the lines
    parsed by the workers in byte ranges; None where one process reads them (a file of one range,
    UTF-16, or a range that does not decode as the file's beginning does)."""
    parts = workers.map_ranges(functools.partial(_task1_part, str(path), text_encoding(path)), path)
    if parts is None:
        return None
    lines = [line for part in parts for line in part]
    while lines and lines[-1][0]:
        lines.pop()
    return [(lineno, parsed) for lineno, (_, parsed) in enumerate(lines, start=1)]


def _task1_part(path: str, encoding: str, data: bytes) -> list | None:
    """(blank, (dim, trajectory, problem)) of each line of a part of a task1.txt (None: it does not
    decode); whether a line is blank, not the line, goes back to the calling process."""
    try:
        lines = data.decode(encoding).splitlines()
    except UnicodeDecodeError:
        return None
    return [(not line.strip(), parsed) for line, parsed in zip(lines, _task1_trajectories(path, lines))]


def _task1_trajectories(path: str, lines: list[str]) -> list[tuple]:
    """(dim, trajectory, problem) of each line of a task1.txt, the problem said without its place."""
    parsed = []
    for line in lines:
        fields = line.split(";")
        try:
            parsed.append((*task1_line(path, 0, fields), None))
        except InputFileError as err:
            parsed.append((_first_dim(fields), np.empty((1, 0)), str(err).split(":0: ", 1)[-1]))
    return parsed


def _first_dim(fields) -> int | None:
    try:
        value = float(fields[0])
    except ValueError:
        return None
    return int(value) if value in (1, 2, 3) else None


def detect_format(path) -> str:
    """ "task1", "table", "trackmate-csv", "trackmate-xml" or "tracks-xml", from the file's beginning."""
    return _format_of(path, _head(path))


def _head(path) -> str:
    """The beginning of a text file, leading blanks stripped; an error when it is empty."""
    head = read_text(path, _HEAD_BYTES).lstrip()
    if not head:
        raise InputFileError(f"{path}: the file is empty")
    return head


def _format_of(path, head: str) -> str:
    if head.startswith("<"):
        return _xml_format(path, head)
    first = head.splitlines()[0]
    if _TASK1_LINE.match(first):
        return "task1"
    if _TRACKMATE_KEYS <= {name.strip().strip('"') for name in re.split(r"[,;\t]", first)}:
        return "trackmate-csv"
    return "table"


def _xml_format(path, head: str) -> str:
    parser = ET.XMLPullParser(events=("start",))
    try:
        parser.feed(head)
        tags = [element.tag for _, element in parser.read_events()]
    except ET.ParseError as err:
        raise InputFileError(f"{path}: not a readable XML file ({err})") from None
    if tags[:1] == ["TrackMate"]:
        return "trackmate-xml"
    if tags[:1] == ["Tracks"] or tags[:2] == ["root", "TrackContestISBI2012"]:
        return "tracks-xml"
    if tags[:1] == ["root"] and ("trackfile" in tags or "trackgroup" in tags):
        return "icy-xml"
    raise InputFileError(
        f"{path}: XML of root <{tags[0] if tags else '?'}>, neither a TrackMate model "
        "(<TrackMate>), TrackMate's exported tracks (<Tracks>) nor Icy's tracks (<root><trackfile>)"
    )


def _read_table(path, particle, frame, positions, strict=False, gaps="bridge", workers=None, precision=False):
    table = read_csv(path, workers, columns.candidates(particle, frame, positions, precision))
    where = line_of(table)
    return from_table(table, particle, frame, positions, path, where, strict, gaps, precision)


def from_table(
    table: pd.DataFrame,
    particle=None,
    frame=None,
    positions=None,
    source="the table",
    where=None,
    strict=False,
    gaps="bridge",
    precision=False,
) -> Tracks:
    """Tracks of a table of one row per particle and frame (a file's, or a DataFrame in memory), its
    columns as named or else recognised (columns.choose); position columns absent from it are dropped
    from the end of `positions`; missing frames closed as `gaps` says; the spots' precision read as
    `precision` says (read_tracks). where(i): the place of row i in errors (default: the row's index
    label)."""
    chosen = columns.choose(table, particle, frame, positions, source)
    if precision:
        chosen.precision = columns.named_precision(table, precision, source)
    where = where or (lambda i: f" row {table.index[i]!r}")
    named = _rows_of_names(table, [chosen.frame, *chosen.positions])
    if named:
        table, under = table.iloc[named:], where
        where = lambda i: under(i + named)  # noqa: E731
    untracked = in_no_track(table[chosen.particle])
    if strict:
        _fail_at(source, untracked, where, lambda i: f"column {chosen.particle!r} is empty or -1: in no track")
    if untracked.any():
        kept, table, located = np.flatnonzero(~untracked), table[~untracked], where
        where = lambda i: located(kept[i])  # noqa: E731
    rows = table if table.index.equals(pd.RangeIndex(len(table))) else table.reset_index(drop=True)  # no copy
    found = _assemble(source, rows, where, chosen.particle, chosen.frame, chosen.positions, strict=strict)
    # the unit of the axes read: MTrackJ's still z [slice] of 2D data is dropped, its x and y are in px
    chosen.unit = columns.position_unit(found.position_columns) or chosen.unit
    if chosen.precision:
        scale = columns.precision_scale(chosen.precision, chosen.unit, source)
        found.precisions = track_precisions(rows, chosen.particle, chosen.precision, found.particles, scale)
    found.precision_columns = chosen.precision or (
        columns.precision_columns(table, chosen) if precision is None else []
    )
    found.read_as, found.recognised = chosen.describe(), chosen.recognised
    if named:
        found.read_as += f"; {named} row{'s' * (named > 1)} of names or units under the header left out"
    if untracked.any():
        n = int(untracked.sum())
        found.read_as += f"; {n} row{'s' * (n > 1)} in no track ({chosen.particle!r} empty or -1) left out"
    found.space_unit = chosen.unit
    found.time_unit = columns.unit_of(columns.plain(chosen.frame)[1])
    return found.close_gaps(gaps)


def _rows_of_names(table: pd.DataFrame, numeric: list, most: int = 5) -> int:
    """How many rows under the header hold text but no number in the `numeric` columns: names, short
    names and units repeated under it (TrackMate's spots table read as a plain table)."""
    head = table[numeric].iloc[:most]
    names = (head.apply(pd.to_numeric, errors="coerce").isna().all(axis=1) & head.notna().any(axis=1)).to_numpy()
    return len(names) if names.all() else int(names.argmin())


def track_precisions(table: pd.DataFrame, particle, precision: list, particles: list, scale: float) -> dict:
    """Each particle's localisation precision: the median over its spots of their precision (the root
    mean square over the columns of one per axis), times `scale`; particles whose spots give none (not
    a positive number) are left out."""
    values = np.array([pd.to_numeric(table[c], errors="coerce").to_numpy(float) for c in precision])
    given = (np.isfinite(values) & (values > 0)).all(0)
    spots = np.sqrt(np.mean(values**2, 0))
    medians = pd.Series(spots[given] * scale).groupby(particle_ids(table[particle])[given]).median()
    return {pid: float(medians[pid]) for pid in particles if pid in medians.index}


def particle_ids(column: pd.Series) -> np.ndarray:
    """A particle column's ids: numbers where all are (whole numbers as integers: flika's track_number
    1.0 is particle 1), else as written."""
    numeric = pd.to_numeric(column, errors="coerce").to_numpy()
    if pd.isna(numeric).any():
        return column.to_numpy()
    if numeric.dtype.kind == "f" and np.isfinite(numeric).all() and (numeric == np.round(numeric)).all():
        return numeric.astype(np.int64)
    return numeric


def in_no_track(particles: pd.Series) -> np.ndarray:
    """Rows whose particle is empty (Imaris) or -1 (ilastik): positions no track holds."""
    return (particles.isna() | (pd.to_numeric(particles, errors="coerce") == -1)).to_numpy()


def _read_trackmate_csv(path, strict=False) -> Tracks:
    table = read_csv(path, dtype=str)
    missing = sorted(_TRACKMATE_KEYS - set(table.columns))
    if missing:
        raise InputFileError(f"{path}: no column {missing[0]!r} in a TrackMate spots table")
    numeric = pd.to_numeric(table["FRAME"], errors="coerce").notna().to_numpy()
    first = int(numeric.argmax()) if numeric.any() else len(table)
    named = table.iloc[:first]  # names, short names, units
    table = table.iloc[first:]
    table = table[pd.to_numeric(table["TRACK_ID"], errors="coerce").notna()]  # spots in no track
    positions = [c for c in _TRACKMATE_POSITIONS if c in table.columns]
    table, notes = _continuing_branches(table, positions)
    tracks = _assemble(path, table, line_of(table), "TRACK_ID", "FRAME", positions, strict=strict)
    _add_notes(tracks, notes)
    units = {c: next((columns.unit_of(v) for v in named[c] if str(v).startswith("(")), None) for c in named}
    tracks.space_unit, tracks.time_unit = units.get("POSITION_X"), units.get("POSITION_T")
    if "POSITION_T" in table.columns:
        tracks.frame_interval = _frame_interval(table, "TRACK_ID", "FRAME", "POSITION_T")
    return tracks


def _continuing_branches(table: pd.DataFrame, positions) -> tuple[pd.DataFrame, dict]:
    """The spots of each track along one branch where it splits or merges (two of its spots in one
    frame): through each of its frames, the path of the smallest sum of squared steps, i.e. the branch
    that continues the track; and a note for each such track."""
    numbers = table[["TRACK_ID", "FRAME", *positions]].apply(pd.to_numeric, errors="coerce")
    doubled = numbers.duplicated(["TRACK_ID", "FRAME"], keep=False) & numbers.notna().all(axis=1)
    dropped, notes = [], {}
    for track, spots in numbers[numbers["TRACK_ID"].isin(numbers.loc[doubled, "TRACK_ID"])].groupby("TRACK_ID"):
        spots = spots.dropna().sort_values("FRAME", kind="stable")
        kept = _smoothest_path(spots["FRAME"].to_numpy(), spots[positions].to_numpy(np.float64))
        dropped += [label for i, label in enumerate(spots.index) if i not in kept]
        notes[_plain(track)] = f"splits or merges: the branch that continues it, {len(kept)} of {len(spots)} spots"
    return table.drop(index=dropped), notes


def _smoothest_path(frames: np.ndarray, xyz: np.ndarray) -> set:
    """Indices of one spot per frame (frames sorted) whose path has the least sum of squared steps."""
    starts = np.r_[0, np.flatnonzero(np.diff(frames)) + 1, len(frames)]
    layers = [np.arange(a, b) for a, b in zip(starts[:-1], starts[1:])]
    cost, back = np.zeros(len(layers[0])), []
    for before, now in zip(layers[:-1], layers[1:]):
        steps = ((xyz[now][:, None, :] - xyz[before][None, :, :]) ** 2).sum(axis=2) + cost[None, :]
        back.append(before[steps.argmin(axis=1)])
        cost = steps.min(axis=1)
    spot = layers[-1][int(cost.argmin())]
    path = [spot]
    for layer, links in zip(layers[:0:-1], back[::-1]):
        spot = links[int(np.flatnonzero(layer == spot)[0])]
        path.append(spot)
    return set(int(i) for i in path)


def _frame_interval(table: pd.DataFrame, particle, frame, time) -> float | None:
    """The time between frames: the median of time steps over frame steps within tracks."""
    numbers = table[[particle, frame, time]].apply(pd.to_numeric, errors="coerce").dropna()
    numbers = numbers.sort_values([particle, frame], kind="stable")
    same = (numbers[particle].diff() == 0) & (numbers[frame].diff() > 0)
    ratios = (numbers[time].diff() / numbers[frame].diff())[same]
    return float(ratios.median()) if len(ratios) and ratios.median() > 0 else None


def _add_notes(tracks: Tracks, notes: dict) -> None:
    """A reader's notes of particles (keyed as the file writes their ids) before the particles' own."""
    for pid in tracks.particles:
        if str(pid) in map(str, notes) and pid not in tracks.problems:
            note = next(v for k, v in notes.items() if str(k) == str(pid))
            tracks.notes[pid] = "; ".join(filter(None, [note, tracks.notes.get(pid)]))


def _read_trackmate_xml(path, strict=False) -> Tracks:
    root = _xml_root(path)
    model = root.find("Model")
    if model is None:
        raise InputFileError(f"{path}: a <TrackMate> file without <Model>")
    spots = {spot.get("ID"): spot for spot in model.iter("Spot")}
    rows, labels, notes = [], [], {}
    for track in _kept_tracks(path, model):
        track_id = track.get("TRACK_ID")
        edges = [(edge.get("SPOT_SOURCE_ID"), edge.get("SPOT_TARGET_ID")) for edge in track.iter("Edge")]
        for spot_id in {end for edge in edges for end in edge}:
            if spot_id not in spots:
                raise InputFileError(
                    f"{path}: <Track TRACK_ID={track_id}> joins spot {spot_id}, which <AllSpots> lacks"
                )
        path_ids = _longest_path(edges, lambda spot_id: _number(spots[spot_id].get("FRAME")))
        every = {end for edge in edges for end in edge}
        if len(path_ids) < len(every):
            notes[track_id] = f"splits or merges: its longest path, {len(path_ids)} of {len(every)} spots"
        for spot_id in path_ids:
            rows.append(dict(spots[spot_id].attrib, TRACK_ID=track_id))
            labels.append(f"<Spot ID={spot_id}>")
    tracks = _from_xml(path, rows, labels, "TRACK_ID", "FRAME", _TRACKMATE_POSITIONS, strict)
    _add_notes(tracks, notes)
    tracks.space_unit = columns.unit_of(model.get("spatialunits"))
    tracks.time_unit = columns.unit_of(model.get("timeunits"))
    image = root.find("Settings/ImageData")
    interval = _number(image.get("frameinterval")) if image is not None else float("nan")
    if np.isfinite(interval) and interval > 0:
        tracks.frame_interval = interval
    elif rows and "POSITION_T" in rows[0]:
        tracks.frame_interval = _frame_interval(pd.DataFrame(rows), "TRACK_ID", "FRAME", "POSITION_T")
    return tracks


def _longest_path(edges, frame) -> list:
    """The spots of the longest chain of edges forward in time (a track with no split or merge: all of
    them), ties to the earliest; in frame order."""
    spots = sorted({end for edge in edges for end in edge}, key=lambda s: (frame(s), str(s)))
    before = {s: [] for s in spots}
    for a, b in edges:
        first, last = sorted((a, b), key=frame)
        if frame(first) < frame(last):
            before[last].append(first)
    length, previous = {}, {}
    for s in spots:
        best = max(before[s], key=lambda p: length[p], default=None)
        length[s], previous[s] = (length[best] + 1, best) if best is not None else (1, None)
    end = max(spots, key=lambda s: length[s], default=None)
    chain = []
    while end is not None:
        chain.append(end)
        end = previous[end]
    return chain[::-1]


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _kept_tracks(path, model) -> list:
    """The <Track>s of AllTracks that FilteredTracks lists (all of them without FilteredTracks)."""
    tracks = {track.get("TRACK_ID"): track for track in model.iterfind("AllTracks/Track")}
    filtered = model.find("FilteredTracks")
    if filtered is None:
        return list(tracks.values())
    kept = [element.get("TRACK_ID") for element in filtered.iter("TrackID")]
    unknown = [track_id for track_id in kept if track_id not in tracks]
    if unknown:
        raise InputFileError(f"{path}: <FilteredTracks> lists track {unknown[0]}, which <AllTracks> lacks")
    return [tracks[track_id] for track_id in kept]


def _read_tracks_xml(path, strict=False) -> Tracks:
    rows, labels, root = [], [], _xml_root(path)
    for number, particle in enumerate(root.iter("particle")):
        for i, detection in enumerate(particle.iter("detection"), start=1):
            rows.append(dict(detection.attrib, particle=number))
            labels.append(f"<particle> {number + 1}, <detection> {i}")
    tracks = _from_xml(path, rows, labels, "particle", "t", ("x", "y", "z"), strict)
    header = root.find("TrackContestISBI2012") if root.tag == "root" else None
    header = root if header is None else header
    tracks.space_unit = columns.unit_of(header.get("spaceUnits"))
    tracks.time_unit = columns.unit_of(header.get("timeUnits"))
    interval = _number(header.get("frameInterval"))
    tracks.frame_interval = interval if np.isfinite(interval) and interval > 0 else None
    return tracks


ICY_VIRTUAL = "2"  # Icy's DETECTIONTYPE_VIRTUAL_DETECTION: a position it filled in across a gap


def _read_icy_xml(path, strict=False) -> Tracks:
    tracks = list(_xml_root(path).iter("track"))
    ids = [track.get("id") for track in tracks]
    numbered = None in ids or len(set(ids)) < len(ids)
    rows, labels, filled = [], [], {}
    for number, (track, pid) in enumerate(zip(tracks, ids)):
        particle = number if numbered else pid
        for i, detection in enumerate(track.iter("detection"), start=1):
            if detection.get("type") == ICY_VIRTUAL:
                filled[particle] = filled.get(particle, 0) + 1
            else:
                rows.append(dict(detection.attrib, particle=particle))
                labels.append(f"<track> {number + 1}, <detection> {i}")
    found = _from_xml(path, rows, labels, "particle", "t", ("x", "y", "z"), strict)
    found.space_unit = "px"
    _add_notes(found, {p: f"{n} position{'s' * (n > 1)} Icy filled in left out" for p, n in filled.items()})
    return found


_READERS = {
    "trackmate-csv": _read_trackmate_csv,
    "trackmate-xml": _read_trackmate_xml,
    "tracks-xml": _read_tracks_xml,
    "icy-xml": _read_icy_xml,
}


def _xml_root(path) -> ET.Element:
    try:
        return ET.parse(path).getroot()  # bytes: expat honours the byte-order mark and declared encoding
    except ET.ParseError as err:
        raise InputFileError(f"{path}: not a readable XML file ({err})") from None


def _from_xml(path, rows: list[dict], labels: list[str], particle, frame, positions, strict=False) -> Tracks:
    """_assemble of XML elements' attributes; an axis no element has is not a dimension."""
    columns = [particle, frame, *(c for c in positions if any(c in row for row in rows))]
    table = pd.DataFrame([[row.get(c) for c in columns] for row in rows], columns=columns, dtype=object)
    return _assemble(path, table, lambda i: f": {labels[i]}", particle, frame, columns[2:], "attribute", strict)


def _assemble(path, table: pd.DataFrame, where, particle, frame, positions, field="column", strict=False) -> Tracks:
    """Tracks of one row per particle and frame, values as read: axes that never move anywhere dropped,
    particles (numbers when they all are) and frames sorted. A value that is not a finite number or a
    frame given twice is a problem of that particle (strict: an error at the first, naming its place).
    where(i): the place of row i."""
    if table.empty:
        raise InputFileError(f"{path}: no tracked positions in the file")
    ids = table[particle].to_numpy()
    _fail_at(path, pd.isna(ids), where, lambda i: f"{field} {particle!r} is missing")
    empty = [c for c in positions if _empty(table[c])]
    positions = [c for c in positions if c not in empty]  # an empty column (z of 2D data) is no axis
    if not positions:
        raise InputFileError(f"{path}: every position column is empty ({', '.join(empty)})")
    columns = [frame, *positions]
    number = {c: pd.to_numeric(table[c], errors="coerce").to_numpy(np.float64) for c in columns}  # float: no copy
    pids = particle_ids(table[particle])
    bad = np.zeros(len(pids), bool)
    for c in columns:
        bad |= ~np.isfinite(number[c])
    rows = _by_particle_and_frame(pids, number[frame], bad)
    ids, frames = (pids, number[frame]) if rows is None else (pids[rows], number[frame][rows])
    twice = _given_twice(ids, frames, np.arange(len(pids)) if rows is None else rows, len(pids))
    problems = {}
    for i in np.flatnonzero(bad | twice):
        pid = _plain(pids[i])
        if bad[i]:
            column = next(c for c in columns if not np.isfinite(number[c][i]))
            problem = f"{field} {column!r} is {_shown(table[column].iloc[i])}, not a finite number"
        else:
            problem = f"frame {number[frame][i]:g} given twice"
        if strict:
            raise InputFileError(f"{path}{where(i)}: particle {pid!r}: {problem}")
        problems.setdefault(pid, f"{problem} ({str(where(i)).lstrip(': ')})")
    position = {c: number[c] if rows is None else number[c][rows] for c in positions}
    axes = [c for c in positions if len(ids) and position[c].max() > position[c].min()]
    if not axes:
        raise InputFileError(f"{path}: positions never move on any axis ({', '.join(positions)})")
    names = [AXES[positions.index(c)] if len(positions) <= 3 else c for c in axes]
    values = np.stack([position[c] for c in axes])
    same = ids[1:] == ids[:-1]
    starts = np.r_[0, np.flatnonzero(~same) + 1] if len(ids) else np.array([], int)
    rows_of = {_plain(ids[a]): (a, b) for a, b in zip(starts, np.r_[starts[1:], len(ids)])}
    advance = np.diff(frames)
    step = float(np.median(advance[same])) if same.any() else 1.0  # 1, 2, or 0.05 s
    gapped = {_plain(ids[i]) for i in np.flatnonzero(same & (advance > 1.5 * step))}
    tracks = Tracks([], [])
    for pid in sorted(set(rows_of) | set(problems), key=_sort_key):
        a, b = rows_of.get(pid, (0, 0))
        tracks.add(pid, values[:, a:b], len(axes), names, problems.get(pid))
        if b > a:
            tracks.first_frames[pid] = _plain(frames[a])
        if pid in gapped and pid not in problems:
            tracks.gaps[pid] = frames[a:b]
    tracks.step, tracks.position_columns = step, axes
    return tracks


def close_gaps(
    frames: np.ndarray, trajectory: np.ndarray, step: float, rule: str
) -> tuple[np.ndarray, str, np.ndarray]:
    """A trajectory [axes, T] whose frames (sorted, `step` apart where none is missing) miss some,
    as `rule` (GAPS) says, a note of what was done, and the frames of its points: "bridge" uses its
    points as consecutive, "interpolate" fills each missing frame on the straight line between its
    neighbours, "split" keeps the longest run of consecutive frames."""
    k = np.rint((frames - frames[0]) / step).astype(int)
    missing = int(k[-1]) + 1 - len(k)
    frames_missing = f"{missing} frame{'s' * (missing != 1)} missing"
    if rule == "bridge":
        return trajectory, f"gaps bridged ({frames_missing})", frames
    if rule == "interpolate":
        every = np.arange(k[-1] + 1)
        filled = np.stack([np.interp(every, k, axis) for axis in trajectory])
        return filled, f"gaps interpolated ({frames_missing})", frames[0] + step * every
    if rule == "split":
        runs = np.split(np.arange(len(k)), np.flatnonzero(np.diff(k) > 1) + 1)
        longest = max(runs, key=len)
        note = f"split at gaps: its longest run, {len(longest)} of {len(k)} points"
        return trajectory[:, longest], note, frames[longest]
    raise ValueError(f"unknown gap rule {rule!r} (one of {', '.join(GAPS)})")


def _given_twice(ids: np.ndarray, frames: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Whether each of a table's n rows gives its particle's frame twice, from the ids and frames of
    its rows `rows` sorted by particle and frame, where such rows are side by side."""
    again = (ids[1:] == ids[:-1]) & (frames[1:] == frames[:-1])
    twice = np.zeros(n, bool)
    twice[rows[np.r_[again, False] | np.r_[False, again]]] = True
    return twice


def _by_particle_and_frame(ids: np.ndarray, frames: np.ndarray, bad: np.ndarray) -> np.ndarray | None:
    """The rows not `bad`, sorted by particle, then frame (stable); None where that is every row as
    it stands (rows sorted as most trackers write them, numbered particles)."""
    if not bad.any() and ids.dtype.kind in "iuf":
        step, next_frame = np.diff(ids), np.diff(frames)
        if np.all((step > 0) | ((step == 0) & (next_frame > 0))):
            return None
    rows = np.flatnonzero(~bad)
    if ids.dtype.kind not in "iuf":  # names: pandas orders what numpy cannot compare
        order = pd.DataFrame({"p": ids[rows], "f": frames[rows]}).sort_values(["p", "f"], kind="stable").index
        return rows[order.to_numpy()]
    if np.any(np.diff(frames[rows]) < 0):  # rows by frame (trackpy's) need only the sort by particle
        rows = rows[np.argsort(frames[rows], kind="stable")]
    return rows[np.argsort(ids[rows], kind="stable")]


def _empty(column: pd.Series) -> bool:
    """No value in the column: all missing, or (text) blank."""
    if column.notna().any() and pd.api.types.is_numeric_dtype(column):
        return False
    return bool((column.isna() | (column.astype(str).str.strip() == "")).all())


def _sort_key(pid):
    return (0, pid, "") if isinstance(pid, (int, float)) else (1, 0, str(pid))


def _fail_at(path, bad: np.ndarray, where, message) -> None:
    """An InputFileError at the first bad row: `path{where(row)}: {message(row)}`."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputFileError(f"{path}{where(row)}: {message(row)}")


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _shown(value) -> str:
    return "missing" if value is None else repr(_plain(value))
