"""GTFS times: ``H:MM:SS`` or ``HH:MM:SS`` since noon minus 12 h of the service day; may pass 24:00."""

from __future__ import annotations

from datetime import date


def parse_time(text: str) -> int:
    """Seconds after the service day's midnight; raises ValueError with the text for bad input."""
    parts = text.strip().split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"bad time {text!r} (expected HH:MM:SS)")
    h, m, s = (int(p) for p in parts)
    if m > 59 or s > 59 or h > 72:
        raise ValueError(f"bad time {text!r} (minutes/seconds over 59 or hours over 72)")
    return h * 3600 + m * 60 + s


def format_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def parse_date(text: str) -> date:
    t = text.strip()
    if len(t) != 8 or not t.isdigit():
        raise ValueError(f"bad date {text!r} (expected YYYYMMDD)")
    try:
        return date(int(t[:4]), int(t[4:6]), int(t[6:]))
    except ValueError as exc:
        raise ValueError(f"bad date {text!r}: {exc}") from None
