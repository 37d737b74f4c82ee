"""The REST service (FastAPI): `create_app(Settings(...))`, started by `nlp-engine serve`."""

from __future__ import annotations

from .app import Settings, create_app, tokens_from_env

__all__ = ["Settings", "create_app", "tokens_from_env"]
