"""Tables read as trackers write them: columns recognised by name, units kept, ties refused."""

import numpy as np
import pytest

from andiflow.columns import candidates
from andiflow.delimited import read_csv
from andiflow.errors import InputFileError
from andiflow.tracks import read_tracks

STEPS = [(0.0, 1.0), (0.5, 1.5), (1.5, 1.0)]  # x, y of frames 0-2 of every particle below

# the headers (and a row's extra fields) of what each tool writes by default, as found in real files
TOOLS = {
    "trackpy": ("particle,frame,x,y,mass", lambda p, f, x, y: f"{p},{f},{x},{y},100"),
    "mosaicsuite": (",Trajectory,Frame,x,y,z", lambda p, f, x, y: f"{p * 3 + f},{p},{f},{x},{y},0"),
    "quot": ("y,x,I0,frame,trajectory", lambda p, f, x, y: f"{y},{x},5,{f},{p}"),
    "swift": (
        '"id","track.id","frame","x [nm]","y [nm]","id"',
        lambda p, f, x, y: f"{p * 3 + f},{p},{f + 1},{x},{y},{p * 3 + f}",
    ),
    "flika": ("frame,track_number,x,y,intensity", lambda p, f, x, y: f"{f},{float(p)},{x},{y},"),
    "napari-gemspa": ("track_id\tframe\ty\tx", lambda p, f, x, y: f"{p}\t{float(f)}\t{y}\t{x}"),
    "andi2": ("traj_idx,frame,x,y", lambda p, f, x, y: f"{p},{f},{x},{y}"),
    "manual-tracking": (  # Fiji's Manual Tracking: its results table saved as CSV
        " ,Track n°,Slice n°,X,Y,Distance,Velocity,Pixel Value",
        lambda p, f, x, y: f"{p * 3 + f + 1},{p},{f + 1},{x},{y},{-1 if f == 0 else 1.2},{-1 if f == 0 else 0.3},255",
    ),
    "imaris": (  # Imaris' Position.csv: a title above its header, units in a column, z of 2D data 0
        " \nPosition\n====================\nPosition X,Position Y,Position Z,Unit,Category,Collection,Time,TrackID,ID,",
        lambda p, f, x, y: f"{x},{y},0,um,Spot,Position,{f + 1},{p},{p * 3 + f},",
    ),
    "mtrackj": (  # MTrackJ's table of points (Measure), saved as CSV
        "Nr,TID,PID,x [pixel],y [pixel],z [slice],t [frame],c [channel],I [val],Len [pixel]",
        lambda p, f, x, y: f"{p * 3 + f + 1},{p},{f + 1},{x},{y},1,{f + 1},1,120,0",
    ),
    "ilastik": (  # ilastik's tracking export: two centres of each object
        "frame,labelimageId,trackId,lineageId,parentTrackId,mergerLabelId,Object_Center_0,Object_Center_1,"
        "Center_of_the_object_0,Center_of_the_object_1",
        lambda p, f, x, y: f"{f},{p + 5},{p},{p},0,0,{x},{y},{x + 0.25},{y}",
    ),
    "cellprofiler": (  # CellProfiler's objects table (ExportToSpreadsheet) after TrackObjects
        "ImageNumber,ObjectNumber,Location_Center_X,Location_Center_Y,Location_Center_Z,TrackObjects_Label_50,"
        "TrackObjects_Lifetime_50",
        lambda p, f, x, y: f"{f + 1},{p},{x},{y},0,{p},{f + 1}",
    ),
    "btrack": (  # btrack's export_CSV: space-separated, z of 2D data 0
        "ID t x y z parent root state generation dummy",
        lambda p, f, x, y: f"{p} {f} {x} {y} 0.0 {p} {p} 5 0 False",
    ),
}
UNITS = {"swift": "nm", "imaris": "µm", "mtrackj": "px"}


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_each_trackers_names_are_recognised_without_being_named(tmp_path, tool):
    header, row = TOOLS[tool]
    lines = [header] + [row(p, f, x + 10 * p, y) for p in (1, 2) for f, (x, y) in enumerate(STEPS)]
    path = tmp_path / f"{tool}.csv"
    path.write_text("\n".join(lines) + "\n")
    tracks = read_tracks(path)
    assert tracks.particles == [1, 2] and tracks.problems == {} and tracks.dims == [2, 2]
    assert all(isinstance(pid, int) for pid in tracks.particles)  # flika's 1.0 is particle 1
    np.testing.assert_array_equal(tracks.trajectories[1], np.array(STEPS).T + [[20], [0]])  # x first, then y
    assert tracks.recognised == (tool not in ("trackpy",)) and "particle" in tracks.read_as
    assert tracks.space_unit == UNITS.get(tool)


def test_rows_in_no_track_are_left_out_and_said_and_lines_still_named(tmp_path):
    header, row = TOOLS["imaris"]
    lines = [header, "12.0,13.0,0,um,Spot,Position,1,,99,"]  # a spot in no track: no TrackID
    lines += [row(p, f, x + 10 * p, y) for p in (1, 2) for f, (x, y) in enumerate(STEPS)]
    lines[-2] = lines[-2].replace(f"{STEPS[1][0] + 20}", "nan", 1)  # particle 2, frame 1: line 10
    path = tmp_path / "Position.csv"
    path.write_text("\n".join(lines) + "\n")
    tracks = read_tracks(path)
    assert tracks.particles == [1, 2] and tracks.read_as.endswith("1 row in no track ('TrackID' empty or -1) left out")
    assert tracks.problems == {2: "column 'Position X' is nan, not a finite number (10)"}
    with pytest.raises(InputFileError, match=r"Position.csv:5: column 'TrackID' is empty or -1: in no track"):
        read_tracks(path, strict=True)


def test_ilastiks_untracked_objects_are_in_no_track(tmp_path):
    header, row = TOOLS["ilastik"]
    lines = [header, "0,1,-1,-1,0,0,40.0,41.0,40.0,41.0", "1,1,-1,-1,0,0,42.0,41.0,42.0,41.0"]
    lines += [row(p, f, x + 10 * p, y) for p in (1, 2) for f, (x, y) in enumerate(STEPS)]
    path = tmp_path / "tracking.csv"
    path.write_text("\n".join(lines) + "\n")
    tracks = read_tracks(path)
    assert tracks.particles == [1, 2] and tracks.problems == {}
    assert tracks.read_as.endswith("'Object_Center_1'; 2 rows in no track ('trackId' empty or -1) left out")


def test_positions_in_different_units_have_no_unit(tmp_path):
    header, _ = TOOLS["mtrackj"]
    rows = [
        f"{p * 9 + f},{p},{f + 1},{x + 10 * p},{y},{f % 3 + 1},{f + 1},1,120,0"
        for p in (1, 2)
        for f, (x, y) in enumerate(STEPS)
    ]
    lines = [header, *rows]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(lines) + "\n")
    tracks = read_tracks(path)  # z [slice] of a 3D stack moves: slices beside pixels
    assert tracks.space_unit is None and tracks.read_as.endswith("'z [slice]' (in px, slice: no one unit)")
    assert [t.shape[0] for t in tracks.trajectories] == [3, 3]


def test_case_units_and_a_header_given_twice_with_the_same_values(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Track_ID,FRAME,X (µm),Y (µm),frame,x (µm)\n1,0,0,0,0,0\n1,1,1,0.5,1,1\n1,2,1,2,2,1\n")
    tracks = read_tracks(path)  # "frame" repeats "FRAME", "x (µm)" repeats "X (µm)": each counts once
    assert tracks.read_as == "particle 'Track_ID', frame 'FRAME', positions 'X (µm)', 'Y (µm)' (µm)"
    assert tracks.space_unit == "µm"


@pytest.mark.parametrize(
    "header, message",
    [
        ("particle,track_id,frame,x", "columns 'particle' and 'track_id' could both be the particle; .*-column"),
        ("particle,frame,x,pos_x", None),  # an exact "x" is more plausible than "pos_x"
        ("particle,frame,x,x", "two columns named 'x' with different values"),
        ("particle,when,x", "no column that is the frame .*--frame-column"),
    ],
)
def test_two_equally_plausible_columns_are_refused_by_name(tmp_path, header, message):
    path = tmp_path / "t.csv"
    width = header.count(",") + 1
    path.write_text(header + "\n" + "\n".join(",".join([str(v + i) for v in range(width)]) for i in range(3)) + "\n")
    if message is None:
        assert read_tracks(path).read_as.endswith("positions 'x'")
    else:
        with pytest.raises(InputFileError, match="t.csv: " + message):
            read_tracks(path)


def test_a_wide_table_is_read_in_the_columns_that_could_hold_a_role(tmp_path, monkeypatch):
    from andiflow import andi_io, delimited, workers

    rows = [
        f"{y},{x},{'oops' if p == 2 and f == 1 else 12.5},0.1,{f},{p}" for p in (1, 2) for f, (x, y) in enumerate(STEPS)
    ]
    path = tmp_path / "trackpy.csv"
    path.write_text("y,x,mass,ecc,frame,particle\n" + "\n".join(rows * 40) + "\n")  # text in an unused column

    class Owner:
        pass

    monkeypatch.setattr(workers, "MIN_VALUES", 0)
    monkeypatch.setattr(andi_io, "MIN_PART_BYTES", 200)
    rows_of, parts = delimited._rows, []
    monkeypatch.setattr(delimited, "_rows", lambda *args: parts.append(rows_of(*args)) or parts[-1])
    one, two = read_tracks(path), read_tracks(path, workers=workers.Workers(Owner(), {}, 2))
    assert len(parts) == 2 and all(part is not None for part in parts)  # read in parts, a range a thread
    assert one.particles == two.particles == [1, 2]
    table = read_csv(path, None, candidates())  # what read_tracks reads
    assert list(table.columns) == ["y", "x", "frame", "particle"] and table.attrs["columns"][2] == "mass"
    assert "given twice" in one.problems[1]  # the rows repeat: a problem of the frames, not of 'oops'
    for a, b in zip(one.trajectories, two.trajectories):
        np.testing.assert_array_equal(a, b)
    path.write_text("y,x,mass,ecc,when,particle\n" + "\n".join(rows) + "\n")
    with pytest.raises(
        InputFileError, match=r"no column that is the frame \(columns: y, x, mass, ecc, when, particle\)"
    ):
        read_tracks(path)


def test_columns_named_by_the_user_are_taken_as_they_are(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("particle,track_id,frame,x\n" + "".join(f"1,{f % 2},{f},{f * f}\n" for f in range(4)))
    tracks = read_tracks(path, particle="track_id")
    assert tracks.particles == [0, 1] and not tracks.recognised


def test_units_and_frame_interval_of_trackmate_and_tracks_xml(tmp_path):
    from test_tracks import TRACKMATE_CSV, TRACKS_XML

    (tmp_path / "spots.csv").write_text(TRACKMATE_CSV)
    (tmp_path / "tracks.xml").write_text(TRACKS_XML)
    spots, exported = read_tracks(tmp_path / "spots.csv"), read_tracks(tmp_path / "tracks.xml")
    assert (spots.space_unit, spots.time_unit, spots.frame_interval) == ("µm", "s", pytest.approx(0.1))
    assert (exported.space_unit, exported.time_unit, exported.frame_interval) == ("µm", "s", 0.1)


PRECISIONS = {  # a localisation precision column (or one per axis) as trackers write it: 0.1 px per particle
    "trackpy": ("particle,frame,x,y,ep", lambda p, f, x, y: f"{p},{f},{x},{y},{0.1 * p}"),
    "trackpy-axes": ("particle,frame,x,y,ep_x,ep_y", lambda p, f, x, y: f"{p},{f},{x},{y},{0.1 * p},{0.1 * p}"),
    "picasso": ("particle,frame,x,y,lpx,lpy", lambda p, f, x, y: f"{p},{f},{x},{y},{0.1 * p},{0.1 * p}"),
    "thunderstorm-um": (
        '"id","track.id","frame","x [um]","y [um]","uncertainty [nm]"',
        lambda p, f, x, y: f"{p * 3 + f},{p},{f},{x},{y},{100 * p}",
    ),
    "thunderstorm-3d": (
        '"track.id","frame","x [nm]","y [nm]","sigma [nm]","uncertainty_xy [nm]","uncertainty_z [nm]"',
        lambda p, f, x, y: f"{p},{f},{x},{y},150,{0.1 * p},9",
    ),
}


@pytest.mark.parametrize("tool", sorted(PRECISIONS))
def test_a_trackers_precision_column_is_found_and_read_where_named_in_the_positions_unit(tmp_path, tool):
    header, row = PRECISIONS[tool]
    lines = [header] + [row(p, f, x + 10 * p, y) for p in (1, 2) for f, (x, y) in enumerate(STEPS)]
    path = tmp_path / f"{tool}.csv"
    path.write_text("\n".join(lines) + "\n")
    assert read_tracks(path).precision_columns == []  # predict does not look for one
    found = read_tracks(path, precision=None)  # population looks, and reads none
    assert found.precisions == {} and "precision" not in found.read_as and "sigma" not in str(found.precision_columns)
    tracks = read_tracks(path, precision=found.precision_columns)
    assert tracks.precisions == pytest.approx({1: 0.1, 2: 0.2}) and "localisation precision" in tracks.read_as


def test_each_tracks_precision_is_its_spots_median_and_spots_without_one_are_left_out(tmp_path):
    path = tmp_path / "t.csv"
    spots = {1: [0.1, 0.3, 0.2], 2: ["", "nan", -1], 3: [0.5, "", 0.7]}
    path.write_text("particle,frame,x,ep\n" + "".join(f"{p},{f},{f * f},{e}\n" for p, es in spots.items()
                                                       for f, e in enumerate(es)))  # fmt: skip
    assert read_tracks(path, precision="ep").precisions == pytest.approx({1: 0.2, 3: 0.6})
    assert read_tracks(path, precision="ep").precision_columns == ["ep"]
    with pytest.raises(InputFileError, match=r"no column 'sig' of the localisation precision \(columns: particle"):
        read_tracks(path, precision="sig")


def test_a_precision_in_another_unit_than_the_positions_is_refused_and_two_plausible_ones_not_found(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("particle,frame,x [px],uncertainty [nm]\n1,0,0,10\n1,1,1,10\n")
    assert read_tracks(path, precision=None).precision_columns == ["uncertainty [nm]"]
    with pytest.raises(InputFileError, match=r"precision 'uncertainty \[nm\]' is in another unit than the positions"):
        read_tracks(path, precision="uncertainty [nm]")
    path.write_text("particle,frame,x,ep,uncertainty\n1,0,0,1,2\n1,1,1,1,2\n")
    assert read_tracks(path, precision=None).precision_columns == []
    assert read_tracks(path, precision="uncertainty").precisions == {1: 2.0}
    task1 = tmp_path / "task1.txt"
    task1.write_text("1;0.1;0.5;0.2;0.9;1.3\n")
    with pytest.raises(InputFileError, match="a task1 file, with no column 'ep' of the localisation precision"):
        read_tracks(task1, precision="ep")
    assert read_tracks(task1, precision=None).precision_columns == []
