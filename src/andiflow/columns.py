"""Which columns of a table of tracks are the particle, the frame and the positions, recognised by the
names trackers write (trackpy `particle`, TrackMate `TRACK_ID`, MosaicSuite `Trajectory`, quot/saSPT
`trajectory`, swift `track.id` and `"x [nm]"`, flika `track_number`, napari-gemspa `track_id`, Fiji's
Manual Tracking `Track n°` and `Slice n°`, Imaris `TrackID`, `Time` and `Position X`, MTrackJ `TID`,
ilastik `trackId` and `Object_Center_0`, CellProfiler `TrackObjects_Label_50`, `ImageNumber` and
`Location_Center_X`, btrack `ID` and `t`, the 2nd AnDi challenge `traj_idx`, ...), whatever their
case, separators and units in brackets. A name the user gives is taken as it is. Units written in the
positions' headers ("x [nm]", "y (µm)"), or in a column of units (Imaris' `Unit`), are kept. Where
asked (the population reads it), also the spots' localisation precision: trackpy's `ep`,
ThunderSTORM's `uncertainty [nm]`, or one column per axis (trackpy's `ep_x`, Picasso's `lpx`)."""

import functools
import re
from dataclasses import dataclass, field

import pandas as pd

from andiflow.errors import InputFileError

AXES = ("x", "y", "z")

# plain names (see plain()) by how plausible they are, most plausible first; within a rank two
# different columns are a tie, which is an error naming both
PARTICLE = (
    {"particle", "trackid", "trajectory", "trajidx", "tracknumber", "trajid", "trajectoryid", "particleid", "trackn°"},
    {"track", "traj", "trackidx", "trackindex", "trajectoryidx", "trajectoryindex", "trackno", "tid"},
    {"trackobjectslabel"},  # CellProfiler's, its suffix dropped (plain)
    {"id"},  # btrack's; elsewhere often a spot's, so only where no other name is there
)
FRAME = (
    {"frame", "frameid", "frameidx", "framenumber", "frameno", "frameindex", "slice", "slicen°", "timepoint"},
    {"t", "time", "timestep", "imagenumber"},
)
POSITION = {
    a: (
        {a},
        {f"position{a}", f"pos{a}", f"{a}pos", f"{a}position", f"{a}coord", f"centroid{a}", f"{a}centroid"}
        | {f"location{a}", f"locationcenter{a}", f"objectcenter{i}"},  # CellProfiler, ilastik (axis i)
        {f"centeroftheobject{i}"},  # ilastik's other centre, beside its Object_Center
    )
    for i, a in enumerate(AXES)
}
# sigma per axis of each spot; ThunderSTORM's 3D `uncertainty_xy` is the lateral one. Not `sigma`: the PSF's width
PRECISION = ({"ep", "uncertainty", "uncertaintyxy", "localizationprecision", "localisationprecision", "precision"},)
PRECISION_AXIS = {a: ({f"ep{a}", f"lp{a}", f"uncertainty{a}", f"precision{a}"},) for a in AXES}
UNIT = "unit"  # a column of the positions' unit (Imaris writes `Unit`, `um` on every row)
_KNOWN = set().union(*PARTICLE, *FRAME, *(name for ranks in POSITION.values() for name in ranks), {UNIT})
_PRECISIONS = set().union(*PRECISION, *(name for ranks in PRECISION_AXIS.values() for name in ranks))
UNITS = {"nm": "nm", "um": "µm", "µm": "µm", "μm": "µm", "micron": "µm", "microns": "µm", "px": "px", "pixel": "px"}
UNITS |= {"pixels": "px", "s": "s", "sec": "s", "ms": "ms", "frame": "frame", "frames": "frame"}

_UNIT = re.compile(r"^(?P<name>.*?)\s*[\[(]\s*(?P<unit>[^\])]*?)\s*[\])]\s*$")
_DUPLICATE = re.compile(r"^(?P<name>.+)\.(?P<copy>\d+)$")  # pandas names a repeated header "x.1"
_CELLPROFILER = re.compile(r"^(trackobjectslabel)\d+$")  # TrackObjects_Label_50: 50 its largest distance


@dataclass
class Columns:
    particle: str
    frame: str
    positions: list  # 1 to 3 columns, x first
    unit: str | None = None  # the positions' unit, when their headers say it
    recognised: bool = False  # some column was found by its tracker's name, not given or named as trackpy does
    precision: list = field(default_factory=list)  # the spots' localisation precision: one column, or one per axis

    def describe(self) -> str:
        written = sorted(filter(None, position_units(self.positions)))
        unit = f" ({self.unit})" if self.unit else f" (in {', '.join(written)}: no one unit)" * (len(written) > 1)
        positions = ", ".join(repr(c) for c in self.positions)
        precision = f", localisation precision {', '.join(repr(c) for c in self.precision)}" * bool(self.precision)
        return f"particle {self.particle!r}, frame {self.frame!r}, positions {positions}{unit}{precision}"


def plain(header: str) -> tuple[str, str | None]:
    """A header's name in lower case without separators, and its unit in brackets: "x [nm]" -> ("x",
    "nm"), "track.id" -> ("trackid", None)."""
    text = str(header).strip().strip("\"'")
    found = _UNIT.match(text)
    name, unit = (found["name"], found["unit"]) if found else (text, None)
    return _CELLPROFILER.sub(r"\1", re.sub(r"[\s._\-]", "", name.lower())), unit


def unit_of(text: str | None) -> str | None:
    """A unit as written ("micron", "um", "[nm]") in its usual spelling; unknown ones as written."""
    if text is None:
        return None
    unit = text.strip().strip("()[]").strip()
    return UNITS.get(unit.lower(), unit) or None


def candidates(particle=None, frame=None, positions=None, precision=False):
    """Whether a header (as pandas names it, a repeat "x.1") could hold a role: named (`precision`: a
    column or several), or a name of a role's ranks (and of the precision's, unless precision=False); a
    table is read in these columns alone, a tracker's other columns left unparsed."""
    precision = [precision] if isinstance(precision, str) else list(precision or ())
    named = frozenset({particle, frame, *(positions or ()), *precision} - {None})
    known = _KNOWN | _PRECISIONS
    return functools.partial(_could_hold_a_role, named, frozenset(known))  # a function workers can be sent


def _could_hold_a_role(named: frozenset, known: frozenset, header) -> bool:
    name = str(header).strip()
    repeat = _DUPLICATE.match(name)
    return any(n in named or plain(n)[0] in known for n in [name, *([repeat["name"]] if repeat else [])])


def choose(table: pd.DataFrame, particle=None, frame=None, positions=None, source="the table") -> Columns:
    """The columns of a table that hold each role: those given, else those recognised by name. An
    absent column given, a role no column fits, or two columns that fit a role equally well is an
    InputFileError naming the columns."""
    names = [str(c) for c in table.columns]
    listed = ", ".join(table.attrs.get("columns", names))  # a file's, where it was read in some alone
    recognised = False
    if particle is None:
        particle = _one(table, names, PARTICLE, "the particle", "--particle-column", source, listed)
        recognised |= particle != "particle"
    if frame is None:
        frame = _one(table, names, FRAME, "the frame", "--frame-column", source, listed)
        recognised |= frame != "frame"
    if positions is None:
        positions = []
        for axis in AXES:
            found = _one(
                table, names, POSITION[axis], f"position {axis}", "--position-columns", source, listed, axis != "x"
            )
            if found is None:
                break
            positions.append(found)
        recognised |= positions != list(AXES[: len(positions)])
    else:
        present = [c for c in positions if c in names]
        positions = list(positions[: max(1, len(present))])
    missing = [c for c in [particle, frame, *positions] if c not in names]
    if missing:
        raise InputFileError(
            f"{source}: no column {missing[0]!r} (columns: {listed}); "
            "name yours with --particle-column, --frame-column, --position-columns"
        )
    return Columns(particle, frame, positions, position_unit(positions) or _unit_column(table, names), recognised)


def named_precision(table: pd.DataFrame, given, source="the table") -> list:
    """The precision columns the user named (one, or one per axis), all present."""
    given = [given] if isinstance(given, str) else list(given)
    names = [str(c) for c in table.columns]
    missing = [c for c in given if c not in names]
    if missing:
        listed = ", ".join(table.attrs.get("columns", names))
        raise InputFileError(f"{source}: no column {missing[0]!r} of the localisation precision (columns: {listed})")
    return given


def precision_columns(table: pd.DataFrame, chosen: Columns) -> list:
    """The columns a tracker writes its spots' localisation precision in: one (trackpy's `ep`, ...), or
    one per axis read (trackpy's `ep_x`, `ep_y`); [] where there is none, or two could be it."""
    names = [str(c) for c in table.columns]
    ranks = [PRECISION, *(PRECISION_AXIS[a] for a in AXES[: len(chosen.positions)])]
    try:
        found = [_one(table, names, rank, "the localisation precision", "", "", "", True) for rank in ranks]
    except InputFileError:  # two could be it
        return []
    return found[:1] if found[0] else found[1:] if None not in found[1:] else []


def precision_scale(columns_: list, unit: str | None, source="the table") -> float:
    """What turns the precision columns' values into the positions' unit: 1 where either unit is not
    written; nm to µm and back; other pairs an InputFileError."""
    written = {unit_of(plain(c)[1]) for c in columns_} - {None}
    if len(written) > 1:
        raise InputFileError(f"{source}: the precision columns {', '.join(map(repr, columns_))} are in several units")
    if not written or unit is None or written == {unit}:
        return 1.0
    scale = {("nm", "µm"): 1e-3, ("µm", "nm"): 1e3}.get((written.pop(), unit))
    if scale is None:
        raise InputFileError(
            f"{source}: the localisation precision {columns_[0]!r} is in another unit than the positions ({unit})"
        )
    return scale


def position_unit(positions: list) -> str | None:
    """The unit the position columns' headers all say; None where one says none or they differ."""
    units = position_units(positions)
    return units.pop() if len(units) == 1 else None


def position_units(positions: list) -> set:
    """The units the position columns' headers say (None for a header without one)."""
    return {unit_of(plain(c)[1]) for c in positions}


def _unit_column(table, names) -> str | None:
    """The positions' unit as a column of units says it, where there is one and it holds one unit."""
    found = [c for c in names if plain(c)[0] == UNIT]
    if len(found) != 1:
        return None
    written = table[found[0]].dropna().astype(str).str.strip().unique()
    return unit_of(written[0]) if len(written) == 1 else None


def _one(table, names, ranks, role, flag, source, listed, optional=False) -> str | None:
    """The one column of the most plausible rank for a role."""
    for rank in ranks:
        found = []
        for c in (c for c in names if plain(c)[0] in rank):  # "frame" and "FRAME" holding the same count once
            if not any(table[c].astype(str).equals(table[f].astype(str)) for f in found):
                found.append(c)
        if len(found) == 1:
            _same_as_repeats(table, names, found[0], source)
            return found[0]
        if len(found) > 1:
            raise InputFileError(
                f"{source}: columns {found[0]!r} and {found[1]!r} could both be {role}; name the one to use with {flag}"
            )
    if optional:
        return None
    raise InputFileError(f"{source}: no column that is {role} (columns: {listed}); name it with {flag}")


def _same_as_repeats(table, names, column, source) -> None:
    """A header given twice is read as "x" and "x.1" (pandas): the repeats must hold the same values."""
    for other in names:
        found = _DUPLICATE.match(other)
        if found and found["name"] == column and not table[other].astype(str).equals(table[column].astype(str)):
            raise InputFileError(f"{source}: two columns named {column!r} with different values")
