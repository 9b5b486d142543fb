import numpy as np
import pytest

from andiflow.andi_io import (
    SAMPLE_BYTES,
    InputFileError,
    read_predictions,
    read_reference,
    read_trajectories,
    text_encoding,
    write_trajectories,
)


def test_reads_mixed_dimensions_crlf_and_integer_dims(tmp_path):
    path = tmp_path / "task1.txt"
    path.write_bytes(b"1.0;0;1;2\r\n2;0;1;2;3;4;5\r\n3;1;2;3;4;5;6\r\n")
    t = read_trajectories(path)
    assert [x.shape for x in t] == [(1, 3), (2, 3), (3, 2)]
    np.testing.assert_array_equal(t[1], [[0, 1, 2], [3, 4, 5]])


def test_write_then_read(tmp_path, rng):
    trajectories = [rng.normal(size=(d, n)) for d, n in [(1, 12), (2, 30), (3, 15)]]
    write_trajectories(tmp_path / "t.txt", trajectories)
    back = read_trajectories(tmp_path / "t.txt")
    for a, b in zip(trajectories, back):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_reference_with_and_without_models(tmp_path):
    (tmp_path / "a.txt").write_text("1;0.50\n2.0;1.25\n")
    dims, alphas, models = read_reference(tmp_path / "a.txt")
    assert dims.tolist() == [1, 2] and alphas.tolist() == [0.5, 1.25] and models is None
    (tmp_path / "b.txt").write_text("1;0.50;fbm\n3;1.00;sbm\n")
    assert read_reference(tmp_path / "b.txt")[2] == ["fbm", "sbm"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("1;0;1;x;3\n", r":1: field 4 is not a number: 'x'"),
        ("1;0;1;2\n1;0;nan;2\n", r":2: field 3 is 'nan', not a finite number"),
        ("1;0;inf;2\n", r":1: field 3 is 'inf', not a finite number"),
        ("4;0;1;2;3\n", r":1: dimension must be 1, 2 or 3, found 4"),
        ("2;0;1;2\n", r":1: 3 coordinates cannot be split into 2 dimensions"),
        ("1;0;1\n\n1;0;1\n", r":2: empty line"),
        ("", r": the file is empty"),
    ],
)
def test_bad_lines_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(InputFileError, match="bad.txt" + message.replace("(", r"\(").replace(")", r"\)")):
        read_trajectories(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="nope.txt: no such file"):
        read_trajectories(tmp_path / "nope.txt")


def test_byte_order_mark_is_accepted(tmp_path):
    (tmp_path / "task1.txt").write_bytes(b"\xef\xbb\xbf1.0;0;1;2\r\n2;0;1;2;3;4;5\r\n")
    t = read_trajectories(tmp_path / "task1.txt")
    np.testing.assert_array_equal(t[0], [[0, 1, 2]])
    (tmp_path / "ref1.txt").write_bytes(b"\xef\xbb\xbf1;0.50\n")
    assert read_reference(tmp_path / "ref1.txt")[1].tolist() == [0.5]
    (tmp_path / "pred.txt").write_bytes(b"\xef\xbb\xbf1;0.5000;0.1000\n")
    assert read_predictions(tmp_path / "pred.txt")["std"].tolist() == [0.1]


@pytest.mark.parametrize(
    "content",
    [
        np.random.default_rng(1).integers(0, 256, 200, dtype=np.uint8).tobytes() + b"\0",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10",
    ],
)
@pytest.mark.parametrize("reader", [read_trajectories, read_reference, read_predictions])
def test_binary_file_is_one_error(tmp_path, content, reader):
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=r"data.bin is not a text file \("):
        reader(path)


def test_a_trajectory_that_never_moves_on_an_axis(tmp_path):
    path = tmp_path / "task1.txt"
    path.write_text("1;0;1;2\n2;0;1;2;5;5;5\n")
    with pytest.raises(InputFileError, match=r"task1.txt:2: positions never move on axis y: alpha is undefined"):
        read_trajectories(path)
    path.write_text("1;3;3;3\n")
    with pytest.raises(InputFileError, match=r"task1.txt:1: positions never move on axis x"):
        read_trajectories(path)


def test_cp1252_and_utf16_are_read_and_a_non_utf8_file_is_named_in_a_warning(tmp_path):
    (tmp_path / "excel.txt").write_bytes("1;0.50;fbm\n2;1.00;lw\n".encode("utf-16"))
    assert read_reference(tmp_path / "excel.txt")[1].tolist() == [0.5, 1.0]
    (tmp_path / "windows.txt").write_bytes(b"1;0.50;fbm\x85\n")  # an ellipsis in cp1252, not UTF-8
    with pytest.warns(UserWarning, match=r"windows.txt: not UTF-8; read as cp1252"):
        assert read_reference(tmp_path / "windows.txt")[2] == ["fbm\u2026"]


def test_the_encoding_is_decided_from_the_beginning_of_a_big_file(tmp_path, recwarn):
    path = tmp_path / "ref1.txt"
    path.write_bytes(b"1;0.50;fbm\n" * 7000 + b"1;0.50;fbm\x85\n")  # 77 kB of ASCII, then a cp1252 ellipsis
    assert text_encoding(path) == "utf-8-sig" and not recwarn.list  # the tail was not read to decide
    with pytest.warns(UserWarning, match=r"ref1.txt: not UTF-8; read as cp1252"):
        assert read_reference(path)[2][-2:] == ["fbm", "fbm\u2026"]  # reading it all finds out


def test_a_character_cut_by_the_end_of_the_sample_is_not_evidence_against_utf8(tmp_path, recwarn):
    for cut in range(1, 4):  # the sample ends after 1, 2 or 3 of a 4-byte character's bytes
        path = tmp_path / f"t{cut}.txt"
        path.write_bytes(b"1;0.50;" + b"a" * (SAMPLE_BYTES - 7 - cut) + "\U0001f600\n".encode())
        assert text_encoding(path) == "utf-8-sig"
    assert not recwarn.list
