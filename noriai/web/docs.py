"""``/docs`` (Swagger UI) and ``/redoc`` from vendored files under ``static/vendor`` (no CDN), so the
API reference works offline; ``/static`` serves the app's own CSS and JavaScript too."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


SWAGGER_A11Y_CSS = "/static/docs/swagger-a11y.css"
SWAGGER_A11Y_JS = "/static/docs/swagger-a11y.js"


def _with_lang(page: HTMLResponse) -> HTMLResponse:
    """FastAPI's page with ``<html lang="en">`` (screen readers pick the voice from it)."""
    body = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
    return HTMLResponse(body.decode())


def _accessible_swagger(page: HTMLResponse) -> HTMLResponse:
    """Swagger UI's page with our colour overrides after its stylesheet (contrast of at least 4.5:1),
    our script naming the fields it leaves unnamed, and its mount point as the ``<main>`` landmark."""
    body = bytes(page.body).decode()
    css = f'<link type="text/css" rel="stylesheet" href="{SWAGGER_A11Y_CSS}">'
    body = body.replace("</head>", f"{css}\n</head>", 1)
    body = body.replace("</body>", f'<script src="{SWAGGER_A11Y_JS}"></script>\n</body>', 1)
    body = re.sub(r'<div id="swagger-ui">\s*</div>', '<main id="swagger-ui"></main>', body, count=1)
    return _with_lang(HTMLResponse(body))


def install_static_and_docs(app: FastAPI) -> None:
    """Mount ``/static`` and add ``/docs`` and ``/redoc``; the app must be built with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN-backed pages are not registered."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _accessible_swagger(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} — API",
                swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
                # without deep links an operation's path is plain text inside its toggle button, not
                # a link nested in a button (axe: nested-interactive; screen readers cannot reach it)
                swagger_ui_parameters={"deepLinking": False},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _with_lang(
            get_redoc_html(
                openapi_url=openapi_url,
                title=f"{app.title} — API",
                redoc_js_url="/static/vendor/redoc/redoc.standalone.js",
                redoc_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
                with_google_fonts=False,
            )
        )
