"""Problems found in a city bundle, each naming the file and the line (CSV, TOML) or feature (GeoJSON)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Issue:
    file: str
    message: str
    line: int | None = None
    feature: int | None = None  # 1-based index of a GeoJSON feature
    field: str | None = None
    severity: Severity = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        elif self.feature is not None:
            where += f": feature {self.feature}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class Issues(list[Issue]):
    """Collects issues for one file at a time."""

    def error(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        feature: int | None = None,
        field: str | None = None,
    ) -> None:
        self.append(Issue(file, message, line, feature, field, "error"))

    def warn(  # same arguments as error(); a warning never fails a check
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        feature: int | None = None,
        field: str | None = None,
    ) -> None:
        self.append(Issue(file, message, line, feature, field, "warning"))

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self if i.severity == "warning"]


class TomlLines:
    """Line numbers in a TOML file for ``[[table]]`` entries and their keys (tomllib keeps none).

    Entries are counted in file order, so the n-th ``[[company.vehicle]]`` header is the n-th vehicle
    over all companies. A key written on the header's own block is found; anything else (inline
    tables, arrays of tables written inline) falls back to the header's line or no line.
    """

    _HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-]+)\s*\]\]?")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: dict[str, list[int]] = {}
        for n, raw in enumerate(self.lines, start=1):
            m = self._HEADER.match(raw)
            if m and raw.strip().startswith("[["):
                self.headers.setdefault(m.group(1), []).append(n)

    def of(self, table: str, index: int, key: str | None = None) -> int | None:
        found = self.headers.get(table, [])
        if index >= len(found):
            return None
        start = found[index]
        if key is None:
            return start
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for n in range(start + 1, len(self.lines) + 1):
            raw = self.lines[n - 1]
            if self._HEADER.match(raw):
                break
            if pattern.match(raw):
                return n
        return start

    def in_table(self, table: str, key: str | None = None) -> int | None:
        """The line of ``[table]`` (a plain table), or of ``key`` inside it (else the header's)."""
        header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
        for n, raw in enumerate(self.lines, start=1):
            if header.match(raw):
                if key is None:
                    return n
                pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
                for m in range(n + 1, len(self.lines) + 1):
                    if self._HEADER.match(self.lines[m - 1]):
                        break
                    if pattern.match(self.lines[m - 1]):
                        return m
                return n
        return None

    def top_level(self, key: str) -> int | None:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for n, raw in enumerate(self.lines, start=1):
            if self._HEADER.match(raw):
                return None
            if pattern.match(raw):
                return n
        return None
