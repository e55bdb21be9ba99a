"""Where the shared test data lives: ``../shared`` beside the project root (never copied into it)."""

from __future__ import annotations

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared"


def shared(*parts: str) -> Path:
    """A path under ../shared, e.g. ``shared("feeds", "gtfs")``."""
    return SHARED.joinpath(*parts)
