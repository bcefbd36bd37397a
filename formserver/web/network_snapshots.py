"""Published snapshots of the network's figures: publishing, the administrators' list, revoking, and
the public page at ``/p/<token>`` that anyone with the address reads without signing in.

Publishing takes the Network page's own query fields (``form``, ``unit``, ``rows``, ``columns``,
``since``, ``until`` as ``YYYY-MM``, ``province`` and ``organisation`` repeated) and a ``title``,
counts, suppresses and freezes the table (``network/snapshots.py``). The public page has a layout
of its own: no navigation, no session, no link to anything else on the site.
"""

from __future__ import annotations

from flask import abort, current_app, g, make_response, redirect, render_template, request, url_for
from sqlalchemy import select

from ..db import request_session
from ..models import NetworkSnapshot, User
from ..network import snapshots
from ..network.charts import chart_svg
from ..network.figures import cross_table
from ..network.identity import installation_key
from ..network.suppression import suppress
from ..network.table import ORGANISATION
from ..network.words import (
    DEDUPLICATION, choice_label, mark_notes, table_title, unit_label,
)
from ..network.workbook import (
    DEDUPLICATION_RULE, FILTERS, NO_FILTER, ORGANISATIONS, PERIOD, SMALLEST, UNIT, WITHOUT_IDENTITY, table_rows,
)
from ..permissions import NETWORK_PUBLISH
from ..translations import LANGUAGES, N_, translate
from .access import public_route, user_route
from .auth import signed_in_user
from .dates import shown_time
from .i18n import current_language, flash_text
from .network_figure import period, read_query, table_request, with_month_names

TITLE_LENGTH = 200
# A frozen page, yet revoking must take it down at once: a browser may keep it but asks again each time;
# no shared cache keeps it (a signed-in visitor's answer refreshes their session cookie).
PUBLIC_CACHE = "private, no-cache"


@user_route("/network/snapshots", NETWORK_PUBLISH, methods=["POST"])
def publish_snapshot():
    """Freeze the table the fields ask for, as shown, at a new public address."""
    settings = current_app.extensions["formserver.settings"]
    session = request_session()
    query = read_query(request.form)
    if not query.ready:
        abort(400)
    try:
        asked = table_request(query)
    except ValueError:  # a month that is no month
        abort(400)
    counted = cross_table(session, asked, key=installation_key(settings.data_dir))
    shown = with_month_names(suppress(counted, settings.network_min_count))
    title = request.form.get("title", "").strip()[:TITLE_LENGTH] or _default_title(shown)
    snapshot = snapshots.publish(session, shown, title=title, actor=signed_in_user())
    session.commit()
    flash_text(N_("Published: anyone with its address can read this table."), "success")
    return redirect(url_for("web.snapshots_page", _anchor=f"snapshot-{snapshot.id}"))


def _default_title(shown) -> str:
    """"Legal status × Province" in both languages, when the administrator gave no title."""
    return " / ".join(dict.fromkeys(table_title(shown, language) for language in LANGUAGES))


@user_route("/network/snapshots", NETWORK_PUBLISH)
def snapshots_page():
    """Every snapshot published, newest first, with its public address and a button to revoke it."""
    session = request_session()
    found = snapshots.every_snapshot(session)
    people = {snapshot.created_by_id for snapshot in found} | {snapshot.revoked_by_id for snapshot in found}
    emails = dict(session.execute(select(User.id, User.email).where(User.id.in_(people - {None}))).all())
    return render_template("snapshots/list.html", snapshots=found, emails=emails)


@user_route("/network/snapshots/<int:snapshot_id>/revoke", NETWORK_PUBLISH, methods=["POST"])
def revoke_snapshot(snapshot_id: int):
    session = request_session()
    snapshot = session.get(NetworkSnapshot, snapshot_id)
    if snapshot is None:
        abort(404)
    if snapshots.revoke(session, snapshot, actor=signed_in_user()):
        session.commit()
        flash_text(N_("Revoked: its address now answers that the page is gone."), "success")
    return redirect(url_for("web.snapshots_page"))


@public_route("/p/<token>")
def public_snapshot(token: str):
    """The frozen table and its chart, for anyone with the address; 410 once revoked."""
    snapshot = snapshots.by_token(request_session(), token)
    if snapshot is None:
        abort(404)
    if request.args.get("lang") in LANGUAGES:
        g.lang = request.args["lang"]
    language = current_language()
    if snapshot.revoked_at is not None:
        response = make_response(render_template("snapshots/gone.html", lang=language), 410)
    else:
        response = make_response(render_template("snapshots/public.html", **_public_page(snapshot, language)))
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _public_page(snapshot: NetworkSnapshot, language: str) -> dict:
    """What the public page shows, every word from the shown figures and formserver's own words."""
    shown = snapshots.shown_table(snapshot)
    return {
        "lang": language,
        "snapshot": snapshot,
        "shown": shown,
        "rows": table_rows(shown, language),
        "chart": chart_svg(shown, language, title=snapshot.title, chart_id=f"snapshot-{snapshot.id}"),
        "notes": mark_notes(shown, language),
        "method": _method(snapshot, shown, language),
        "published": shown_time(snapshot.created_at, language, current_app.extensions["formserver.settings"].time_zone),
    }


def _method(snapshot: NetworkSnapshot, shown, language: str) -> list[tuple[str, str]]:
    """How the figures were made, in the words of the workbook's method sheet."""
    say = lambda message, **values: translate(message, language, **values)  # noqa: E731
    asked = shown.request
    labels = {choice.name: choice_label(choice, language) for d in (shown.rows, shown.columns) if d for choice in d.choices}
    filters = "; ".join(
        f"{name} = {', '.join(labels.get(v, v) for v in chosen)}"
        for name, chosen in sorted(asked.filters.items()) if name != ORGANISATION  # named under "included"
    )
    rows = [
        (say(UNIT), unit_label(shown, language)),
        (say(PERIOD), period(asked, language)),
        (say(FILTERS), filters or say(NO_FILTER)),
        (say(ORGANISATIONS), ", ".join(snapshot.organisations)),
        (say(SMALLEST), str(shown.k)),
        (say(DEDUPLICATION_RULE), say(DEDUPLICATION)),
    ]
    if shown.without_identity is not None:
        rows.append((say(WITHOUT_IDENTITY), shown.without_identity.text))
    return rows
