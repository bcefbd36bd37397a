"""``formserver network ...``: an organisation's forms in the network's pooled figures, their facts,
and a table of the figures as anyone may see them (suppressed) in a CSV or XLSX file."""

from __future__ import annotations

import datetime as dt
import sys
from argparse import Namespace
from pathlib import Path
from typing import TYPE_CHECKING

from ..translations import N_
from .output import say_error

if TYPE_CHECKING:
    from . import Commands, Context


def register(commands: Commands) -> None:
    commands.area("network", help="the network's pooled figures: sharing a form, rebuilding the facts")
    share = commands.command(
        "network share", network_share, help="count a form's submissions in the network figures (on) or stop (off)"
    )
    share.add_argument("slug")
    share.add_argument("form_id")
    share.add_argument("state", choices=("on", "off"))
    table = commands.command(
        "network table", network_table,
        help="a cross-table of a pooled form, small counts suppressed: CSV on standard output, or -o FILE.xlsx|FILE.csv",
    )
    table.add_argument("form_id")
    table.add_argument("--rows", required=True, help="the field counted by, one row per choice")
    table.add_argument("--columns", help="a second field, one column per choice")
    table.add_argument("--unit", help="count the rows of this repeat (persons: member) instead of households")
    table.add_argument("--since", help="from this month on (YYYY-MM or YYYY-MM-DD)")
    table.add_argument("--until", help="up to this month, inclusive (YYYY-MM or YYYY-MM-DD)")
    table.add_argument("--filter", action="append", default=[], metavar="FIELD=CHOICE[,CHOICE]",
                       help="only units whose answer is one of these choices (_organisation=SLUG for organisations)")
    table.add_argument("-o", "--output", type=Path, help="FILE.xlsx (with the method sheet) or FILE.csv")
    table.add_argument("--lang", choices=("th", "en"), default="th", help="the workbook's labels (default th)")
    commands.command(
        "network rebuild", network_rebuild,
        help="make the facts of every shared form anew from the stored submissions (after restoring without network.key)",
    )


def network_share(context: Context, args: Namespace) -> None:
    from .. import accounts, forms
    from ..network import sharing
    from ..network.identity import installation_key

    with context.session() as session:
        organisation = accounts.organisation_by_slug(session, args.slug)
        form = forms.form_by_id(session, organisation, args.form_id)
        key = installation_key(context.settings.data_dir)
        changed = sharing.set_shared(session, key, form, args.state == "on", actor=None)
        state = "counted in" if form.network_shared else "not counted in"
        print(f"{organisation.slug} {form.form_id}: {state} the network figures{'' if changed else ' (unchanged)'}")


def network_rebuild(context: Context, _args: Namespace) -> None:
    from ..network import facts
    from ..network.identity import installation_key

    with context.session() as session:
        done = facts.rebuild(session, installation_key(context.settings.data_dir))
        print(f"network facts rebuilt: {done} submissions of shared forms")


def network_table(context: Context, args: Namespace) -> int | None:
    """Count, suppress with the installation's k, and write the table as anyone may see it."""
    from ..network.figures import cross_table, pooled_forms
    from ..network.identity import installation_key
    from ..network.suppression import suppress
    from ..network.table import TableRequest
    from ..network.workbook import table_csv, write_workbook
    from ..problems import Problem

    suffix = args.output.suffix.lower() if args.output else ".csv"
    if suffix not in (".csv", ".xlsx"):
        say_error(N_("the file must end in .xlsx or .csv: %(file)s"), file=str(args.output))
        return 2
    try:
        since, until = _month(args.since), _month(args.until)
        filters = dict(_filter(text) for text in args.filter)
    except ValueError as error:
        say_error(N_("not understood: %(value)s"), value=str(error))
        return 2
    request = TableRequest(args.form_id, args.rows, args.columns, args.unit, since, until, filters)
    with context.session() as session:
        try:
            counted = cross_table(session, request, key=installation_key(context.settings.data_dir))
        except Problem as problem:
            if problem.code != "network.no_dimension":
                raise
            pooled = pooled_forms(session)[args.form_id]
            names = [d.name for d in pooled.dimensions(args.unit)] if pooled.unit_path(args.unit) is not None else []
            say_error(N_("%(problem)s It can be counted by: %(names)s"), problem=problem.en,
                      names=", ".join(names) or "-")
            return 2
    shown = suppress(counted, context.settings.network_min_count)
    if args.output is None:
        sys.stdout.write(table_csv(shown))
    elif suffix == ".csv":
        args.output.write_bytes(table_csv(shown).encode("utf-8"))
    else:
        write_workbook(args.output, [shown], args.lang, background=False)
    if args.output is not None:
        state = "withheld (fewer than k)" if shown.withheld else f"total {shown.total.text}"
        print(f"{args.output}: {args.form_id}, {state}, k = {shown.k}, organisations: {', '.join(shown.organisations)}")


def _month(text: str | None) -> dt.date | None:
    """``2026-03`` or ``2026-03-15``: the month it names (the figures count by month)."""
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text if len(text) > 7 else text + "-01")
    except ValueError:
        raise ValueError(f"{text} (a month is YYYY-MM)") from None


def _filter(text: str) -> tuple[str, tuple[str, ...]]:
    field, _, choices = text.partition("=")
    wanted = tuple(c.strip() for c in choices.split(",") if c.strip())
    if not field.strip() or not wanted:
        raise ValueError(f"{text} (a filter is FIELD=CHOICE[,CHOICE])")
    return field.strip(), wanted
