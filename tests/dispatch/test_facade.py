"""``DispatchService`` stays a thin facade with the public methods its callers (web, planner,
simulator, city import) have always used, and the use-case modules it hands over to import no cycle."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import dispatch
from dispatch.service import DispatchService

PUBLIC_METHODS = {
    "add_return", "add_rule", "audit_trail", "book_guest", "booking", "bookings", "call", "cancel",
    "check_day", "confirm", "materialise", "now", "preview", "quote", "read_back", "reoptimise_day",
    "report_position", "resolve", "reusable_trips", "rider", "rider_for", "runs", "search_riders",
    "restore_vehicle", "service_seconds", "stop_event", "vehicle", "vehicle_breakdown", "wall_clock",
}  # fmt: skip
MAX_MODULE_LINES = 500


def test_the_facade_keeps_every_public_method_of_the_former_service() -> None:
    """Every method callers used before the split is still there, and nothing public vanished."""
    methods = {n for n, f in inspect.getmembers(DispatchService, inspect.isfunction) if not n.startswith("_")}
    assert methods == PUBLIC_METHODS


def test_no_dispatch_module_is_over_500_lines() -> None:
    """One module per use case: each stays short enough to read in one sitting."""
    root = Path(dispatch.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in root.glob("*.py")}
    assert {n: s for n, s in sizes.items() if s > MAX_MODULE_LINES} == {}


def test_dispatch_modules_import_each_other_without_a_cycle() -> None:
    """The use-case modules form a directed acyclic graph (service on top, context and errors below)."""
    root = Path(dispatch.__file__).parent
    graph: dict[str, set[str]] = {}
    for p in root.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("dispatch.") and node.module.count(".") == 1:
                    deps.add(node.module.split(".")[1])
                elif node.module == "dispatch":
                    deps |= {a.name for a in node.names}
        graph[p.stem] = deps
    state: dict[str, int] = {}

    def visit(m: str, path: tuple[str, ...]) -> None:
        if state.get(m) == 2:
            return
        assert state.get(m) != 1, f"import cycle: {' -> '.join((*path, m))}"
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            visit(d, (*path, m))
        state[m] = 2

    for m in sorted(graph):
        visit(m, ())
