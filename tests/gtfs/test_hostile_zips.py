"""Corrupted and hostile GTFS zips (made here from the demo feed): ``noriai gtfs validate`` answers each
with one line naming the file and line, never a traceback; a zip bomb is refused from its directory."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gtfs.loader import inspect_feed
from gtfs.tables import MIB, FeedError, SizeBudget, check_budget, read_table
from noriai.cli import app
from noriai.demo import GTFS_DIR


def _zip(tmp_path: Path, name: str, change: dict[str, bytes] | None = None) -> Path:
    """The demo feed as a zip, with some members replaced."""
    change = change or {}
    out = tmp_path / name
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(GTFS_DIR.iterdir()):
            z.writestr(f.name, change.get(f.name, f.read_bytes()))
    return out


def _stops_plus(row: bytes) -> bytes:
    text = (GTFS_DIR / "stops.txt").read_bytes().rstrip(b"\r\n") + b"\n"
    return text + row


def _validate(path: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["gtfs", "validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


def _stops_line(n_extra: int = 1) -> int:
    return len((GTFS_DIR / "stops.txt").read_bytes().rstrip(b"\r\n").splitlines()) + n_extra


def test_a_csv_field_over_128_kib_is_one_error_naming_file_and_line(tmp_path: Path) -> None:
    feed = _zip(
        tmp_path, "bigfield.zip", {"stops.txt": _stops_plus(b'X,"' + b"a" * 200_000 + b'",34.1,131.4\n')}
    )
    code, lines = _validate(feed)
    assert code == 1
    assert f"bigfield.zip: error: stops.txt:{_stops_line()}: a field is longer than 128 KiB" in "\n".join(
        lines
    )


def test_an_unterminated_quote_is_reported_at_the_line_it_opens(tmp_path: Path) -> None:
    feed = _zip(
        tmp_path, "quote.zip", {"stops.txt": _stops_plus(b'X,"never closed,34.1,131.4\nY,Z,34.2,131.5\n')}
    )
    code, lines = _validate(feed)
    assert code == 1
    hits = [x for x in lines if "unterminated quoted field" in x]
    assert hits == [
        f"{feed}: error: stops.txt:{_stops_line()}: unterminated quoted field "
        "(a quote opened here is never closed)"
    ]


def test_a_bit_flipped_member_is_a_zlib_error_naming_the_member(tmp_path: Path) -> None:
    feed = _zip(tmp_path, "flip.zip")
    data = bytearray(feed.read_bytes())
    with zipfile.ZipFile(feed) as z:
        info = z.getinfo("stop_times.txt")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for k in range(3, 60, 7):  # flip bits inside the deflate stream, not in the headers
        data[start + k] ^= 0x55
    feed.write_bytes(bytes(data))
    code, lines = _validate(feed)
    assert code == 1
    corrupt = [x for x in lines if "stop_times.txt" in x and ("zlib.error" in x or "BadZipFile" in x)]
    assert len(corrupt) == 1, lines
    assert "corrupt data in the zip" in corrupt[0]


def test_text_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    feed = _zip(tmp_path, "sjis.zip", {"stops.txt": _stops_plus("X,山口,34.1,131.4\n".encode("shift_jis"))})
    issues = [str(i) for i in inspect_feed(feed).errors()]
    assert any(i.startswith(f"error: stops.txt:{_stops_line()}: not UTF-8") for i in issues), issues


def test_duplicate_trip_id_and_stop_sequence_is_flagged(tmp_path: Path) -> None:
    st = (GTFS_DIR / "stop_times.txt").read_bytes().rstrip(b"\r\n").splitlines()
    again = st[2]
    feed = _zip(tmp_path, "dup.zip", {"stop_times.txt": b"\n".join([*st, again]) + b"\n"})
    issues = [i for i in inspect_feed(feed).errors() if i.field == "stop_sequence"]
    assert len(issues) == 1
    assert issues[0].line == len(st) + 1
    assert "duplicate (trip_id, stop_sequence)" in issues[0].message and "also on line 3" in issues[0].message


def test_unicode_digits_and_huge_numbers_are_errors_not_crashes(tmp_path: Path) -> None:
    routes = (GTFS_DIR / "routes.txt").read_text(encoding="utf-8").splitlines()
    head = routes[0].split(",")
    cells = routes[1].split(",")
    cells[head.index("route_type")] = "²"
    st = (GTFS_DIR / "stop_times.txt").read_text(encoding="utf-8").splitlines()
    sthead = st[0].split(",")
    row = st[1].split(",")
    row[sthead.index("stop_sequence")] = "99999999999999999999999"
    bad_type = _zip(
        tmp_path,
        "digits.zip",
        {"routes.txt": "\n".join([routes[0], ",".join(cells), *routes[2:]]).encode() + b"\n"},
    )
    assert ("routes.txt", 2, "route_type") in {
        (i.file, i.line, i.field) for i in inspect_feed(bad_type).errors()
    }
    bad_seq = _zip(
        tmp_path, "seq.zip", {"stop_times.txt": "\n".join([st[0], ",".join(row), *st[2:]]).encode() + b"\n"}
    )
    assert ("stop_times.txt", 2, "stop_sequence") in {
        (i.file, i.line, i.field) for i in inspect_feed(bad_seq).errors()
    }


def _bomb(tmp_path: Path, size: int) -> Path:
    """The demo feed plus a shapes.txt of ``size`` bytes of repeated rows, streamed into the zip."""
    out = _zip(tmp_path, "bomb.zip")
    row = b"S1,34.178000,131.474000,1\n" * 4096
    with (
        zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as z,
        z.open("shapes.txt", "w", force_zip64=True) as f,
    ):
        f.write(b"shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n")
        written = 0
        while written < size:
            f.write(row)
            written += len(row)
    return out


def test_a_zip_bomb_is_refused_from_its_directory_without_decompressing(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path, 300 * MIB)
    assert bomb.stat().st_size < 3 * MIB  # ~300 MB of rows in a few MB
    # Break the deflate stream: were the member decompressed, the answer would be a zlib error instead.
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo("shapes.txt")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 100 : start + 140] = b"\xff" * 40
    bomb.write_bytes(bytes(data))
    code, lines = _validate(bomb)
    assert code == 1
    assert lines == [
        f"error: {bomb}: shapes.txt expands to 300 MiB (limit 256 MiB): refused as a possible zip bomb"
    ]


def test_a_feed_past_a_small_budget_is_refused_and_the_ratio_limit_applies(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path, 8 * MIB)
    with pytest.raises(FeedError, match=r"shapes\.txt expands \d+ times"):
        check_budget(bomb)  # 8 MiB of one repeated row compresses far more than 100x
    with pytest.raises(FeedError, match=r"files expand to \d+ MiB \(limit 4 MiB\)"):
        check_budget(bomb, SizeBudget(max_total_bytes=4 * MIB, max_ratio=10_000))


def test_reading_a_member_stops_at_the_member_limit(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path, 2 * MIB)
    small = SizeBudget(max_member_bytes=1 * MIB, max_total_bytes=64 * MIB, max_ratio=10_000)
    with pytest.raises(FeedError, match=r"shapes\.txt: larger than its size limit"):
        for _ in read_table(bomb, "shapes.txt", small):
            pass
