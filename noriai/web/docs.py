"""``/docs`` (Swagger UI) and ``/redoc`` from vendored files under ``static/vendor`` (no CDN), so the
API reference works offline; ``/static`` serves the app's own CSS and JavaScript too."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"


def _with_lang(page: HTMLResponse) -> HTMLResponse:
    """FastAPI's page with ``<html lang="en">`` (screen readers pick the voice from it)."""
    body = bytes(page.body).replace(b"<html>", b'<html lang="en">', 1)
    return HTMLResponse(body.decode())


def install_static_and_docs(app: FastAPI) -> None:
    """Mount ``/static`` and add ``/docs`` and ``/redoc``; the app must be built with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN-backed pages are not registered."""
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return _with_lang(
            get_swagger_ui_html(
                openapi_url=openapi_url,
                title=f"{app.title} — API",
                swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
                swagger_favicon_url="/static/vendor/swagger-ui/favicon-32x32.png",
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
