"""The household status intake form (issue 4), read as a specification.

The committed forms/household_status_intake.xlsx is converted in-process with
pyxform (nothing is written into forms/). Expressions are checked by evaluating
them EXACTLY as they stand in the generated XForm with an XPath 1.0 engine
(elementpath) to which ODK's own functions are added (`substr` zero-based and
end-exclusive, `regex` matching the whole string, `selected`, `today`...).

Tests that compare the place lists with ../shared/thai-places skip when that folder
is absent (a user's clone of the repository has no ../shared).
"""

from __future__ import annotations

import csv
import datetime
import importlib.util
import math
import operator
import random
import re
import shutil
from copy import copy
from pathlib import Path

import openpyxl
import pytest
from elementpath import XPath1Parser, XPathContext
from lxml import etree
from pyxform.xls2xform import convert

REPO = Path(__file__).resolve().parents[1]
FORM = REPO / "forms" / "household_status_intake.xlsx"
GENERATOR = REPO / "forms" / "build_household_status_intake.py"
SHARED = Path(__file__).resolve().parents[2] / "shared"
PLACES = SHARED / "thai-places"

TH = "Thai (th)"
EN = "English (en)"
LANGUAGES = (TH, EN)
NORTHERN_PROVINCES = {"50", "55", "56", "57", "58", "63"}

NS = {
    "h": "http://www.w3.org/1999/xhtml",
    "x": "http://www.w3.org/2002/xforms",
    "jr": "http://openrosa.org/javarosa",
    "orx": "http://openrosa.org/xforms",
    "odk": "http://www.opendatakit.org/xforms",
}
JR_TEMPLATE = f"{{{NS['jr']}}}template"

# Paths of the key fields: a later step submits filled instances with these.
KEY_PATHS = {
    "household_code": "/data/intake/location/household_code",
    "interview_date": "/data/intake/interviewer/interview_date",
    "head_name": "/data/intake/household/head_name",
    "member": "/data/intake/member",
    "member_name": "/data/intake/member/member_name",
    "id_number": "/data/intake/member/id_number",
    "violation": "/data/intake/violations/violation",
}

# A fixed "today" for every expression that calls today().
TODAY = datetime.date(2026, 11, 25)
EPOCH = datetime.date(1970, 1, 1)


# --------------------------------------------------------------------------------------
# ODK functions for elementpath's XPath 1.0 parser
# --------------------------------------------------------------------------------------


class ODKParser(XPath1Parser):
    """XPath 1.0 plus the ODK XForms functions the form uses.

    Dates: JavaRosa compares and subtracts dates as numbers of days since
    1970-01-01. An XPath 1.0 engine has no date type, so today() returns that day
    number, decimal-date-time() turns an ISO date (or a day number) into it, and
    tests that compare a date field give the field its day number.
    """

    today = TODAY

    def __init__(self, *args, today: datetime.date | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if today is not None:
            self.today = today


_XPATH1_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*")
_RELATIONAL = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def xpath1_number(value) -> float:
    """XPath 1.0 number(): a string that is not a number (such as '') is NaN."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    return float(text) if _XPATH1_NUMBER.fullmatch(text) else math.nan


def evaluate__relational(self, context=None):
    """XPath 1.0 section 3.4: <, <=, >, >= compare numbers, and NaN compares false.
    (elementpath raises instead when a node is empty, as an unanswered question is.)"""
    compare = _RELATIONAL[self.symbol]
    left = [xpath1_number(v) for v in self[0].atomization(copy(context))]
    right = [xpath1_number(v) for v in self[1].atomization(copy(context))]
    return any(compare(a, b) for a in left for b in right)


for _symbol in _RELATIONAL:
    _base = ODKParser.symbol_table[_symbol]
    ODKParser.symbol_table[_symbol] = type(_base.__name__, (_base,), {"evaluate": evaluate__relational})


def day_number(value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if not text:
        return math.nan
    try:
        return float(text)
    except ValueError:
        return float((datetime.date.fromisoformat(text[:10]) - EPOCH).days)


def _number(token, value) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    return token.number_value(value)


@ODKParser.method(ODKParser.function("substr", nargs=(2, 3)))
def evaluate__substr(self, context=None):
    """ODK substr(string, start[, end]): zero-based, end-exclusive."""
    text = self.get_argument(context, default="", cls=str)
    start = int(_number(self, self.get_argument(context, index=1)))
    if len(self) == 3:
        return text[start : int(_number(self, self.get_argument(context, index=2)))]
    return text[start:]


@ODKParser.method(ODKParser.function("regex", nargs=2))
def evaluate__regex(self, context=None):
    """ODK regex(value, pattern): true when the pattern matches the whole value."""
    text = self.get_argument(context, default="", cls=str)
    pattern = self.get_argument(context, index=1, cls=str)
    return re.fullmatch(pattern, text) is not None


@ODKParser.method(ODKParser.function("selected", nargs=2))
def evaluate__selected(self, context=None):
    answers = self.get_argument(context, default="", cls=str).split()
    return self.get_argument(context, index=1, cls=str) in answers


@ODKParser.method(ODKParser.function("count-selected", nargs=1))
def evaluate__count_selected(self, context=None):
    return float(len(self.get_argument(context, default="", cls=str).split()))


@ODKParser.method(ODKParser.function("today", nargs=0))
def evaluate__today(self, context=None):
    return float((self.parser.today - EPOCH).days)


@ODKParser.method(ODKParser.function("decimal-date-time", nargs=1))
def evaluate__decimal_date_time(self, context=None):
    value = self.get_argument(context, default="")
    if not isinstance(value, (int, float, str)):
        value = self.string_value(value)
    return day_number(value)


@ODKParser.method(ODKParser.function("int", nargs=1))
def evaluate__int(self, context=None):
    value = _number(self, self.get_argument(context, default=math.nan))
    return math.nan if math.isnan(value) else float(math.trunc(value))


@ODKParser.method(ODKParser.function("if", nargs=3))
def evaluate__if(self, context=None):
    condition = self.boolean_value(self[0].evaluate(context))
    return self.get_argument(context, index=1 if condition else 2)


def evaluate(expression: str, tree, node, today: datetime.date = TODAY):
    """Evaluate an XForm expression with `node` as the context item (`.`)."""
    parser = ODKParser(today=today)
    token = parser.parse(expression)
    return token.evaluate(XPathContext(tree, item=node))


def is_true(expression: str, tree, node, today: datetime.date = TODAY) -> bool:
    parser = ODKParser(today=today)
    token = parser.parse(expression)
    return token.boolean_value(token.evaluate(XPathContext(tree, item=node)))


def value_of(expression: str, value: str, today: datetime.date = TODAY) -> bool:
    """A constraint evaluated with `.` bound to a field holding `value`."""
    field = etree.Element("field")
    field.text = value
    return is_true(expression, etree.ElementTree(field), field, today)


# --------------------------------------------------------------------------------------
# Fixtures: the converted form, its sheets, its binds and translations
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def result():
    return convert(xlsform=str(FORM))


@pytest.fixture(scope="module")
def xform(result):
    return etree.fromstring(result.xform.encode("utf-8"))


@pytest.fixture(scope="module")
def sheets():
    workbook = openpyxl.load_workbook(FORM, read_only=True)
    out = {}
    for ws in workbook.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = [str(c) if c is not None else "" for c in rows[0]]
        out[ws.title] = [
            {h: v for h, v in zip(header, row) if h and v not in (None, "")}
            for row in rows[1:]
            if any(v not in (None, "") for v in row)
        ]
    workbook.close()
    return out


@pytest.fixture(scope="module")
def settings(sheets):
    return sheets["settings"][0]


@pytest.fixture(scope="module")
def binds(xform):
    return {b.get("nodeset"): dict(b.attrib) for b in xform.iterfind(".//x:model/x:bind", NS)}


@pytest.fixture(scope="module")
def paths(binds):
    """Field name -> path (field names are unique in the form)."""
    return {nodeset.rsplit("/", 1)[1]: nodeset for nodeset in binds}


@pytest.fixture(scope="module")
def itext(xform):
    """Language -> text id -> text (the plain form, without image or audio forms)."""
    out = {}
    for translation in xform.iterfind(".//x:itext/x:translation", NS):
        texts = {}
        for text in translation.iterfind("x:text", NS):
            for value in text.iterfind("x:value", NS):
                if value.get("form") is None:
                    texts[text.get("id")] = "".join(value.itertext()).strip()
        out[translation.get("lang")] = texts
    return out


def main_instance(xform):
    return xform.find("h:head/x:model/x:instance/x:data", NS)


def choice_list(xform, itext, list_name: str) -> list[dict]:
    instance = xform.find(f"h:head/x:model/x:instance[@id='{list_name}']", NS)
    assert instance is not None, f"no choice list {list_name}"
    items = []
    for item in instance.iterfind("x:root/x:item", NS):
        fields = {etree.QName(child).localname: (child.text or "") for child in item}
        text_id = fields.pop("itextId")
        fields[TH] = itext[TH][text_id]
        fields[EN] = itext[EN][text_id]
        items.append(fields)
    return items


def control(xform, ref: str):
    for element in xform.find("h:body", NS).iter():
        if element.get("ref") == ref or element.get("nodeset") == ref:
            return element
    raise AssertionError(f"no body control for {ref}")


def path_of(node) -> str:
    return "/" + "/".join([a.tag for a in reversed(list(node.iterancestors()))] + [node.tag])


# --------------------------------------------------------------------------------------
# A blank instance, filled field by field, to evaluate relevance and calculations
# --------------------------------------------------------------------------------------


class Interview:
    """The primary instance of the form (one member, one violation), with values set
    by field name, calculations run and relevance evaluated as Collect would."""

    def __init__(self, xform, binds, paths, today: datetime.date = TODAY, **values):
        self.binds = binds
        self.paths = paths
        self.today = today
        self.tree = etree.ElementTree(self._copy(main_instance(xform)))
        defaults = {"consent_sensitive": "yes", "interview_date": today.isoformat()}
        for name, value in {**defaults, **values}.items():
            self.set(name, value)
        self.recalculate()

    @staticmethod
    def _copy(element):
        new = etree.Element(etree.QName(element).localname)
        if len(element) == 0 and (element.text or "").strip():
            new.text = element.text.strip()
        for child in element:
            if child.get(JR_TEMPLATE) is None:
                new.append(Interview._copy(child))
        return new

    def node(self, name: str):
        nodes = self.tree.xpath(self.paths[name])
        assert len(nodes) == 1, name
        return nodes[0]

    def set(self, name: str, value: str):
        self.node(name).text = value

    def value(self, name: str) -> str:
        return self.node(name).text or ""

    def recalculate(self):
        for _ in range(3):
            for nodeset, bind in self.binds.items():
                if "calculate" not in bind:
                    continue
                for node in self.tree.xpath(nodeset):
                    result = evaluate(bind["calculate"], self.tree, node, self.today)
                    node.text = self._text(result)

    @staticmethod
    def _text(result) -> str:
        if isinstance(result, list):
            return "".join(result[0].itertext()) if result else ""
        if isinstance(result, bool):
            return "true" if result else "false"
        if isinstance(result, float):
            if math.isnan(result):
                return ""
            return str(int(result)) if result.is_integer() else str(result)
        return str(result)

    def asked(self, name: str) -> bool:
        """Relevant, itself and through every group or repeat it is in."""
        node = self.node(name)
        for element in [node, *node.iterancestors()]:
            relevant = self.binds.get(path_of(element), {}).get("relevant")
            if relevant and not is_true(relevant, self.tree, element, self.today):
                return False
        return True


def born_years_ago(years: int, today: datetime.date = TODAY) -> str:
    """An ISO date of birth for someone who turned `years` a month ago."""
    month_ago = today - datetime.timedelta(days=30)
    return month_ago.replace(year=month_ago.year - years).isoformat()


@pytest.fixture
def interview(xform, binds, paths):
    def make(**values):
        return Interview(xform, binds, paths, **values)

    return make


# --------------------------------------------------------------------------------------
# Conversion and validation
# --------------------------------------------------------------------------------------


def test_the_committed_xlsx_converts_without_error_or_warning(result):
    assert result.xform.startswith("<?xml")
    assert result.warnings == []


@pytest.mark.skipif(shutil.which("java") is None, reason="java is not on the PATH: ODK Validate needs it")
def test_odk_validate_accepts_the_xform(result, tmp_path):
    from pyxform.validators import odk_validate

    path = tmp_path / "household_status_intake.xml"
    path.write_text(result.xform, encoding="utf-8")
    warnings = odk_validate.check_xform(str(path))  # raises ODKValidateError on errors
    warnings = [w for w in warnings if not w.strip().startswith("Picked up")]
    assert warnings == []


def test_the_committed_xlsx_is_what_the_generator_writes(sheets, tmp_path):
    if not PLACES.is_dir():
        pytest.skip(f"../shared/thai-places not present: {PLACES} (the generator reads it)")
    spec = importlib.util.spec_from_file_location("build_household_status_intake", GENERATOR)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    fresh = generator.build(PLACES, tmp_path / "fresh.xlsx")
    workbook = openpyxl.load_workbook(fresh, read_only=True)
    for ws in workbook.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        header = [str(c) if c is not None else "" for c in rows[0]]
        regenerated = [
            {h: v for h, v in zip(header, row) if h and v not in (None, "")} for row in rows[1:]
        ]
        assert regenerated == sheets[ws.title], (
            f"sheet {ws.title} differs: run forms/build_household_status_intake.py and commit"
        )
    workbook.close()


# --------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------


def test_settings_name_the_form_and_its_version(settings, xform):
    assert settings["form_id"] == "household_status_intake"
    assert re.fullmatch(r"\d{10}", str(settings["version"]))
    assert settings["default_language"] == TH
    data = main_instance(xform)
    assert data.get("id") == "household_status_intake"
    assert data.get("version") == str(settings["version"])


def test_the_title_is_in_thai_and_english(xform):
    title = xform.find("h:head/h:title", NS).text
    assert re.search(r"[\u0e00-\u0e7f]", title)
    assert "Household status intake" in title


def test_thai_is_the_default_language(xform):
    default = xform.find(".//x:itext/x:translation[@default='true()']", NS)
    assert default.get("lang") == TH
    assert {t.get("lang") for t in xform.iterfind(".//x:itext/x:translation", NS)} == set(LANGUAGES)


def test_instance_name_is_household_code_and_date_never_a_name(settings, binds):
    assert settings["instance_name"] == "concat(${household_code}, ' ', ${interview_date})"
    calculate = binds["/data/meta/instanceName"]["calculate"]
    referenced = set(re.findall(r"/data[\w/]+", calculate))
    assert referenced == {KEY_PATHS["household_code"], KEY_PATHS["interview_date"]}
    assert "name" not in calculate.replace("instanceName", "")


def test_the_form_has_no_public_key(settings, xform):
    """Encrypted submissions need key custody and decryption on export: not yet."""
    assert "public_key" not in settings
    submission = xform.find(".//x:model/x:submission", NS)
    assert submission is None or submission.get("base64RsaPublicKey") is None


# --------------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------------


def test_consent_comes_first_and_everything_else_is_inside_a_group_relevant_on_consent(xform, binds):
    children = [etree.QName(c).localname for c in main_instance(xform)]
    assert children[0] == "consent"
    assert children[1] == "intake"
    metadata = {"start", "end", "today", "deviceid", "username", "meta"}
    assert set(children[2:]) <= metadata, "only metadata may sit outside the consent gate"
    assert binds["/data/intake"]["relevant"].split() == ["/data/consent/consent_sensitive", "=", "'yes'"]


def test_sections_are_in_interview_order(xform):
    intake = main_instance(xform).find("x:intake", NS)
    sections = []
    for child in intake:
        name = etree.QName(child).localname
        if name not in sections:
            sections.append(name)
    assert sections == [
        "interviewer",
        "location",
        "household",
        "member",
        "violations",
        "referral",
        "photos",
        "follow_up",
    ]


def test_members_and_violations_are_the_two_repeats(xform):
    repeats = {r.get("nodeset"): r for r in xform.find("h:body", NS).iter(f"{{{NS['x']}}}repeat")}
    assert set(repeats) == {KEY_PATHS["member"], KEY_PATHS["violation"]}
    # One member entry per household member counted in the household section.
    count = repeats[KEY_PATHS["member"]].get(f"{{{NS['jr']}}}count")
    assert count.strip() == "/data/intake/household/member_count"


def test_key_fields_are_where_submissions_and_exports_expect_them(xform, binds):
    tree = etree.ElementTree(main_instance(xform))
    for path in KEY_PATHS.values():
        steps = "/".join(f"x:{step}" for step in path.strip("/").split("/"))
        assert tree.xpath("/" + steps, namespaces=NS), path
    assert binds[KEY_PATHS["household_code"]]["required"] == "true()"


def test_field_names_are_ascii_snake_case_and_unique(sheets):
    names = [row["name"] for row in sheets["survey"] if not row["type"].startswith("end_")]
    assert len(names) == len(set(names))
    for name in names:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name


def test_choice_names_are_ascii_and_unique_per_list(sheets):
    seen = {}
    for row in sheets["choices"]:
        name = str(row["name"])
        assert re.fullmatch(r"[a-z0-9_]+", name), name
        assert name not in seen.setdefault(row["list_name"], set()), (row["list_name"], name)
        seen[row["list_name"]].add(name)


def test_the_id_number_is_text_with_a_numeric_keyboard_so_a_leading_zero_survives(binds, xform):
    assert binds[KEY_PATHS["id_number"]]["type"] == "string"
    assert control(xform, KEY_PATHS["id_number"]).get("appearance") == "numbers"


def test_a_select_multiple_with_none_does_not_allow_none_with_other_answers(sheets):
    lists_with_none = {row["list_name"] for row in sheets["choices"] if row["name"] == "none"}
    for row in sheets["survey"]:
        kind, _, list_name = row["type"].partition(" ")
        if kind == "select_multiple" and list_name in lists_with_none:
            assert row.get("constraint") == "not(selected(., 'none') and count-selected(.) > 1)", row["name"]


# --------------------------------------------------------------------------------------
# Both languages everywhere
# --------------------------------------------------------------------------------------

THAI = re.compile(r"[\u0e00-\u0e7f]")
LATIN = re.compile(r"[A-Za-z]")


UNLABELLED_TYPES = {"calculate", "start", "end", "today", "deviceid", "username"}
TRANSLATED = ("label", "hint", "constraint_message", "required_message")


def test_every_label_has_thai_and_english(sheets):
    for row in sheets["survey"]:
        if row["type"].startswith("end_") or row["type"] in UNLABELLED_TYPES:
            continue
        assert row.get(f"label::{TH}") and row.get(f"label::{EN}"), row["name"]


def test_every_hint_constraint_message_and_required_message_has_thai_and_english(sheets):
    for row in sheets["survey"]:
        for column in TRANSLATED:
            present = [lang for lang in LANGUAGES if row.get(f"{column}::{lang}")]
            assert present in ([], list(LANGUAGES)), (row["name"], column)
        if row.get("constraint"):
            assert row.get(f"constraint_message::{TH}") and row.get(f"constraint_message::{EN}"), row["name"]
        if row.get("required") == "yes":
            assert row.get(f"required_message::{TH}") and row.get(f"required_message::{EN}"), row["name"]
    untranslated = {c for row in sheets["survey"] for c in row if c in TRANSLATED}
    assert untranslated == set()


def test_every_choice_has_thai_and_english(sheets):
    for row in sheets["choices"]:
        assert row.get(f"label::{TH}") and row.get(f"label::{EN}"), (row["list_name"], row["name"])


def test_thai_texts_are_in_thai_script_and_english_texts_in_latin_script(sheets):
    for sheet in ("survey", "choices"):
        for row in sheets[sheet]:
            for column in TRANSLATED:
                if row.get(f"{column}::{TH}"):
                    assert THAI.search(row[f"{column}::{TH}"]), (row["name"], column)
                    assert LATIN.search(row[f"{column}::{EN}"]), (row["name"], column)


def test_the_xform_has_the_same_texts_in_both_languages_and_none_empty(itext):
    assert set(itext[TH]) == set(itext[EN])
    for lang in LANGUAGES:
        for text_id, text in itext[lang].items():
            assert text and text != "-", (lang, text_id)


def test_required_and_constraint_messages_reach_the_xform_in_both_languages(binds, itext):
    for nodeset, bind in binds.items():
        for attribute, present in (("jr:requiredMsg", "required"), ("jr:constraintMsg", "constraint")):
            if present not in bind:
                continue
            message = bind.get(f"{{{NS['jr']}}}{attribute[3:]}")
            assert message, (nodeset, attribute)
            text_id = re.fullmatch(r"jr:itext\('(.+)'\)", message).group(1)
            assert itext[TH][text_id] and itext[EN][text_id], (nodeset, attribute)


# --------------------------------------------------------------------------------------
# The 13-digit ID number: mod-11 check digit (domain.md section 1)
# --------------------------------------------------------------------------------------

# (value, valid?, why). Check digits computed by hand with
# S = sum of d1..d12 weighted 13..2, check = (11 - S mod 11) mod 10.
ID_NUMBERS = [
    ("0570189001238", True, "domain.md worked example 0-5701-89001-23-8 (S=289)"),
    ("1234567890121", True, "domain.md edge case: S=352, S mod 11 = 0 gives 1"),
    ("0630689004511", True, "leading 0, 0-89 group, Tak (S=319, mod 11 = 0)"),
    ("0500900000126", True, "leading 0, Chiang Mai (S=148)"),
    ("0580700001234", True, "leading 0, Mae Hong Son (S=227)"),
    ("1101700203450", True, "check digit 0: S=144, S mod 11 = 1"),
    ("3100100123451", True, "type 3 (S=110)"),
    ("5630100500078", True, "type 5 (S=223)"),
    ("6999900000014", True, "type 6 (S=458)"),
    ("8000100000016", True, "type 8 (S=115)"),
    ("0000000000001", True, "all zeros: S=0 gives 1"),
    ("0570189001239", False, "domain.md: ending in 9"),
    ("0570189001230", False, "wrong check digit"),
    ("1234567890122", False, "wrong check digit"),
    ("1101700203451", False, "wrong check digit (should be 0)"),
    ("0630689004510", False, "wrong check digit (should be 1)"),
    ("0570189001283", False, "last two digits swapped"),
    ("9100100000013", False, "correct check digit but 9 is reserved"),
    ("057018900123", False, "12 digits"),
    ("05701890012380", False, "14 digits"),
    ("0-5701-89001-23-8", False, "dashes"),
    ("0570 1890 0123 8", False, "spaces"),
    (" 0570189001238", False, "leading space"),
    ("0570189001238 ", False, "trailing space"),
    ("057018900123A", False, "a letter"),
    ("O570189001238", False, "letter O for zero"),
    ("abcdefghijklm", False, "letters only"),
    ("๐๕๗๐๑๘๙๐๐๑๒๓๘", False, "Thai digits"),
    ("570189001238", False, "leading 0 lost, as an integer field would"),
]


@pytest.fixture(scope="module")
def id_constraint(binds):
    return binds[KEY_PATHS["id_number"]]["constraint"]


def test_the_id_constraint_uses_odk_substr_and_regex(id_constraint):
    assert id_constraint.startswith("regex(., '^[0-8][0-9]{12}$') and ")
    assert id_constraint.count("substr(.") == 13
    assert "mod 11" in id_constraint and "mod 10" in id_constraint


@pytest.mark.parametrize(("value", "valid", "why"), ID_NUMBERS, ids=[v for v, _, _ in ID_NUMBERS])
def test_the_id_number_constraint_accepts_exactly_the_valid_numbers(id_constraint, value, valid, why):
    assert value_of(id_constraint, value) is valid, why


def check_digit(first12: str) -> str:
    """Test data only: the check digit of domain.md, to produce valid numbers."""
    total = sum(int(d) * (13 - i) for i, d in enumerate(first12))
    return str((11 - total % 11) % 10)


def test_the_id_number_constraint_accepts_one_check_digit_out_of_ten(id_constraint):
    rng = random.Random(4)
    digits = "0123456789"
    prefixes = [first + "".join(rng.choice(digits) for _ in range(11)) for first in "0" * 40 + "12345678" * 5]
    for prefix in prefixes:
        accepted = [d for d in "0123456789" if value_of(id_constraint, prefix + d)]
        assert accepted == [check_digit(prefix)], prefix


def test_the_constraint_message_explains_the_id_rule_in_both_languages(binds, itext):
    message = binds[KEY_PATHS["id_number"]][f"{{{NS['jr']}}}constraintMsg"]
    text_id = re.fullmatch(r"jr:itext\('(.+)'\)", message).group(1)
    assert "13" in itext[TH][text_id] and "13" in itext[EN][text_id]


# --------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------

DATES = [
    (TODAY - datetime.timedelta(days=1), True),
    (TODAY, True),
    (datetime.date(1950, 1, 1), True),
    (datetime.date(1969, 12, 31), True),
    (TODAY + datetime.timedelta(days=1), False),
    (datetime.date(2030, 1, 1), False),
]


@pytest.mark.parametrize("field", ["dob", "interview_date", "violation_date"])
@pytest.mark.parametrize(("date", "accepted"), DATES, ids=[d.isoformat() for d, _ in DATES])
def test_dates_in_the_future_are_rejected(binds, paths, field, date, accepted):
    constraint = binds[paths[field]]["constraint"]
    assert value_of(constraint, str((date - EPOCH).days), today=TODAY) is accepted


def test_the_date_of_birth_constraint_is_not_after_today(binds):
    assert binds["/data/intake/member/dob"]["constraint"] == ". <= today()"


@pytest.mark.parametrize(("dob", "age"), [(born_years_ago(n), str(n)) for n in (0, 14, 45)])
def test_age_is_calculated_from_the_date_of_birth(interview, dob, age):
    assert interview(dob=dob).value("age") == age


# --------------------------------------------------------------------------------------
# Relevance: never ask what does not apply
# --------------------------------------------------------------------------------------


def test_without_consent_the_form_ends(interview):
    refused = interview(consent_sensitive="no")
    assert refused.asked("consent_refused")
    for name in ("has_minors", "consent_photo", "consent_referral", "organisation", "household_code",
                 "head_name", "member_name", "id_number", "violation_type", "needs", "photo_id_card",
                 "follow_up_needed"):
        assert not refused.asked(name), name
    agreed = interview(consent_sensitive="yes")
    assert not agreed.asked("consent_refused")
    for name in ("household_code", "head_name", "member_name", "needs", "follow_up_needed"):
        assert agreed.asked(name), name


def test_guardian_consent_is_asked_only_when_there_are_minors(interview):
    assert interview(has_minors="yes").asked("consent_guardian")
    assert not interview(has_minors="no").asked("consent_guardian")


def test_a_minor_without_guardian_consent_gets_only_the_basic_questions(interview):
    child = interview(has_minors="yes", consent_guardian="no", dob=born_years_ago(10))
    assert child.asked("minor_no_consent")
    for name in ("member_name", "relationship", "sex", "dob"):
        assert child.asked(name), name
    for name in ("ethnicity", "id_type", "legal_status", "documents", "health_cover", "schooling"):
        assert not child.asked(name), name
    consented = interview(has_minors="yes", consent_guardian="yes", dob=born_years_ago(10))
    assert not consented.asked("minor_no_consent")
    assert consented.asked("ethnicity") and consented.asked("schooling")
    adult = interview(has_minors="yes", consent_guardian="no", dob=born_years_ago(20))
    assert adult.asked("ethnicity") and not adult.asked("minor_no_consent")


def id_types(sheets):
    return [row["name"] for row in sheets["choices"] if row["list_name"] == "id_type"]


def test_the_id_number_is_asked_only_for_cards_with_a_13_digit_number(interview, sheets):
    with_number = {"thai_id", "card_non_thai", "card_no_status", "colour_card"}
    assert with_number < set(id_types(sheets))
    for id_type in id_types(sheets):
        asked = interview(dob=born_years_ago(30), id_type=id_type).asked("id_number")
        assert asked is (id_type in with_number), id_type


@pytest.mark.parametrize(
    ("age", "legal_status", "asked"),
    [(14, "s7bis", False), (15, "s7bis", True), (40, "no_reg_status", True), (40, "thai", False)],
)
def test_work_permit_is_asked_only_of_working_age_non_thais(interview, age, legal_status, asked):
    member = interview(dob=born_years_ago(age), legal_status=legal_status, consent_guardian="yes")
    assert member.asked("work_permit") is asked


@pytest.mark.parametrize(
    ("age", "asked"), [(2, False), (3, True), (10, True), (17, True), (18, False), (40, False)]
)
def test_schooling_is_asked_only_for_school_age_children(interview, age, asked):
    assert interview(dob=born_years_ago(age), consent_guardian="yes").asked("schooling") is asked


@pytest.mark.parametrize("name", ["process_step", "travel"])
def test_status_process_and_travel_are_not_asked_of_thai_nationals(interview, name):
    assert not interview(dob=born_years_ago(30), legal_status="thai").asked(name)
    assert interview(dob=born_years_ago(30), legal_status="undocumented").asked(name)


def test_other_answers_ask_for_details(interview):
    assert interview(dob=born_years_ago(30), ethnicity="other").asked("ethnicity_other")
    assert not interview(dob=born_years_ago(30), ethnicity="akha").asked("ethnicity_other")
    assert interview(dob=born_years_ago(30), documents="tr38 other").asked("documents_other")


def test_violation_details_are_asked_only_when_there_was_a_violation(interview):
    assert interview(any_violation="yes").asked("violation_type")
    assert not interview(any_violation="no").asked("violation_type")


def test_document_photos_are_asked_only_with_photo_consent(interview):
    assert interview(consent_photo="yes").asked("photo_id_card")
    assert not interview(consent_photo="no").asked("photo_id_card")


def test_referrals_need_referral_consent_and_a_need(interview):
    assert interview(consent_referral="yes", needs="legal_aid").asked("refer_to")
    assert not interview(consent_referral="no", needs="legal_aid").asked("refer_to")
    assert interview(consent_referral="no", needs="legal_aid").asked("referral_no_consent")
    assert not interview(consent_referral="yes", needs="none").asked("refer_to")
    assert not interview(needs="none").asked("urgency")


def test_follow_up_date_only_when_a_follow_up_is_needed_and_not_before_the_interview(interview, binds):
    assert interview(follow_up_needed="yes").asked("follow_up_date")
    assert not interview(follow_up_needed="no").asked("follow_up_date")
    constraint = binds["/data/intake/follow_up/follow_up_date"]["constraint"]
    assert "/data/intake/interviewer/interview_date" in constraint


# --------------------------------------------------------------------------------------
# Places: cascading province -> district -> subdistrict
# --------------------------------------------------------------------------------------


def test_the_place_lists_cover_six_provinces_82_districts_and_604_subdistricts(xform, itext):
    provinces = choice_list(xform, itext, "province")
    districts = choice_list(xform, itext, "district")
    subdistricts = choice_list(xform, itext, "subdistrict")
    assert {p["name"] for p in provinces} == NORTHERN_PROVINCES
    assert len(districts) == 82 and len(subdistricts) == 604
    district_codes = {d["name"] for d in districts}
    for d in districts:
        assert re.fullmatch(r"\d{4}", d["name"]) and d["province"] == d["name"][:2]
    for s in subdistricts:
        assert re.fullmatch(r"\d{6}", s["name"]) and s["district"] == s["name"][:4]
        assert s["district"] in district_codes


def test_district_and_subdistrict_choices_are_filtered_by_the_parent(xform):
    district = control(xform, "/data/intake/location/district").find("x:itemset", NS)
    subdistrict = control(xform, "/data/intake/location/subdistrict").find("x:itemset", NS)
    assert district.get("nodeset").replace(" ", "") == (
        "instance('district')/root/item[province=/data/intake/location/province]"
    )
    assert subdistrict.get("nodeset").replace(" ", "") == (
        "instance('subdistrict')/root/item[district=/data/intake/location/district]"
    )


@pytest.fixture(scope="module")
def places():
    if not PLACES.is_dir():
        pytest.skip(f"../shared/thai-places not present: {PLACES} (a clone has no ../shared)")

    def read(name):
        with (PLACES / name).open(encoding="utf-8-sig", newline="") as f:
            return [row for row in csv.DictReader(f) if not (row.get("deleted_at") or "").strip()]

    provinces = {row["id"]: row for row in read("provinces.csv")}
    districts = [row for row in read("districts.csv") if row["id"][:2] in NORTHERN_PROVINCES]
    codes = {row["id"] for row in districts}
    subdistricts = [row for row in read("sub_districts.csv") if row["district_id"] in codes]
    return provinces, districts, subdistricts


def test_provinces_match_thai_places(places, xform, itext):
    provinces, districts, _ = places
    expected = {
        (d["id"][:2], provinces[d["province_id"]]["name_th"], provinces[d["province_id"]]["name_en"])
        for d in districts
    }
    got = {(p["name"], p[TH], p[EN]) for p in choice_list(xform, itext, "province")}
    assert got == expected


def test_every_district_of_the_six_provinces_matches_thai_places(places, xform, itext):
    _, districts, _ = places
    expected = sorted((d["id"], d["name_th"], d["name_en"], d["id"][:2]) for d in districts)
    got = sorted((d["name"], d[TH], d[EN], d["province"]) for d in choice_list(xform, itext, "district"))
    assert len(expected) == 82
    assert got == expected


def test_every_subdistrict_of_the_six_provinces_matches_thai_places(places, xform, itext):
    _, _, subdistricts = places
    expected = sorted((s["id"], s["name_th"], s["name_en"], s["district_id"]) for s in subdistricts)
    got = sorted((s["name"], s[TH], s[EN], s["district"]) for s in choice_list(xform, itext, "subdistrict"))
    assert len(expected) == 604
    assert got == expected
