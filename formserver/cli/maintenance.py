"""``formserver check [--repair]``: the integrity of a live installation, or of a restored backup.

Prints one line per problem and a summary; exits 1 when anything is wrong (after ``--repair``:
when anything remains wrong). What is checked and repaired is ``formserver/integrity.py``.
"""

from __future__ import annotations

from argparse import Namespace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Commands, Context


def register(commands: Commands) -> None:
    parser = commands.command(
        "check",
        check,
        needs_schema=False,
        help="check blobs, flattened copies, orphan files and the migration; exit 1 if anything is wrong",
        description="Check that every attachment and media file exists and matches its sha256, that every "
        "submission's flattened copy matches its XML, that no orphan or half-finished export file is left, "
        "and that the database is at the newest migration. Run it after restoring a backup.",
    )
    parser.add_argument(
        "--repair",
        action="store_true",
        help="rebuild differing flattened copies, remove half-finished export files and orphan files older "
        "than 24 hours; submissions' XML and files are never changed",
    )


def check(context: Context, args: Namespace) -> int:
    from .. import integrity

    report = integrity.check(context.database)
    for finding in report.findings:
        print(finding)
    remaining = report.findings
    if args.repair and report.findings:
        repairs = integrity.repair(context.database, report)
        for line in repairs.done:
            print(f"repaired: {line}")
        for line in repairs.kept:
            print(f"kept: {line}")
        remaining = repairs.remaining
    print(summary(report, remaining, repaired=args.repair))
    return 1 if remaining else 0


def summary(report, remaining: list, *, repaired: bool) -> str:
    """``check: 2 problems (missing blob: 1, orphan file: 1); checked 12 submissions, 30 blobs, 2 export jobs``."""
    if not report.complete:
        return "check: the other checks need the newest migration: run `formserver db upgrade`, then check again"
    checked = ", ".join(_counted(count, name) for name, count in report.checked.items())
    if not report.findings:
        return f"check: no problems; checked {checked}"
    found = _counted(len(report.findings), "problem")
    if repaired:
        found += f", {len(report.findings) - len(remaining):,} repaired, {len(remaining):,} remaining"
    kinds: dict[str, int] = {}
    for finding in remaining:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    detail = f" ({', '.join(f'{kind}: {count:,}' for kind, count in kinds.items())})" if kinds else ""
    return f"check: {found}{detail}; checked {checked}"


def _counted(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
