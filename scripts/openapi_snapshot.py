"""Write the demo app's OpenAPI document as canonical JSON (keys sorted), to compare two versions.

    .venv/bin/python scripts/openapi_snapshot.py before.json
    ... change the routes ...
    .venv/bin/python scripts/openapi_snapshot.py after.json && diff before.json after.json

A refactoring of the routes (moving them between modules, routers or files) must leave the document
as it was: the same paths and methods, operation ids, parameters, request and response schemas. The
order of the paths is printed separately (``--order``), since it follows the order routers are
included and says nothing about what a client can call.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from noriai.demo import reference_data
from noriai.settings import Settings
from noriai.web import create_app


def document() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{Path(tmp) / 'openapi.db'}", reoptimise_interval_s=0)
        with TestClient(create_app(settings, reference_data())) as client:
            doc: dict[str, object] = client.get("/openapi.json").json()
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="where to write the document (- for stdout)")
    ap.add_argument("--order", action="store_true", help="write the paths in document order instead")
    args = ap.parse_args()
    doc = document()
    paths = doc["paths"]
    assert isinstance(paths, dict)
    text = (
        "\n".join(f"{m.upper()} {p}" for p, ops in paths.items() for m in ops) + "\n"
        if args.order
        else json.dumps(doc, sort_keys=True, indent=1, ensure_ascii=False) + "\n"
    )
    if str(args.out) == "-":
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
