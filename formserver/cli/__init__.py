"""The ``formserver`` command: a contract other tools and tests rely on.

Every command exits non-zero with a one-line reason on error.

The parser is assembled from the areas, one module each (``database``, ``accounts``, ``forms``,
``serve``, ``phones``, ``submissions``, ``exports``, ``network``, ``maintenance``): an area's ``register`` adds
its commands with ``Commands.command``, and the areas never import this package back. An area imports
what a command uses only when that command runs, so ``formserver --help`` loads neither Flask,
SQLAlchemy nor pyxform.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..config import Settings
from ..translations import N_
from . import accounts, database, exports, forms, maintenance, network, phones, serve, submissions
from .output import say_error

AREAS = (database, accounts, forms, serve, phones, submissions, exports, network, maintenance)  # in the order --help lists them


class Context:
    """What every command needs: the settings, the database and the blob store."""

    def __init__(self, settings: Settings):
        from ..db import Database
        from ..storage import BlobStore

        self.settings = settings
        self.database = Database(settings)
        self.blobs = BlobStore(settings.blob_dir)

    def session(self):
        return self.database.session_scope()


Handler = Callable[[Context, argparse.Namespace], int | None]


class Commands:
    """The parser as the areas build it; each command's parser knows the function that runs it."""

    def __init__(self) -> None:
        self.parser = argparse.ArgumentParser(
            prog="formserver", description="A data-collection server for ODK Collect."
        )
        self._areas = self.parser.add_subparsers(dest="area", required=True)
        self._actions: dict[str, argparse._SubParsersAction] = {}

    def area(self, name: str, help: str) -> None:
        """``formserver NAME ACTION ...``: a command made of actions, each added as ``"NAME ACTION"``."""
        self._actions[name] = self._areas.add_parser(name, help=help).add_subparsers(dest="action", required=True)

    def command(self, name: str, handler: Handler, *, needs_schema: bool = True, **options) -> argparse.ArgumentParser:
        """Add ``formserver NAME`` (``"area action"``, or a command without actions) run by ``handler``;
        return its parser for its arguments. ``needs_schema=False``: the command creates or upgrades the tables."""
        area, _, action = name.partition(" ")
        parsers = self._actions[area] if action else self._areas
        parser = parsers.add_parser(action or area, **options)
        parser.set_defaults(handler=handler, needs_schema=needs_schema)
        return parser


def build_parser() -> argparse.ArgumentParser:
    commands = Commands()
    for area in AREAS:
        area.register(commands)
    return commands.parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Only a command that runs needs these (Alembic and lxml among them), not --help or a usage error.
    from .. import migrate
    from ..problems import Problem
    from ..xlsform import FormError

    try:
        context = Context(Settings.from_env())
        if args.needs_schema and (revision := migrate.pending(context.database.engine)) is not None:
            say_error(
                N_(
                    "the database is not set up for this version of formserver (it is at revision %(revision)s): "
                    "run `formserver db upgrade` (or `formserver setup`) first"
                ),
                revision=revision,
            )
            return 1
        result = args.handler(context, args)
    except (Problem, FormError) as error:
        print(f"formserver: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"formserver: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    return result or 0
