"""Read one GTFS table (``name.txt``) from a feed given as a zip file or a folder.

Copes with the quirks of real feeds: a UTF-8 byte-order mark, CRLF line ends, and spaces around
header names. Rows come back as ``dict[str, str]`` with their line number (the header is line 1).

Hostile input is refused with ``FeedError`` naming the file and line, never another exception: a zip
whose members would expand past a size budget (a zip bomb) is refused from its directory before
anything is decompressed; tables are streamed row by row (memory stays per row, not per file); a
corrupt member (``zlib.error``, bad CRC), text that is not UTF-8, an unterminated quote or a field
over the CSV field limit (128 KiB) each become one ``FeedError`` such as
``feed.zip: stops.txt:12: unterminated quoted field``.
"""

from __future__ import annotations

import csv
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class SizeBudget:
    """How much a feed may expand to. Real feeds: JR Bus Chugoku is 10.8 MB from a 1.9 MB zip (5.8x),
    the largest member 4.1 MB; members compress 3-12x. A zip bomb compresses hundreds of times."""

    max_total_bytes: int = 256 * MIB  # all members together, uncompressed
    max_member_bytes: int = 256 * MIB
    max_ratio: float = 100.0  # uncompressed / compressed, checked for members over ratio_floor_bytes
    ratio_floor_bytes: int = 1 * MIB
    max_members: int = 10_000


DEFAULT_BUDGET = SizeBudget()


class FeedError(ValueError):
    """A feed or one of its files cannot be read; the message names the feed and file. When one table
    of the feed is at fault, ``file``, ``line`` and ``reason`` say where and why."""

    def __init__(
        self, message: str, *, file: str | None = None, line: int | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.file, self.line, self.reason = file, line, reason


def _table_error(p: Path, name: str, line: int | None, reason: str) -> FeedError:
    at = f"{name}:{line}" if line else name
    return FeedError(f"{p}: {at}: {reason}", file=name, line=line, reason=reason)


# Everything the standard library raises on a corrupt or truncated zip (a bit-flipped header can give
# struct.error, ValueError or NotImplementedError for an "unsupported compression method"; a flipped
# bit in the deflate stream gives zlib.error; an "encrypted" flag gives RuntimeError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    struct.error,
    ValueError,
    OverflowError,
    IndexError,
    KeyError,
)


def _open_zip(p: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(p)
    except _ZIP_ERRORS as exc:
        raise FeedError(f"{p}: not a readable GTFS zip or folder: {_why(exc)}") from None


def _why(exc: BaseException) -> str:
    """One line: the exception's kind (``zlib.error``, ``zipfile.BadZipFile``) and its first line."""
    kind = type(exc).__qualname__
    if type(exc).__module__ not in ("builtins", "__main__"):
        kind = f"{type(exc).__module__}.{kind}"
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{kind}: {text}" if text else kind


def check_budget(feed: str | Path, budget: SizeBudget = DEFAULT_BUDGET) -> list[str]:
    """The feed's file names (sorted), after refusing a feed whose files would expand past ``budget``.
    Reads only the zip directory (or the folder's file sizes): a zip bomb is refused in milliseconds."""
    p = Path(feed)
    if p.is_dir():
        files = [f for f in p.iterdir() if f.is_file()]
        sizes = [(f.name, f.stat().st_size, f.stat().st_size) for f in files]
    else:
        with _open_zip(p) as z:
            try:
                infos = [i for i in z.infolist() if not i.is_dir()]
            except _ZIP_ERRORS as exc:
                raise FeedError(f"{p}: not a readable GTFS zip or folder: {_why(exc)}") from None
            sizes = [(Path(i.filename).name, i.file_size, i.compress_size) for i in infos]
    if len(sizes) > budget.max_members:
        raise FeedError(f"{p}: {len(sizes)} files (limit {budget.max_members}): refused")
    total = 0
    for name, size, packed in sizes:
        total += size
        if size > budget.max_member_bytes:
            raise FeedError(
                f"{p}: {name} expands to {size / MIB:.0f} MiB "
                f"(limit {budget.max_member_bytes / MIB:.0f} MiB): refused as a possible zip bomb"
            )
        if size > budget.ratio_floor_bytes and size > budget.max_ratio * max(packed, 1):
            raise FeedError(
                f"{p}: {name} expands {size / max(packed, 1):.0f} times ({packed} -> {size} bytes; limit "
                f"{budget.max_ratio:.0f}x): refused as a possible zip bomb"
            )
    if total > budget.max_total_bytes:
        raise FeedError(
            f"{p}: files expand to {total / MIB:.0f} MiB (limit {budget.max_total_bytes / MIB:.0f} MiB): "
            "refused as a possible zip bomb"
        )
    return sorted(name for name, _, _ in sizes)


def has_table(feed: str | Path, name: str) -> bool:
    p = Path(feed)
    if p.is_dir():
        return (p / name).is_file()
    with _open_zip(p) as z:
        try:
            return any(Path(n).name == name for n in z.namelist())
        except _ZIP_ERRORS as exc:
            raise FeedError(f"{p}: not a readable GTFS zip or folder: {_why(exc)}") from None


class _Capped(io.RawIOBase):
    """A byte stream that refuses to give more than ``limit`` bytes (a member whose directory entry
    lies about its size cannot expand past the budget either)."""

    def __init__(self, raw: IO[bytes], limit: int, p: Path, name: str) -> None:
        self._raw, self._left, self._p, self._name = raw, limit, p, name

    def _error(self) -> FeedError:
        why = "larger than its size limit: refused as a possible zip bomb"
        return _table_error(self._p, self._name, None, why)

    def readable(self) -> bool:
        return True

    def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(min(len(buf), self._left + 1))
        if len(data) > self._left:
            raise self._error()
        self._left -= len(data)
        buf[: len(data)] = data
        return len(data)


@contextmanager
def _member(p: Path, name: str, budget: SizeBudget) -> Iterator[IO[bytes]]:
    """The bytes of one feed file as a stream (zip member matched by file name, or a file in a folder)."""
    if not p.exists():
        raise FeedError(f"{p}: feed not found")
    if p.is_dir():
        try:
            f = (p / name).open("rb")
        except FileNotFoundError:
            raise _table_error(p, name, None, "is missing") from None
        except OSError as exc:
            raise _table_error(p, name, None, f"cannot read: {_why(exc)}") from None
        with f:
            yield io.BufferedReader(_Capped(f, budget.max_member_bytes, p, name), 1 << 16)
        return
    with _open_zip(p) as z:
        try:
            member = next((i for i in z.infolist() if Path(i.filename).name == name), None)
            if member is None:
                raise _table_error(p, name, None, "is missing")
            raw = z.open(member)
        except FeedError:
            raise
        except _ZIP_ERRORS as exc:
            raise _table_error(p, name, None, f"cannot read: {_why(exc)}") from None
        with raw:
            yield io.BufferedReader(_Capped(raw, budget.max_member_bytes, p, name), 1 << 16)


def read_bytes(feed: str | Path, name: str, budget: SizeBudget = DEFAULT_BUDGET) -> bytes:
    """The raw bytes of one file of a feed (zip member matched by file name, or a file in a folder)."""
    p = Path(feed)
    with _member(p, name, budget) as f:
        try:
            return f.read()
        except FeedError:
            raise
        except _ZIP_ERRORS as exc:
            raise _table_error(p, name, None, f"cannot read: {_why(exc)}") from None


def read_table(
    feed: str | Path, name: str, budget: SizeBudget = DEFAULT_BUDGET
) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)`` for each data row of ``name`` (e.g. ``"fare_rules.txt"``).

    Raises ``FeedError`` (``feed: name:line: why``) at the first row that cannot be read; the rows
    before it have been yielded."""
    p = Path(feed)
    with _member(p, name, budget) as raw:
        lines = _text_lines(raw, p, name)
        # strict: an unterminated quote is an error at its line, not a field swallowing the rest of the file
        reader = csv.reader(lines, strict=True)
        line = 1
        try:
            header = next(reader, None)
            if header is None:
                raise _table_error(p, name, 1, "empty file (no header line)")
            header = [h.strip() for h in header]
            while True:
                line = reader.line_num + 1
                row = next(reader, None)
                if row is None:
                    return
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                cells = [c.strip() for c in row]
                if len(cells) < len(header):  # short rows leave the missing fields empty
                    cells += [""] * (len(header) - len(cells))
                yield reader.line_num, dict(zip(header, cells, strict=False))
        except FeedError:
            raise
        except csv.Error as exc:
            raise _table_error(p, name, line, _csv_why(exc)) from None
        except _ZIP_ERRORS as exc:
            raise _table_error(p, name, line, f"corrupt data in the zip: {_why(exc)}") from None


MAX_LINE_BYTES = 1 * MIB


def _text_lines(raw: IO[bytes], p: Path, name: str) -> Iterator[str]:
    """Decoded physical lines (ends kept, CRLF, LF or CR), one at a time, so an encoding error names its
    line; a line over ``MAX_LINE_BYTES`` is refused instead of being read whole."""
    number = 0
    first = True
    while True:
        chunk = raw.readline(MAX_LINE_BYTES + 1)
        if not chunk:
            return
        if len(chunk) > MAX_LINE_BYTES:
            raise _table_error(p, name, number + 1, f"a line is longer than {MAX_LINE_BYTES // MIB} MiB")
        for piece in chunk.splitlines(keepends=True):
            number += 1
            if first:
                first = False
                piece = piece.removeprefix(b"\xef\xbb\xbf")
            try:
                yield piece.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _table_error(
                    p, name, number, f"not UTF-8 ({exc.reason} at byte {exc.start} of the line)"
                ) from None


def _csv_why(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "unterminated quoted field (a quote opened here is never closed)"
    if "field larger than field limit" in text:
        return f"a field is longer than {csv.field_size_limit() // 1024} KiB (the CSV field limit)"
    return f"bad CSV: {text}"
