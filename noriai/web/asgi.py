"""The app as an import string for ``uvicorn --workers N`` (``noriai.web.asgi:app``).

Each worker process builds the app from the environment (``Settings``): the database, Redis and the
role (``ROLE``). ``noriai serve --workers N`` has already migrated the database and imported the city
in the parent, so workers skip that (``prepare=False``); with ``NORIAI_DEMO=1`` the demo's planner
and pages are served as by ``noriai serve --demo``.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from noriai.logs import configure_logging
from noriai.settings import Settings
from noriai.web.app import create_app


def _app() -> FastAPI:
    settings = Settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)  # each worker is a new process
    demo = None
    if os.environ.get("NORIAI_DEMO") == "1":
        from noriai.demo import reference_data

        demo = reference_data()
    return create_app(settings, demo, prepare=False)


app = _app()
