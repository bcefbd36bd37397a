"""formserver's own words in every language but English, as gettext catalogues beside this file.

The code and templates are written in English and mark every text a person
reads; ``make translations`` extracts the marked texts and brings
``th/LC_MESSAGES/messages.po`` up to date, which translators edit (Poedit,
Weblate) without touching code, and compiles it into the ``.mo`` read here.
Pages take their language from Flask-Babel (``web/i18n.py``); whatever has no
page at hand (the ``/submission`` endpoint, exports, messages kept in both
languages) names the language and calls ``translate``.

A text shown at once is marked with ``_()`` or ``ngettext()``; a text kept to be
shown later (the problem catalogue, words for codes stored in the data) with
``N_()``, or ``Nn_()`` when it has a count, or ``Np_()`` when the same English
needs other words in another place. Placeholders are named: ``%(form_id)s``.

Importing this module reads nothing: each catalogue is read once per process,
the first time its language is asked for, and English needs none.
"""

from __future__ import annotations

import functools
import gettext
from dataclasses import dataclass
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent
SOURCE_LANGUAGE = "en"
# The languages of pages and messages, in the order a message in all of them shows them (Thai / English).
LANGUAGES = ("th", "en")


@dataclass(frozen=True)
class Text:
    """A marked text with a count (``Nn_``) or a context (``Np_``), translated when it is shown."""

    message: str
    plural: str | None = None
    count: str | None = None  # the name of the value whose number chooses between message and plural
    context: str | None = None


def N_(message: str) -> str:
    """Marks a text for translation where it is written; it is translated where it is shown."""
    return message


def Nn_(singular: str, plural: str, count: str) -> Text:
    """Marks a text with a number in it: ``count`` names the value that chooses the form."""
    return Text(singular, plural=plural, count=count)


def Np_(context: str, message: str) -> Text:
    """Marks a text whose English says what another place says in other words (a column header, say)."""
    return Text(message, context=context)


@functools.cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``language``, read once; English, the code's own, needs none."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    from babel.support import Translations

    return Translations.load(DIRECTORY, [language])


def translate(message: str | Text, language: str, **values: object) -> str:
    """``message`` in ``language``, its placeholders filled from ``values``."""
    found = catalogue(language)
    if isinstance(message, str):
        text = found.gettext(message)
    elif message.plural is None:
        text = found.pgettext(message.context, message.message)
    else:
        number = values[message.count]
        if message.context is None:
            text = found.ngettext(message.message, message.plural, number)
        else:
            text = found.npgettext(message.context, message.message, message.plural, number)
    return text % values if values else text


def in_every_language(message: str | Text, **values: object) -> dict[str, str]:
    """``message`` in each language of ``LANGUAGES``: what is kept to be shown later in the reader's."""
    return {language: translate(message, language, **values) for language in LANGUAGES}


def bilingual(message: str | Text, **values: object) -> str:
    """``message`` in every language, one after the other ("ได้รับข้อมูลแล้ว / Submission received."): what phones show."""
    return " / ".join(in_every_language(message, **values).values())
