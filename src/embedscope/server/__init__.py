"""The local web explorer: a FastAPI app over a workspace, serving the built front end (``web/``)."""

from .app import create_app

__all__ = ["create_app"]
