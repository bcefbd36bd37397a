"""``formserver serve``: the application behind Granian (``formserver/server.py``)."""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Commands, Context


def register(commands: Commands) -> None:
    serve_parser = commands.command("serve", serve, help="serve with a production WSGI server")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=5000)
    serve_parser.add_argument("--workers", type=int, default=None)
    serve_parser.add_argument("--threads", type=int, default=None, help="threads per worker")


def serve(context: Context, args: Namespace) -> None:
    from ..server import run

    run(context.settings, host=args.host, port=args.port, workers=args.workers, threads=args.threads)
