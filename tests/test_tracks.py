import re
import threading

import numpy as np
import pandas as pd
import pytest

from andiflow.errors import InputFileError
from andiflow.tracks import FORMATS, detect_format, from_table, read_tracks


def _write(path, rows, columns=("particle", "frame", "x", "y")):
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


# TrackMate 7's "Spots" table export: feature keys, then names, short names and units; rows in no order;
# spot 9 is in no track; POSITION_Z is 0 everywhere (2D data).
TRACKMATE_CSV = """\
LABEL,ID,TRACK_ID,QUALITY,POSITION_X,POSITION_Y,POSITION_Z,POSITION_T,FRAME,RADIUS,VISIBILITY,MANUAL_SPOT_COLOR,MEAN_INTENSITY_CH1
Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,Radius,Visibility,Manual spot color,Mean intensity ch1
Label,Spot ID,Track ID,Quality,X,Y,Z,T,Frame,R,Visibility,Spot color,Mean ch1
,,,(quality),(micron),(micron),(micron),(sec),,(micron),,,(counts)
ID7,7,1,40.1,5.0,6.0,0.0,0.4,4,0.5,1,,120.0
ID2,2,0,50.2,1.5,2.5,0.0,0.2,2,0.5,1,,110.0
ID9,9,,12.0,9.0,9.0,0.0,0.2,2,0.5,1,,80.0
ID0,0,0,51.0,0.5,1.5,0.0,0.0,0,0.5,1,,100.0
ID6,6,1,41.3,4.0,7.0,0.0,0.6,6,0.5,1,,121.0
ID1,1,0,49.9,1.0,2.0,0.0,0.1,1,0.5,1,,105.0
ID5,5,1,42.0,4.5,6.5,0.0,0.5,5,0.5,1,,119.0
"""


def _spot(spot_id, frame, x, y, **extra):
    attributes = dict(
        ID=spot_id,
        name=f"ID{spot_id}",
        STD_INTENSITY_CH1="1.0",
        QUALITY="5.0",
        POSITION_T=f"{frame * 0.1}",
        POSITION_X=x,
        POSITION_Y=y,
        FRAME=frame,
        RADIUS="0.5",
        VISIBILITY="1",
        POSITION_Z="0.0",
        **extra,
    )
    return "<Spot " + " ".join(f'{k}="{v}"' for k, v in attributes.items()) + " />"


def _edge(source, target):
    return (
        f'<Edge SPOT_SOURCE_ID="{source}" SPOT_TARGET_ID="{target}" LINK_COST="1.0" EDGE_TIME="0.5" '
        'EDGE_X_LOCATION="1.0" EDGE_Y_LOCATION="1.0" />'
    )


def _trackmate_xml(filtered=("0", "2"), spots=None):
    """A TrackMate 7 model file: track 0 = spots 10, 11, 12 (frames 0-2), track 1 = spots 20, 21, track 2 =
    spots 30-33 (frames 1-4); spots listed out of frame order, edges out of order."""
    spots = spots or {
        2: [_spot(12, 2, 1.2, 2.2), _spot(31, 2, 3.2, 4.2), _spot(21, 2, 7.0, 8.5)],
        0: [_spot(10, 0, 1.0, 2.0), _spot(40, 0, 9.0, 9.0)],
        1: [_spot(30, 1, 3.0, 4.0), _spot(11, 1, 1.1, 2.1), _spot(20, 1, 7.5, 8.0)],
        4: [_spot(33, 4, 3.6, 4.6)],
        3: [_spot(32, 3, 3.4, 4.4)],
    }
    all_spots = "".join(f'<SpotsInFrame frame="{f}">{"".join(s)}</SpotsInFrame>' for f, s in spots.items())
    tracks = {"0": [(11, 12), (10, 11)], "1": [(20, 21)], "2": [(32, 33), (30, 31), (31, 32)]}
    all_tracks = "".join(
        f'<Track name="Track_{t}" TRACK_ID="{t}" TRACK_INDEX="{t}" NUMBER_SPOTS="3">'
        + "".join(_edge(*e) for e in edges)
        + "</Track>"
        for t, edges in tracks.items()
    )
    kept = (
        ""
        if filtered is None
        else ("<FilteredTracks>" + "".join(f'<TrackID TRACK_ID="{t}" />' for t in filtered) + "</FilteredTracks>")
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<TrackMate version="7.11.1">
  <Log>TrackMate v7.11.1 started on: ...</Log>
  <Model spatialunits="micron" timeunits="sec">
    <FeatureDeclarations><SpotFeatures><Feature feature="QUALITY" name="Quality" shortname="Quality"
      dimension="QUALITY" isint="false" /></SpotFeatures></FeatureDeclarations>
    <AllSpots nspots="12">{all_spots}</AllSpots>
    <AllTracks>{all_tracks}</AllTracks>
    {kept}
  </Model>
  <Settings><ImageData filename="cells.tif" folder="/data/" width="512" height="512" nslices="1"
    nframes="5" pixelwidth="0.1" pixelheight="0.1" voxeldepth="1.0" timeinterval="0.1" /></Settings>
  <GUIState state="ConfigureViews" />
</TrackMate>
"""


# TrackMate's "Export tracks to XML" (ISBI 2012 challenge format); particle 1 misses frame 2.
TRACKS_XML = """<?xml version="1.0" encoding="UTF-8"?>
<Tracks nTracks="2" spaceUnits="micron" frameInterval="0.1" timeUnits="sec"
 generationDateTime="Mon, 1 Jan 2024 10:00:00" from="TrackMate v7.11.1">
  <particle nSpots="3">
    <detection t="0" x="1.0" y="2.0" z="0.0" />
    <detection t="2" x="1.2" y="2.4" z="0.0" />
    <detection t="1" x="1.1" y="2.2" z="0.0" />
  </particle>
  <particle nSpots="3">
    <detection t="0" x="5.0" y="6.0" z="0.0" />
    <detection t="1" x="5.5" y="6.5" z="0.0" />
    <detection t="3" x="6.0" y="7.0" z="0.0" />
  </particle>
</Tracks>
"""

# Icy's track file (Spot Tracking; TrackMate's "Export to Icy"); track 187512149's frame 2 is a position Icy
# filled in (type 2), not a measured one.
ICY_XML = """<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<root>
  <trackfile version="1"/>
  <trackgroup description="spots">
    <track id="187512149">
      <detection classname="plugins.nchenouard.particleTracking.sequenceGenerator.ProfileSpotTrack" t="0" type="1"
       x="10.0" y="20.0" z="0"/>
      <detection t="1" type="1" x="10.5" y="20.4" z="0"/>
      <detection t="2" type="2" x="10.75" y="20.6" z="0"/>
      <detection t="3" type="1" x="11.0" y="20.8" z="0"/>
    </track>
    <track id="-44">
      <detection t="5" type="1" x="30.0" y="40.0" z="0"/>
      <detection t="6" type="1" x="30.2" y="40.1" z="0"/>
      <detection t="7" type="1" x="30.1" y="40.5" z="0"/>
    </track>
  </trackgroup>
  <linklist/>
</root>
"""

BINARIES = {
    "random.bin": np.random.default_rng(3).integers(0, 256, 200, dtype=np.uint8).tobytes() + b"\0",
    "image.png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xffa",
}


def test_particles_sorted_and_frames_sorted_within_each(tmp_path):
    path = _write(tmp_path / "t.csv", [(7, 2, 2.0, 20.0), (3, 0, 0.5, 5.0), (7, 0, 0.0, 0.0), (7, 1, 1.0, 10.0)])
    tracks = read_tracks(path)
    assert tracks.particles == [3, 7]
    np.testing.assert_array_equal(tracks.trajectories[1], [[0, 1, 2], [0, 10, 20]])
    assert tracks.trajectories[0].shape == (2, 1) and list(tracks.gaps) == []
    assert tracks.problems == {3: "positions never move"}  # a single point never moves


def test_dimension_from_the_columns_present(tmp_path):
    path = _write(
        tmp_path / "t.csv", [(1, 0, 0.0, 1.0, 2.0), (1, 1, 1.0, 1.5, 2.5)], ("particle", "frame", "x", "y", "z")
    )
    assert read_tracks(path).trajectories[0].shape == (3, 2)
    path = _write(tmp_path / "one.csv", [(1, 0, 0.0), (1, 1, 1.0)], ("particle", "frame", "x"))
    assert read_tracks(path).trajectories[0].shape == (1, 2)


def test_a_column_that_never_moves_is_not_a_dimension(tmp_path):
    path = _write(
        tmp_path / "t.csv",
        [(1, 0, 0.0, 1.0, 5.0), (1, 1, 1.0, 1.5, 5.0), (2, 0, 3.0, 2.0, 5.0)],
        ("particle", "frame", "x", "y", "z"),
    )
    tracks = read_tracks(path)
    np.testing.assert_array_equal(tracks.trajectories[0], [[0, 1], [1, 1.5]])
    path = _write(tmp_path / "flat.csv", [(1, 0, 2.0, 1.0), (1, 1, 2.0, 1.0)])
    with pytest.raises(InputFileError, match=r"flat.csv: positions never move on any axis \(x, y\)"):
        read_tracks(path)


def test_a_particle_still_on_one_axis_is_predicted_from_the_axes_it_moves_on(tmp_path):
    path = _write(tmp_path / "t.csv", [(1, 0, 0.0, 1.0), (1, 1, 1.0, 2.0), (2, 0, 3.0, 4.0), (2, 1, 3.5, 4.0)])
    tracks = read_tracks(path)
    assert tracks.problems == {} and tracks.particles == [1, 2] and tracks.dims == [2, 2]
    assert tracks.notes == {2: "still on y: predicted from x"}
    np.testing.assert_array_equal(tracks.trajectories[1], [[3.0, 3.5]])


def test_gaps_are_reported(tmp_path):
    path = _write(tmp_path / "t.csv", [(1, 0, 0, 0), (1, 1, 1, 1), (1, 5, 2, 2), (2, 0, 0, 0), (2, 1, 1, 1)])
    tracks = read_tracks(path)
    assert list(tracks.gaps) == [1]
    assert tracks.trajectories[0].shape == (2, 3)


def test_column_names_can_be_given(tmp_path):
    path = _write(tmp_path / "t.csv", [(1, 0, 0.0, 1.0), (1, 1, 0.5, 2.0)], ("track_id", "t", "X", "Y"))
    tracks = read_tracks(path, particle="track_id", frame="t", positions=("X", "Y"))
    assert tracks.trajectories[0].shape == (2, 2)


def test_tab_separated_table_with_byte_order_mark(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_bytes(b"\xef\xbb\xbfparticle\tframe\tx\ty\r\n1\t0\t0.0\t1.0\r\n1\t1\t0.5\t2.0\r\n")
    assert detect_format(path) == "table"
    np.testing.assert_array_equal(read_tracks(path).trajectories[0], [[0, 0.5], [1, 2]])


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        ([(1, 0, 0.0)], ("spot", "frame", "x"), ": no column that is the particle"),
        ([(1, 0, 0.0)], ("particle", "when", "x"), ": no column that is the frame"),
        ([(1, 0, 0.0)], ("particle", "frame", "pos"), ": no column that is position x"),
        ([(1, 0, 0.0, 1.0), (1, 1, np.nan, 1.0)], ("particle", "frame", "x", "y"), ":3: particle 1: column 'x' is nan"),
        (
            [(1, 0, 0.0, 1.0), (1, 1, "inf", 1.0)],
            ("particle", "frame", "x", "y"),
            ":3: particle 1: column 'x' is inf, not a finite number",
        ),
        ([(1, 0, 0.0, 1.0), (1, 0, 2.0, 1.0)], ("particle", "frame", "x", "y"), ":2: particle 1: frame 0 given twice"),
        (
            [(1, 0, 0.0, 1.0), (np.nan, 1, 2.0, 1.0)],
            ("particle", "frame", "x", "y"),
            ":3: column 'particle' is empty or -1: in no track",
        ),
    ],
)
def test_bad_tables_name_file_row_and_column_when_strict(tmp_path, rows, columns, message):
    path = _write(tmp_path / "bad.csv", rows, columns)
    with pytest.raises(InputFileError, match="bad.csv" + message):
        read_tracks(path, strict=True)


def test_a_bad_row_of_a_dataframe_is_named_by_its_index_label():
    table = pd.DataFrame({"particle": [1, 1, 1], "frame": [0, 1, 2], "x": [0.0, np.nan, 1.0], "y": [0.0, 1.0, 2.0]})
    with pytest.raises(InputFileError, match=r"the table row 'b': particle 1: column 'x' is nan"):
        from_table(table.set_axis(["a", "b", "c"]), strict=True)
    assert from_table(table.iloc[[0, 2]]).trajectories[0].tolist() == [[0.0, 1.0], [0.0, 2.0]]


def test_a_bad_value_or_a_repeated_frame_skips_that_particle_only(tmp_path):
    rows = [(1, 0, 0.0, 1.0), (1, 1, np.nan, 1.0), (2, 0, 0.0, 1.0), (2, 0, 1.0, 2.0), (3, 0, 0.0, 0.0), (3, 1, 1, 1)]
    tracks = read_tracks(_write(tmp_path / "t.csv", rows))
    assert tracks.particles == [1, 2, 3]
    assert tracks.problems == {1: "column 'x' is nan, not a finite number (3)", 2: "frame 0 given twice (4)"}
    assert tracks.trajectories[2].shape == (2, 2)
    by_frame = [rows[i] for i in (0, 2, 3, 4, 5, 1)]  # trackpy's order, the bad row last
    again = read_tracks(_write(tmp_path / "by_frame.csv", by_frame))
    assert again.problems == {1: "column 'x' is nan, not a finite number (7)", 2: "frame 0 given twice (3)"}
    np.testing.assert_array_equal(again.trajectories[2], tracks.trajectories[2])
    shuffled = read_tracks(_write(tmp_path / "shuffled.csv", [rows[i] for i in (5, 3, 1, 4, 0, 2)]))
    assert shuffled.particles == [1, 2, 3] and sorted(shuffled.problems) == [1, 2]
    np.testing.assert_array_equal(shuffled.trajectories[2], tracks.trajectories[2])


def test_empty_and_missing(tmp_path):
    (tmp_path / "empty.csv").write_text("\n")
    with pytest.raises(InputFileError, match="empty.csv: the file is empty"):
        read_tracks(tmp_path / "empty.csv")
    with pytest.raises(InputFileError, match="nope.csv: no such file"):
        read_tracks(tmp_path / "nope.csv")


def test_trackmate_spots_csv(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(TRACKMATE_CSV)
    assert detect_format(path) == "trackmate-csv"
    tracks = read_tracks(path)
    assert tracks.particles == [0, 1] and list(tracks.gaps) == [] and tracks.problems == {}
    np.testing.assert_array_equal(tracks.trajectories[0], [[0.5, 1.0, 1.5], [1.5, 2.0, 2.5]])  # no z
    np.testing.assert_array_equal(tracks.trajectories[1], [[5.0, 4.5, 4.0], [6.0, 6.5, 7.0]])


def test_trackmate_csv_with_byte_order_mark_and_semicolons(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"\xef\xbb\xbf" + TRACKMATE_CSV.replace(",", ";").encode())
    assert detect_format(path) == "trackmate-csv"
    assert read_tracks(path).particles == [0, 1]


def test_trackmate_csv_bad_value_names_its_line(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(TRACKMATE_CSV.replace("ID0,0,0,51.0,0.5", "ID0,0,0,51.0,abc"))
    with pytest.raises(InputFileError, match=r"export.csv:8: particle 0: column 'POSITION_X' is 'abc', not a finite"):
        read_tracks(path, strict=True)
    assert read_tracks(path).problems == {0: "column 'POSITION_X' is 'abc', not a finite number (8)"}


def test_trackmate_model_xml_reads_filtered_tracks_in_frame_order(tmp_path):
    path = tmp_path / "model.xml"
    path.write_text(_trackmate_xml())
    assert detect_format(path) == "trackmate-xml"
    tracks = read_tracks(path)
    assert tracks.particles == [0, 2] and list(tracks.gaps) == [] and tracks.problems == {}
    np.testing.assert_allclose(tracks.trajectories[0], [[1.0, 1.1, 1.2], [2.0, 2.1, 2.2]])
    np.testing.assert_allclose(tracks.trajectories[1], [[3.0, 3.2, 3.4, 3.6], [4.0, 4.2, 4.4, 4.6]])


def test_trackmate_model_xml_without_filtered_tracks_reads_all(tmp_path):
    path = tmp_path / "model.xml"
    path.write_text(_trackmate_xml(filtered=None))
    tracks = read_tracks(path)
    assert tracks.particles == [0, 1, 2]
    np.testing.assert_allclose(tracks.trajectories[1], [[7.5, 7.0], [8.0, 8.5]])


def test_trackmate_model_xml_errors_name_the_spot(tmp_path):
    path = tmp_path / "model.xml"
    path.write_text(_trackmate_xml().replace('POSITION_X="1.1"', 'POSITION_X="NaN"'))
    with pytest.raises(InputFileError, match=r"model.xml: <Spot ID=11>: particle 0: attribute 'POSITION_X' is 'NaN'"):
        read_tracks(path, strict=True)
    path.write_text(_trackmate_xml().replace('POSITION_Y="4.2" FRAME="2"', 'POSITION_Y="4.2" FRAME="1"'))
    tracks = read_tracks(path, strict=True)  # two spots of track 2 in frame 1: a merge, not an error
    assert tracks.problems == {}
    assert tracks.notes == {2: "splits or merges: its longest path, 3 of 4 spots; gaps bridged (1 frame missing)"}
    np.testing.assert_allclose(tracks.trajectories[1][0], [3.2, 3.4, 3.6])
    path.write_text(_trackmate_xml(filtered=("0", "5")))
    with pytest.raises(InputFileError, match=r"<FilteredTracks> lists track 5, which <AllTracks> lacks"):
        read_tracks(path)


def test_isbi_tracks_xml(tmp_path):
    path = tmp_path / "tracks.xml"
    path.write_bytes(b"\xef\xbb\xbf" + TRACKS_XML.encode())
    assert detect_format(path) == "tracks-xml"
    tracks = read_tracks(path)
    assert tracks.particles == [0, 1] and list(tracks.gaps) == [1] and tracks.problems == {}
    np.testing.assert_allclose(tracks.trajectories[0], [[1.0, 1.1, 1.2], [2.0, 2.2, 2.4]])
    np.testing.assert_allclose(tracks.trajectories[1], [[5.0, 5.5, 6.0], [6.0, 6.5, 7.0]])
    path.write_text(TRACKS_XML.replace(' y="6.5"', ""))
    with pytest.raises(InputFileError, match=r"tracks.xml: <particle> 2, <detection> 2: particle 1: attribute 'y' is"):
        read_tracks(path, strict=True)


def test_icy_tracks_leave_out_the_positions_icy_filled_in(tmp_path):
    path = tmp_path / "tracks.xml"
    path.write_text(ICY_XML)
    assert detect_format(path) == "icy-xml"
    tracks = read_tracks(path)
    assert tracks.particles == [-44, 187512149] and tracks.space_unit == "px" and tracks.problems == {}
    np.testing.assert_allclose(tracks.trajectories[1], [[10.0, 10.5, 11.0], [20.0, 20.4, 20.8]])
    assert tracks.notes[187512149] == "1 position Icy filled in left out; gaps bridged (1 frame missing)"
    assert tracks.first_frames == {-44: 5, 187512149: 0} and tracks.dims == [2, 2]  # z never moves
    interpolated = read_tracks(path, gaps="interpolate")
    np.testing.assert_allclose(interpolated.trajectories[1][:, 2], [10.75, 20.6])
    path.write_text(ICY_XML.replace('id="-44"', 'id="187512149"'))
    assert read_tracks(path).particles == [0, 1]  # ids repeated: numbered in file order
    path.write_text(ICY_XML.replace('x="30.2"', 'x="nan"'))
    with pytest.raises(InputFileError, match=r"tracks.xml: <track> 2, <detection> 2: particle -44: attribute 'x'"):
        read_tracks(path, strict=True)


def test_detect_format_by_content_not_name(tmp_path):
    (tmp_path / "a.csv").write_text("1.0;0.1;0.2;0.3\n")
    (tmp_path / "b.txt").write_text("particle,frame,x,y\n1,0,0,0\n")
    (tmp_path / "c.txt").write_text("-2;0;1;2;3\n")
    (tmp_path / "d.csv").write_text("<?xml version='1.0'?>\n<Graph><node/></Graph>\n")
    (tmp_path / "e.xml").write_text("<Tracks><particle></Tracks>")
    assert [detect_format(tmp_path / n) for n in ("a.csv", "b.txt", "c.txt")] == ["task1", "table", "task1"]
    with pytest.raises(InputFileError, match=r"d.csv: XML of root <Graph>, neither"):
        detect_format(tmp_path / "d.csv")
    with pytest.raises(InputFileError, match=r"e.xml: not a readable XML file"):
        read_tracks(tmp_path / "e.xml")
    assert read_tracks(tmp_path / "a.csv").dims == [1]  # a task1.txt: one particle a line


def test_format_can_be_forced(tmp_path):
    path = tmp_path / "t.dat"
    path.write_text(TRACKMATE_CSV)
    assert read_tracks(path, format="trackmate-csv").particles == [0, 1]
    with pytest.raises(InputFileError, match=r"t.dat:7: column 'TRACK_ID' is empty or -1"):  # as a table: spot 9
        read_tracks(path, format="table", strict=True)
    with pytest.raises(InputFileError, match=r"unknown format 'imaris'"):
        read_tracks(path, format="imaris")


@pytest.mark.parametrize("name", sorted(BINARIES))
@pytest.mark.parametrize("format", ["auto", *FORMATS])
def test_binary_file_is_one_error(tmp_path, name, format):
    path = tmp_path / name
    path.write_bytes(BINARIES[name])
    with pytest.raises(InputFileError, match=f"{name} is not a text file"):
        read_tracks(path, format=format)
    with pytest.raises(InputFileError, match=f"{name} is not a text file"):
        detect_format(path)


def test_a_file_excel_saved_in_cp1252_is_read_with_a_warning(tmp_path):
    path = tmp_path / "t.csv"
    rows = "".join(f"{p},{f},{f * 0.5},{p + f}\n" for p in range(100) for f in range(100))
    path.write_bytes("particle,frame,x (\u00b5m),y (\u00b5m)\n".encode("cp1252") + rows.encode())
    with pytest.warns(UserWarning, match=r"t.csv: not UTF-8; read as cp1252"):
        tracks = read_tracks(path, positions=("x (\u00b5m)", "y (\u00b5m)"))
    assert len(tracks.particles) == 100 and tracks.problems == {}


@pytest.mark.parametrize(
    "text",
    [
        "particle frame x y\n1 0 0.5 1.0\n1 1 1.5 2.0\n2 0 3.0 4.0\n2 1 3.5 4.5\n",  # blanks
        "particle, frame, x, y\n1, 0, 0.5, 1.0\n1, 1, 1.5, 2.0\n2, 0, 3.0, 4.0\n2, 1, 3.5, 4.5\n",  # ", "
        "sep=;\nparticle;frame;x;y\n1;0;0,5;1\n1;1;1,5;2\n2;0;3;4\n2;1;3,5;4,5\n",  # Excel: sep=, decimal commas
        "particle\tframe\tx\ty\tz\n1\t0\t0,5\t1\t\n1\t1\t1,5\t2\t\n2\t0\t3\t4\t\n2\t1\t3,5\t4,5\t\n",  # empty z
        "particle frame x y\n1 0 0,5 1\n1 1 1,5 2\n2 0 3 4\n2 1 3,5 4,5\n",  # blanks and decimal commas
        "\nTracks\n======\nparticle,frame,x,y\n1,0,0.5,1\n1,1,1.5,2\n2,0,3,4\n2,1,3.5,4.5\n",  # a title
    ],
)
def test_tables_as_spreadsheets_and_trackers_write_them(tmp_path, text):
    path = tmp_path / "t.csv"
    path.write_text(text)
    tracks = read_tracks(path)
    assert tracks.particles == [1, 2] and tracks.problems == {} and tracks.dims == [2, 2]
    np.testing.assert_array_equal(tracks.trajectories[0], [[0.5, 1.5], [1.0, 2.0]])


def test_frames_every_2_or_in_seconds_are_not_gaps_but_a_missing_one_is(tmp_path):
    rows = [(1, f, f, f * f) for f in (0, 2, 4, 6)] + [(2, f, f, -f) for f in (0, 2, 6, 8)]
    assert list(read_tracks(_write(tmp_path / "t.csv", rows)).gaps) == [2]
    rows = [(1, t, t, t * t) for t in (0.0, 0.05, 0.1, 0.15)]
    assert list(read_tracks(_write(tmp_path / "s.csv", rows)).gaps) == []


def test_a_trackmate_spots_csv_track_that_splits_is_read_along_the_branch_that_continues_it(tmp_path):
    head = "\n".join(TRACKMATE_CSV.splitlines()[:4])
    # track 3 moves along x by 1 a frame; in frames 3 and 4 a second spot splits off far away
    spots = [(f, float(f), 0.0) for f in range(6)] + [(3, 9.0, 9.0), (4, 9.5, 9.5)]
    rows = [f"ID{i},{i},3,50,{x},{y},0.0,{f / 10},{f},0.5,1,,100" for i, (f, x, y) in enumerate(spots)]
    path = tmp_path / "split.csv"
    path.write_text(head + "\n" + "\n".join(rows) + "\n")
    tracks = read_tracks(path, strict=True)  # a split is no error
    np.testing.assert_array_equal(tracks.trajectories[0], [[0, 1, 2, 3, 4, 5]])  # y never moves on the branch kept
    assert tracks.notes[3].startswith("splits or merges: the branch that continues it, 6 of 8 spots")


def test_a_one_point_track_is_named_too_short_not_still(tmp_path):
    from andiflow.results import unpredictable

    rows = [(1, 0, 0.0, 0.0)] + [(2, f, float(f), float(f % 3)) for f in range(12)]
    tracks = read_tracks(_write(tmp_path / "t.csv", rows))
    messages = []
    problems = unpredictable(tracks, 10, messages.append, "t.csv")
    assert problems == {1: "too short: fewer than 10 points"}
    assert messages == ["t.csv: skipped 1 of 2 particles (too short: fewer than 10 points): 1"]


@pytest.mark.parametrize(
    "rule, expected, note",
    [
        ("bridge", [[0, 1, 4, 5, 6]], "gaps bridged (2 frames missing)"),
        ("interpolate", [[0, 1, 2, 3, 4, 5, 6]], "gaps interpolated (2 frames missing)"),
        ("split", [[4, 5, 6]], "split at gaps: its longest run, 3 of 5 points"),
    ],
)
def test_missing_frames_are_bridged_interpolated_or_split_with_a_note(tmp_path, rule, expected, note):
    rows = [(1, f, float(f)) for f in (0, 1, 4, 5, 6)] + [(2, f, float(f % 2)) for f in range(5)]
    tracks = read_tracks(_write(tmp_path / "t.csv", rows, ("particle", "frame", "x")), gaps=rule)
    np.testing.assert_array_equal(tracks.trajectories[0], expected)
    assert tracks.notes == {1: note} and list(tracks.gaps) == [1]


def test_a_task1_file_parsed_by_worker_processes_reads_as_in_one_process(tmp_path, monkeypatch):
    from andiflow import andi_io, workers

    rng = np.random.default_rng(3)
    lines = [f"2;{';'.join(f'{v:.6f}' for v in rng.normal(size=2 * (10 + i)))}" for i in range(40)]
    lines[16] = "2;1;x;3;4"  # line 17: a problem, named there
    lines[20] = "  "  # line 21: blank within the file: a problem; those at its end are not lines
    lines[25] += "\r"  # line 26: ended as on Windows
    path = tmp_path / "task1.txt"
    path.write_text("\n".join(lines) + "\n\n \n", newline="")

    class Owner:
        pass

    owner = Owner()
    one = read_tracks(path)
    monkeypatch.setattr(workers, "MIN_VALUES", 0)  # workers even for this little
    monkeypatch.setattr(andi_io, "MIN_PART_BYTES", 100)  # and many parts
    parsed = workers.Workers(owner, {}, 3)
    three = read_tracks(path, workers=parsed)
    assert parsed.pool is not None  # the workers parsed it
    assert three.particles == one.particles == list(range(1, 41)) and three.dims == one.dims
    assert three.problems == one.problems and "field 3" in three.problems[17] and three.problems[21] == "empty line"
    assert len(andi_io.line_ranges(path, 12)) > 4  # in parts
    for a, b in zip(one.trajectories, three.trajectories):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(InputFileError, match=r"task1.txt:17: field 3 is not a number"):
        read_tracks(path, strict=True, workers=parsed)


def test_a_utf16_file_is_read_by_one_process_however_many_workers(tmp_path, monkeypatch):
    from andiflow import andi_io, workers

    rows = [(p, f, float(f * p), float(f)) for p in range(1, 4) for f in range(12)]
    text = pd.DataFrame(rows, columns=["particle", "frame", "x", "y"]).to_csv(index=False)
    (tmp_path / "t.csv").write_text(text, encoding="utf-16")  # its byte 0x0A is half a character
    lines = "".join(f"2;{';'.join(str(v) for v in range(1, 2 * 10 + 1 + i))}\n" for i in (0, 2))
    (tmp_path / "task1.txt").write_text(lines, encoding="utf-16")

    class Owner:
        pass

    monkeypatch.setattr(workers, "MIN_VALUES", 0)
    monkeypatch.setattr(andi_io, "MIN_PART_BYTES", 10)
    for name in ("t.csv", "task1.txt"):
        parsed = workers.Workers(Owner(), {}, 3)
        three, one = read_tracks(tmp_path / name, workers=parsed), read_tracks(tmp_path / name)
        assert parsed.pool is None and three.particles == one.particles and len(one.particles) in (2, 3)
        for a, b in zip(one.trajectories, three.trajectories):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "body, in_parts",
    [
        ("", True),  # numbers throughout: the workers' parts are the table
        ("7,3,oops,1.0\n", False),  # text in a column of numbers: one process reads it again
        ('7,3,"two\nlines",1.0\n', False),  # a quoted line break, which a byte range may cut
        ("7,3,1.0,1.0,9\n", False),  # a row wider than the header: an error naming its line in the file
    ],
)
def test_a_table_parsed_in_parts_by_threads_reads_as_in_one_process(tmp_path, monkeypatch, body, in_parts):
    from andiflow import andi_io, delimited, workers

    rng = np.random.default_rng(4)
    rows = [(p, f, *rng.normal(size=2)) for p in range(1, 31) for f in range(12)]
    text = pd.DataFrame(rows, columns=["track_id", "t", "x", "y"]).to_csv(index=False)
    cut = text.index("\n", len(text) // 2) + 1
    path = tmp_path / "tracks.csv"
    path.write_text("sep=,\n" + text[:cut] + body + text[cut:])

    class Owner:
        pass

    owner, answers = Owner(), []
    monkeypatch.setattr(workers, "MIN_VALUES", 0)  # workers even for this little
    monkeypatch.setattr(andi_io, "MIN_PART_BYTES", 500)  # and many parts
    read_in_parts, rows, parts = delimited._read_in_parts, delimited._rows, set()
    monkeypatch.setattr(delimited, "_read_in_parts", lambda *args: answers.append(read_in_parts(*args)) or answers[-1])
    monkeypatch.setattr(delimited, "_rows", lambda *args: parts.add((threading.get_ident(), args[-1])) or rows(*args))
    parsed = workers.Workers(owner, {}, 3)
    try:
        one = delimited.read_csv(path)
    except InputFileError as err:
        with pytest.raises(InputFileError, match=re.escape(str(err))):
            delimited.read_csv(path, parsed)
        assert "Expected 4 fields in line" in str(err)
    else:
        three = delimited.read_csv(path, parsed)
        pd.testing.assert_frame_equal(three, one)
        assert three.attrs == one.attrs == {"header_line": 2}
    assert len(parts) == len(andi_io.line_ranges(path, 3, 2)) == 3  # parsed in parts, a range a thread of this process
    assert parsed.pool is None and threading.get_ident() not in {thread for thread, _ in parts}
    assert (answers[0] is not None) == in_parts


def test_a_trackmate_spots_table_read_as_a_plain_table_leaves_its_rows_of_names_out(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(TRACKMATE_CSV)
    tracks = read_tracks(path, format="table")
    assert tracks.particles == [0, 1] and tracks.problems == {}
    assert "3 rows of names or units under the header left out; 1 row in no track" in tracks.read_as
    path.write_text("particle,frame,x\n1,,\n1,0,0\n1,1,2\n")  # a broken first row is no name
    assert read_tracks(path).problems == {1: "column 'frame' is nan, not a finite number (2)"}
