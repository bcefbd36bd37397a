"""The Network page: the pooled figures of the organisations that share a form, as a table and its
chart, a print view for the network meeting, and the workbook or CSV to take away.

Everything here is a GET of a bookmarkable address (nothing changes, so no CSRF): the page's form
says which table, and ``keep`` arguments carry the tables kept for the print list, each one table's
query string. Who may read: ``network.read`` (``network/access.py``: network administrators,
network analysts, managers of an organisation that shares). Every figure passes through
``suppress`` before anything shows it; reading the figures opens no organisation's records.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import current_app, render_template, request, url_for

from ..db import request_session
from ..models import utcnow
from ..network.access import may_publish
from ..network.figures import cross_table, registered_by_several
from ..network.identity import installation_key
from ..network.pooled import PooledForm, pooled_forms
from ..network.suppression import suppress
from ..network.table import ShownTable
from ..network.workbook import table_csv, write_workbook
from ..network.words import DEDUPLICATION, HIDDEN_SECONDARY
from ..permissions import NETWORK_READ
from ..problems import Problem
from ..translations import translate
from .access import user_route
from .auth import signed_in_user
from .download import send_bytes
from .i18n import _, current_language, problem_text
from .network_figure import (
    PROVINCE, Query, figure, kept_queries, read_query, shown_count, table_request, with_month_names,
)

PUBLISH_ENDPOINT = "web.publish_snapshot"  # web/network_snapshots.py, when installed


@dataclass
class Answer:
    """One table asked for: the shown table, or why there is none (in the page's words)."""

    query: Query
    shown: ShownTable | None = None
    error: str | None = None


def _k() -> int:
    return current_app.extensions["formserver.settings"].network_min_count


def _answer(session, pooled: dict[str, PooledForm], query: Query) -> Answer:
    """The suppressed table a query asks for, months named; a refusal in words for a bad query."""
    if query.form not in pooled:
        return Answer(query, error=_("No organisation shares this form with the network."))
    try:
        table = table_request(query)
    except ValueError:
        return Answer(query, error=_("Choose months as year and month, for example 2026-03."))
    try:
        counted = cross_table(session, table, key=installation_key(current_app.extensions["formserver.blobs"].data_dir),
                              pooled=pooled[query.form])
    except Problem as problem:
        return Answer(query, error=problem_text(problem))
    return Answer(query, shown=with_month_names(suppress(counted, _k())))


def _names(pooled: PooledForm, shown: ShownTable) -> list[str]:
    return [pooled.organisations.get(slug, slug) for slug in shown.organisations]


@user_route("/network", NETWORK_READ)
def network_page():
    """Choose a table; see it with its chart, the k in force, who is included."""
    session = request_session()
    pooled = pooled_forms(session)
    query = read_query(request.args)
    if not query.form and pooled:
        query = Query(form=next(iter(pooled)))
    kept = kept_queries(request.args)
    answer = _answer(session, pooled, query) if query.ready else None
    chosen = pooled.get(query.form)
    language = current_language()
    context = {
        "pooled": pooled, "chosen": chosen, "query": query, "kept": kept, "answer": answer,
        "k": _k(), "province": PROVINCE, "dimensions": chosen.dimensions(query.unit or None) if chosen else (),
        "links": _links(query, kept),
    }
    if answer is not None and answer.shown is not None:
        context["figure"] = figure(answer.shown, language, _names(chosen, answer.shown))
        context["several"] = _several(session, chosen, query)
        if may_publish(signed_in_user()) and PUBLISH_ENDPOINT in current_app.view_functions:
            context["publish_url"] = url_for(PUBLISH_ENDPOINT)
    return render_template("network/page.html", **context)


def _several(session, pooled: PooledForm, query: Query) -> str | None:
    """Registered by two or more organisations: a network-wide figure, so only for a table without filters."""
    if query.since or query.until or query.provinces or query.organisations:
        return None
    return shown_count(registered_by_several(session, pooled, query.unit or None), _k()).text


def _links(query: Query, kept: list[Query]) -> dict:
    """The page's addresses that carry the print list along."""
    keep = [("keep", q.encoded()) for q in kept]
    with_this = keep + ([("keep", query.encoded())] if query.ready and query not in kept else [])
    return {
        "keep": [value for _, value in keep],
        "add": url_for("web.network_page", **_multi(query.pairs() + with_this)),
        "clear": url_for("web.network_page", **_multi(query.pairs())),
        "print": url_for("web.network_print", **_multi(with_this)),
        "xlsx": url_for("web.network_workbook", **_multi(query.pairs())),
        "csv": url_for("web.network_csv", **_multi(query.pairs())),
        "kept_xlsx": url_for("web.network_workbook", **_multi(keep)),
    }


def _multi(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(name, value) pairs as ``url_for`` takes repeated arguments."""
    found: dict[str, list[str]] = {}
    for name, value in pairs:
        found.setdefault(name, []).append(value)
    return found


def _asked(session, pooled) -> list[Answer]:
    """The tables of a print view or a workbook: those kept, else the one the address asks for."""
    queries = kept_queries(request.args)
    current = read_query(request.args)
    if current.ready and current not in queries:
        queries.append(current)
    return [_answer(session, pooled, query) for query in queries]


@user_route("/network/print", NETWORK_READ)
def network_print():
    """An A4 page for the network meeting: each kept table with its chart, period, organisations and the rule."""
    session = request_session()
    pooled = pooled_forms(session)
    language = current_language()
    answers = _asked(session, pooled)
    figures = [
        (answer, figure(answer.shown, language, _names(pooled[answer.query.form], answer.shown), chart_id=f"chart{n}")
         if answer.shown is not None else None)
        for n, answer in enumerate(answers)
    ]
    rule = {
        "deduplication": translate(DEDUPLICATION, language),
        "secondary": translate(HIDDEN_SECONDARY, language),
    }
    return render_template("network/print.html", figures=figures, k=_k(), rule=rule, now=utcnow())


def _shown_tables(session) -> list[ShownTable]:
    pooled = pooled_forms(session)
    return [answer.shown for answer in _asked(session, pooled) if answer.shown is not None]


def _no_table():
    return render_template("error.html", status=404, message=_("Choose a table first."),
                           back=url_for("web.network_page")), 404


@user_route("/network/table.xlsx", NETWORK_READ)
def network_workbook():
    """The table(s) as a workbook: one sheet each, and the sheet ``method``."""
    tables = _shown_tables(request_session())
    if not tables:
        return _no_table()
    buffer = io.BytesIO()
    write_workbook(buffer, tables, current_language(), background=False)
    return send_bytes(buffer.getvalue(), "network-figures.xlsx",
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@user_route("/network/table.csv", NETWORK_READ)
def network_csv():
    """The table as CSV: choice names, ``total``, hidden counts as their marks (as ``formserver network table``)."""
    tables = _shown_tables(request_session())
    if not tables:
        return _no_table()
    return send_bytes(table_csv(tables[-1]).encode("utf-8"), "network-figures.csv", "text/csv; charset=utf-8")
