"""Each package's public surface, as ARCHITECTURE.md documents it, is what its ``__init__`` exports."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ARCHITECTURE = Path(__file__).resolve().parents[1] / "ARCHITECTURE.md"


def _documented() -> dict[str, set[str]]:
    """package -> names in the 'public surface' column of the packages table (members in brackets,
    like ``TravelTimeModel`` (``leg``, ``matrix``), are left out)."""
    out: dict[str, set[str]] = {}
    for line in ARCHITECTURE.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^\| `(\w+)/` \|.*\| ([^|]+) \|$", line)
        if m is None:
            continue
        surface = re.sub(r"\([^)]*\)", "", m.group(2))
        names = set(re.findall(r"`([A-Za-z_]\w*)`", surface))
        if names:
            out[m.group(1)] = names
    return out


DOCUMENTED = _documented()


def test_the_architecture_table_documents_the_packages_with_a_surface() -> None:
    """The parser finds the table: a change of its layout must not silently skip every check."""
    assert {"geo", "fares", "gtfs", "solver", "bus_location", "planner", "bikeshare", "dispatch"} <= set(
        DOCUMENTED
    )


@pytest.mark.parametrize("package", sorted(DOCUMENTED))
def test_every_documented_name_is_exported_by_the_package(package: str) -> None:
    """Documented names are in ``__all__``, and everything in ``__all__`` exists."""
    module = importlib.import_module(package)
    exported = set(getattr(module, "__all__", ()))
    assert DOCUMENTED[package] - exported == set()
    assert [n for n in sorted(exported) if not hasattr(module, n)] == []
