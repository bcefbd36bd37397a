"""An organisation's home page: its forms, their state, newest version and submissions."""

from __future__ import annotations

from flask import render_template

from .. import forms
from ..db import request_session
from ..models import FormState, Organisation
from ..submissions import conflicts_of
from .access import may, org_route


@org_route("", "organisation.read", methods=["GET"])
def organisation_home(organisation: Organisation):
    session = request_session()
    summaries = forms.summaries(session, organisation)
    reads_forms = may("form.read")
    if not reads_forms:
        # Collectors see which forms their phones can fill in, nothing about the data.
        summaries = [s for s in summaries if s.form.state == FormState.open.value and s.served is not None]
    conflicts = 0
    if may("submission.resolve_conflict"):
        conflicts = len(_unresolved_conflicts(organisation))
    return render_template(
        "organisation.html",
        organisation=organisation,
        summaries=summaries,
        reads_forms=reads_forms,
        conflicts=conflicts,
    )


def _unresolved_conflicts(organisation: Organisation) -> list:
    return conflicts_of(request_session(), organisation, unresolved_only=True)
