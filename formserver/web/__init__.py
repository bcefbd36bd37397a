"""The web blueprint: pages for form designers, coordinators and administrators."""

from __future__ import annotations

from flask import Blueprint, render_template

from .. import forms
from ..db import request_session
from ..models import Organisation

blueprint = Blueprint("web", __name__, template_folder="templates")


@blueprint.get("/")
def home():
    """The front page: what this server is, and the organisations it serves."""
    session = request_session()
    organisations = session.query(Organisation).order_by(Organisation.name).all()
    listing = [(organisation, forms.summaries(session, organisation)) for organisation in organisations]
    return render_template("home.html", listing=listing)
