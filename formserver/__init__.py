"""formserver: a mobile data-collection server for ODK Collect.

``from formserver import create_app`` still finds the application factory, which lives in ``app.py``:
it is loaded on first use, so that the ``formserver`` command starts without Flask.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name == "create_app":
        from .app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
