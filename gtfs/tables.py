"""Read one GTFS table (``name.txt``) from a feed given as a zip file or a folder.

Copes with the quirks of real feeds: a UTF-8 byte-order mark, CRLF line ends, and spaces around
header names. Rows come back as ``dict[str, str]`` with their line number (the header is line 1).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path


class FeedError(ValueError):
    """A feed or one of its files cannot be read; the message names the feed and file."""


def has_table(feed: str | Path, name: str) -> bool:
    p = Path(feed)
    if p.is_dir():
        return (p / name).is_file()
    try:
        with zipfile.ZipFile(p) as z:
            return any(Path(n).name == name for n in z.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise FeedError(f"{p}: not a readable GTFS zip or folder: {exc}") from None


def read_bytes(feed: str | Path, name: str) -> bytes:
    """The raw bytes of one file of a feed (zip member matched by file name, or a file in a folder)."""
    p = Path(feed)
    if not p.exists():
        raise FeedError(f"{p}: feed not found")
    try:
        if p.is_dir():
            return (p / name).read_bytes()
        with zipfile.ZipFile(p) as z:
            member = next((n for n in z.namelist() if Path(n).name == name), None)
            if member is None:
                raise FeedError(f"{p}: {name} is missing")
            return z.read(member)
    except FileNotFoundError:
        raise FeedError(f"{p}: {name} is missing") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise FeedError(f"{p}: cannot read {name}: {exc}") from None


def read_table(feed: str | Path, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)`` for each data row of ``name`` (e.g. ``"fare_rules.txt"``)."""
    p = Path(feed)
    raw = read_bytes(p, name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FeedError(f"{p}/{name}: not UTF-8 ({exc})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise FeedError(f"{p}/{name}: empty file (no header line)")
    header = [h.strip() for h in header]
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        cells = [c.strip() for c in row]
        if len(cells) < len(header):  # short rows (or a stray quote) leave the missing fields empty
            cells += [""] * (len(header) - len(cells))
        yield reader.line_num, dict(zip(header, cells, strict=False))
