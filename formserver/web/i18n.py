"""The language of pages, and the helpers that words on pages go through.

The language is the one the person chose (a cookie, remembered for a year),
else the browser's preference, else Thai: most users read Thai first.
Flask-Babel translates pages with it (``_()`` and ``ngettext()`` in views and
templates, from ``formserver/translations``). A message for the next page is
kept in every language, so that it follows a language switch. Form labels
come from the form itself; ``label_of`` picks the form's language that matches
the page's.
"""

from __future__ import annotations

import re

from flask import flash, g, request
from flask_babel import gettext as _  # noqa: F401  (the views' words come from here)

from ..problems import Problem
from ..translations import LANGUAGES, Text, translate
from ..words import word_in

DEFAULT_LANGUAGE = "th"
COOKIE = "lang"
# Names a form may give its languages (data, matched against the form's own list).
LANGUAGE_NAMES = {
    "th": {"th", "tha", "thai", "ไทย", "ภาษาไทย"},
    "en": {"en", "eng", "english", "อังกฤษ", "ภาษาอังกฤษ"},
}


def current_language() -> str:
    if "lang" not in g:
        chosen = request.cookies.get(COOKIE)
        if chosen not in LANGUAGES:
            chosen = request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE)
        g.lang = chosen
    return g.lang


def word(code: str) -> str:
    """The page's word for a code the data stores (``has_issues``, ``manager``, ``open``...)."""
    return word_in(code, current_language())


def problem_text(problem: Problem, language: str | None = None) -> str:
    return problem.text(language or current_language())


def flash_text(message: str | Text, category: str = "info", words: dict[str, str] | None = None, **values: object) -> None:
    """A message (marked with ``N_``) for the next page, kept in every language so that it follows a language switch.

    ``words`` are values that are codes from the data (a state, a role), each shown as its word in each language.
    """
    texts = {}
    for language in LANGUAGES:
        named = {name: word_in(code, language) for name, code in (words or {}).items()}
        texts[language] = translate(message, language, **values, **named)
    flash(texts, category)


def flash_problem(problem: Problem, category: str = "error") -> None:
    flash({language: problem.text(language) for language in LANGUAGES}, category)


def flashed_text(message) -> str:
    if isinstance(message, dict):
        return message.get(current_language()) or message.get("en") or ""
    return str(message)


# -- form labels ---------------------------------------------------------------------------------


def form_language(languages: list[str], language: str) -> str | None:
    """The form's language ("Thai (th)", "th", "Thai"...) that matches the page language, if any."""
    for name in languages or []:
        code = re.search(r"\(([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]+)?\)\s*$", name)
        if code and code.group(1).lower() in LANGUAGE_NAMES[language]:
            return name
    for name in languages or []:
        if name.strip().lower() in LANGUAGE_NAMES[language] or name.strip().lower().split("-")[0] == language:
            return name
    return None


def label_of(labels: dict | None, tree: dict | None = None, language: str | None = None) -> str:
    """A node's or choice's label in the page's language, else the form's default language, else any."""
    if not labels:
        return ""
    language = language or current_language()
    tree = tree or {}
    chosen = form_language(tree.get("languages") or list(labels), language)
    if chosen and labels.get(chosen):
        return labels[chosen]
    default = tree.get("default_language")
    if default and labels.get(default):
        return labels[default]
    return next((text for text in labels.values() if text), "")
