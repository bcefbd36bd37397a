"""``formserver export``: an export written to a file, and the rebuild of the flattened copies.

    formserver export SLUG FORM_ID -o FILE [--lang th|en] [--format xlsx|csv] [--since DATE] [--until DATE]
                      [--header both|names|labels] [--values labels|names] [--no-bom] [--media] [--version V]
                      [--passphrase-file F | --private-key FILE.pem]
    formserver export rebuild SLUG FORM_ID

An operator's tool: no permission check, but every export is written to the audit log.
An encrypted form's export is decrypted on the fly with the form's passphrase or the
private key brought for it; the answers in clear go only into the -o file.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..translations import N_
from .forms import read_passphrase
from .output import say_error

if TYPE_CHECKING:
    from . import Commands, Context


def register(commands: Commands) -> None:
    export = commands.command(
        "export",
        export_command,
        usage="formserver export SLUG FORM_ID -o FILE [options]\n       formserver export rebuild SLUG FORM_ID",
        help="export a form's submissions to an Excel workbook or a zip of CSV files",
        description="Export a form's submissions (all versions unless --version). "
        "'formserver export rebuild SLUG FORM_ID' recomputes the flattened copies exports read.",
    )
    export.add_argument("slug", help="the organisation (or 'rebuild')")
    export.add_argument("form_id")
    export.add_argument("rebuild_form_id", nargs="?", help=argparse.SUPPRESS)
    export.add_argument("-o", "--output", type=Path, help="the file to write")
    export.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    export.add_argument("--lang", help="th or en (or a language name of the form); default: the form's default")
    export.add_argument("--since", help="received on or after DATE (YYYY-MM-DD, or a date and time)")
    export.add_argument("--until", help="received on or before DATE (that whole day)")
    export.add_argument("--header", choices=("both", "names", "labels"), default="both")
    export.add_argument("--values", choices=("labels", "names"), default="labels", help="choices as labels or names")
    export.add_argument("--no-bom", action="store_true", help="CSV files without a byte order mark")
    export.add_argument("--media", action="store_true", help="a zip with the export and the attachments in media/")
    export.add_argument("--version", dest="form_version", help="only this form version")
    key = export.add_mutually_exclusive_group()
    key.add_argument("--passphrase-file", type=Path, help="an encrypted form: a file whose first line is its passphrase")
    key.add_argument("--private-key", type=Path, help="an encrypted form with its own key: the private key (PEM)")


def export_command(context: Context, args: argparse.Namespace) -> int | None:
    if args.rebuild_form_id is not None:
        if args.slug != "rebuild":
            say_error(N_("use 'formserver export SLUG FORM_ID -o FILE' or 'formserver export rebuild SLUG FORM_ID'"))
            return 2
        return _rebuild(context, args.form_id, args.rebuild_form_id)
    if args.output is None:
        say_error(N_("say where to write the export with -o FILE"))
        return 2
    from .. import accounts, audit, forms
    from ..db import reading_session
    from ..exports.decrypting import export_key
    from ..exports.export import ExportOptions, run_export
    from ..exports.flatten import ensure_flattened
    from ..models import Form, Organisation

    options = ExportOptions.from_dict(
        {
            "format": args.format,
            "lang": args.lang,
            "header": args.header,
            "values": args.values,
            "since": args.since,
            "until": args.until,
            "bom": not args.no_bom,
            "media": args.media,
            "version": args.form_version,
        }
    )
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        form = forms.form_by_id(session, organisation, args.form_id)
        key = export_key(
            session,
            form,
            passphrase=read_passphrase(args.passphrase_file) if args.passphrase_file else None,
            private_pem=args.private_key.read_bytes() if args.private_key else None,
        )
        ensure_flattened(session, form)
        organisation_pk, form_pk = organisation.id, form.id
    output: Path = args.output
    partial = output.with_name(f".{output.name}.partial")
    bar = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        with reading_session(context.settings) as reader:
            result = run_export(
                reader,
                context.settings,
                reader.get(Organisation, organisation_pk),
                reader.get(Form, form_pk),
                options,
                partial,
                blobs=context.blobs,
                progress=bar,
                spool_dir=output.resolve().parent,
                file_stem=output.name.split(".")[0] if options.media and options.format == "xlsx" else None,
                key=key,
            )
        os.replace(partial, output)
    except BaseException:
        if partial.exists():
            partial.unlink()
        raise
    finally:
        if bar is not None:
            bar.finish()
    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        audit.record(
            session,
            "export.create",
            organisation=organisation,
            target=args.form_id,
            via="command line",
            **{key: value for key, value in options.to_dict().items() if value not in (None, False)},
        )
    tables = ", ".join(f"{name} {count:,}" for name, count in result.tables.items())
    media = f"; {result.media_files:,} media files" if options.media else ""
    failed = f"; {result.not_decrypted:,} not decrypted (listed with the reason)" if result.not_decrypted else ""
    print(f"{output}: {result.submissions:,} submissions ({tables}){media}{failed}")
    return None


def _rebuild(context: Context, slug: str, form_id: str) -> None:
    from .. import accounts, forms
    from ..exports.flatten import rebuild

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, slug)
        form = forms.form_by_id(session, organisation, form_id)
        count = rebuild(session, form)
    print(f"{form_id}: rebuilt the flattened copy of {count:,} submissions")


class ProgressBar:
    """``[#####-----]  52%  10,400/20,000 submissions`` on a terminal, redrawn at most ten times a second."""

    def __init__(self, stream, width: int = 30):
        self.stream = stream
        self.width = width
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        fraction = done / total if total else 1.0
        filled = int(self.width * fraction)
        self.stream.write(
            f"\r[{'#' * filled}{'-' * (self.width - filled)}] {fraction * 100:3.0f}%  {done:,}/{total:,} submissions"
        )
        self.stream.flush()
        self.shown = True

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()
