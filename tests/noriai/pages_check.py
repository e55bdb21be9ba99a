"""What every page test does once a page shows what it should: an accessibility check with axe-core
(vendored from the npm registry under tests/vendor/axe-core) and screenshots at 1280 px and 390 px.

Screenshots go to ``$NORIAI_ARTEFACTS`` or ``var/artefacts/screenshots`` (gitignored), named
``<name>-1280.png`` and ``<name>-390.png``, so a reviewer can look without running a browser.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)


def artefacts_dir() -> Path:
    d = Path(os.environ.get("NORIAI_ARTEFACTS", ROOT / "var" / "artefacts" / "screenshots"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now, at the given impacts (WCAG 2.1 A/AA rules)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag',
             values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def check_page(page: Page, name: str) -> None:
    """Axe finds no serious or critical problem; the page does not scroll sideways at 390 px; both
    widths are photographed. The viewport is put back as it was."""
    before = page.viewport_size
    out = artefacts_dir()
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
        violations = axe_violations(page)
        problems += [f"{width}px {v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in violations]
        if width < 600:
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{width}px: the page scrolls sideways by {overflow}px")
    if before:
        page.set_viewport_size(before)
    assert not problems, f"{name}:\n" + "\n".join(problems)
