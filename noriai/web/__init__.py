"""The web app: one FastAPI application serving the API and the pages."""

from noriai.web.app import create_app

__all__ = ["create_app"]
