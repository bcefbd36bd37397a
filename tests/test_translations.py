"""The gettext catalogues: every marked text translated in every language, placeholders kept, the
compiled .mo the one its .po gives, and no Thai left in the Python code."""

from __future__ import annotations

import ast
import functools
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from formserver.translations import DIRECTORY, Nn_, Np_, bilingual, in_every_language, translate
from formserver.words import word_in

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = sorted(DIRECTORY.glob("*/LC_MESSAGES/messages.po"))
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")
ANY_PERCENT = re.compile(r"%(?!\(\w+\)[sdr]|%)")
THAI = re.compile("[\u0e00-\u0e7f]")
# Tables of the names a form may give its languages: data matched against the form's own, not formserver's words.
LANGUAGE_NAME_TABLES = {"formserver/web/i18n.py": {"LANGUAGE_NAMES"}, "formserver/exports/columns.py": {"_ALIASES"}}


def read(path: Path):
    with path.open("rb") as file:
        return read_po(file, locale=path.parent.parent.name)


@functools.cache
def marked_texts() -> frozenset[tuple[str | None, str]]:
    """What ``make translations`` extracts: babel.cfg's files, babel's keywords and the Makefile's own."""
    keywords_line = re.search(r"^BABEL_KEYWORDS := (.+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    keywords = dict(DEFAULT_KEYWORDS, **parse_keywords(keywords_line.replace("-k ", "").split()))
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(ROOT, method_map, options_map, keywords):
        found.add((context, message[0] if isinstance(message, tuple) else message))
    return frozenset(found)


def texts(message) -> list[str]:
    return list(message) if isinstance(message, (tuple, list)) else [message]


def test_there_is_a_thai_catalogue():
    assert DIRECTORY / "th" / "LC_MESSAGES" / "messages.po" in CATALOGUES


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parent.parent.name)
def test_every_marked_text_has_a_translation_that_is_neither_empty_nor_fuzzy(po):
    catalogue = read(po)
    entries = {(m.context, texts(m.id)[0]): m for m in catalogue if m.id}
    missing = sorted(f"{context or ''}|{text}" for context, text in marked_texts() - set(entries))
    assert not missing, f"run `make translations` and translate in {po.relative_to(ROOT)}: {missing}"
    untranslated = [texts(m.id)[0] for m in entries.values() if m.fuzzy or not all(texts(m.string))]
    assert not untranslated, untranslated
    assert not [m for m in entries.values() if m.pluralizable and len(texts(m.string)) != catalogue.num_plurals]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parent.parent.name)
def test_a_translation_keeps_the_placeholders_of_its_english(po):
    for message in read(po):
        if not message.id:
            continue
        english = {name for text in texts(message.id) for name in PLACEHOLDER.findall(text)}
        for translated in texts(message.string):
            assert set(PLACEHOLDER.findall(translated)) == english, (message.id, translated)
            assert not ANY_PERCENT.search(translated), translated


def test_placeholders_are_named_in_the_gettext_way():
    for context, text in marked_texts():
        assert not ANY_PERCENT.search(text), f"name the placeholder, as in %(form_id)s: {text}"
        assert not re.search(r"\{\w*\}", text), f"gettext placeholders are %(name)s, not {{name}}: {text}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parent.parent.name)
def test_the_committed_mo_is_the_compiled_po(po):
    compiled = io.BytesIO()
    write_mo(compiled, read(po))
    assert po.with_suffix(".mo").read_bytes() == compiled.getvalue(), "run `make translations` and commit the .mo"


def docstrings_and_tables(tree: ast.Module, tables: set[str]) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(target, ast.Name) and target.id in tables for target in targets):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def test_no_thai_in_the_python_code_but_docstrings_and_tables_of_language_names():
    found = []
    for path in sorted((ROOT / "formserver").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        source = path.read_text(encoding="utf-8")
        allowed = docstrings_and_tables(ast.parse(source), LANGUAGE_NAME_TABLES.get(name, set()))
        found += [f"{name}:{number}: {line.strip()}" for number, line in enumerate(source.splitlines(), 1)
                  if THAI.search(line) and number not in allowed]
    assert not found, "Thai belongs in formserver/translations/th/LC_MESSAGES/messages.po:\n" + "\n".join(found)


def test_translate_fills_placeholders_and_chooses_the_plural_form():
    throttled = Nn_(
        "Too many failed sign-ins for this account. Wait %(minutes)s minute, then try again.",
        "Too many failed sign-ins for this account. Wait %(minutes)s minutes, then try again.",
        "minutes",
    )
    assert translate(throttled, "en", minutes=1).endswith("Wait 1 minute, then try again.")
    assert translate(throttled, "en", minutes=5).endswith("Wait 5 minutes, then try again.")
    assert translate(throttled, "th", minutes=5) == "ลงชื่อเข้าใช้บัญชีนี้ผิดหลายครั้งเกินไป โปรดรอ 5 นาทีแล้วลองใหม่"
    assert in_every_language("Device account %(name)s created: scan its QR code with ODK Collect.", name="A") == {
        "th": "สร้างบัญชีอุปกรณ์ A แล้ว สแกน QR code ด้วย ODK Collect",
        "en": "Device account A created: scan its QR code with ODK Collect.",
    }



def test_a_text_is_translated_by_its_context_where_the_same_english_needs_other_words():
    assert translate("Submitted by", "th") == "ส่งโดย"  # the submissions page
    assert translate(Np_("export column", "Submitted by"), "th") == "ผู้ส่ง"  # an export's column header


def test_codes_from_the_data_read_as_words_in_every_language():
    assert word_in("has_issues", "en") == "has issues" and word_in("has_issues", "th") == "มีปัญหา"
    assert word_in("unknown_code", "th") == "unknown_code"
    assert bilingual("Submission received.") == "ได้รับข้อมูลแล้ว / Submission received."
