"""Signing in and out, one's own password, the language switch and the front page."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from .. import accounts, audit
from ..db import request_session
from ..problems import Problem
from . import auth
from .access import organisations_of, public_route, user_route
from ..translations import N_
from .i18n import COOKIE, LANGUAGES, _, flash_text, problem_text


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never an absolute or scheme-relative address (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@public_route("/", methods=["GET"])
def home():
    """Signed in: the organisations one can open. Otherwise a short word about the server and the sign-in link."""
    user = auth.signed_in_user()
    if user is None:
        return render_template("landing.html")
    organisations = organisations_of(user)
    if len(organisations) == 1 and not user.is_admin:
        return redirect(url_for("web.organisation_home", slug=organisations[0][0].slug))
    return render_template("home.html", organisations=organisations)


@public_route("/login", methods=["GET", "POST"])
def login():
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        if auth.signed_in_user() is not None:
            return redirect(target)
        return render_template("login.html", next=target, email="")
    session = request_session()
    email = request.form.get("email", "")
    try:
        user = auth.check_sign_in(session, email, request.form.get("password", ""))
    except Problem as problem:
        session.commit()  # keep the count of failures
        return render_template("login.html", next=target, email=email, problem=problem), problem.status
    audit.record(session, "user.sign_in", user=user, target=user.email)
    auth.start_session(session, user)
    session.commit()
    return redirect(target)


@user_route("/logout", methods=["POST"])
def logout():
    user = auth.signed_in_user()
    session = request_session()
    audit.record(session, "user.sign_out", user=user, target=user.email)
    auth.end_session(session)
    session.commit()
    flash_text(N_("You have signed out."), "info")
    return redirect(url_for("web.login"))


@user_route("/account/password", methods=["GET", "POST"])
def change_password():
    user = auth.signed_in_user()
    if request.method == "GET":
        return render_template("password.html")
    current, new, again = (request.form.get(k, "") for k in ("current", "new", "again"))
    error = None
    if not accounts.password_matches(user, current):
        error = _("The current password is not right.")
    elif new != again:
        error = _("The two new passwords are not the same.")
    else:
        try:
            accounts.set_password(user, new, realm=current_app.extensions["formserver.settings"].digest_realm)
        except Problem as problem:
            error = problem_text(problem)
    if error:
        return render_template("password.html", error=error), 400
    session = request_session()
    audit.record(session, "user.password", user=user, target=user.email)
    auth.end_every_session(session, user)
    auth.start_session(session, user)
    session.commit()
    flash_text(N_("Your password has been changed. Phones signed in with the old password need the new one."), "success")
    return redirect(url_for("web.home"))


@public_route("/language", methods=["POST"])
def switch_language():
    language = request.form.get("lang")
    response = redirect(safe_next(request.form.get("next")))
    if language in LANGUAGES:
        response.set_cookie(
            COOKIE,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response
