"""Charts of suppressed tables: a hidden count is never written nor drawn as a length, every
text is escaped, Thai labels come through byte for byte, and the SVG reads without colour."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import pytest

from formserver.network.charts import chart_svg
from formserver.network.suppression import suppress
from formserver.network.table import Choice, Dimension, Shown
from formserver.translations import translate
from formserver.network.words import HIDDEN_SECONDARY, HIDDEN_SMALL, TOTAL
from tests.network_tables import (
    LEGAL_STATUS, PROVINCE, crosstable, documents_by_sex, legal_status, legal_status_by_province, months,
)

SVG = "{http://www.w3.org/2000/svg}"
TABLES = [legal_status, legal_status_by_province, documents_by_sex, months]
NUMBER = re.compile(r"\d[\d,]*")


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(root: ET.Element, css: str) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if t.get("class") == css]


def known_words(shown, language: str) -> list[str]:
    """Every text a chart may write that is not a count: the form's labels and formserver's notes."""
    words = [shown.rows.label(language), translate(TOTAL, language) + ":",
             translate(HIDDEN_SMALL, language, mark=f"<{shown.k}", k=shown.k),
             translate(HIDDEN_SECONDARY, language)]
    for dimension in (shown.rows, shown.columns):
        if dimension is not None:
            words += [dimension.label(language)] + [c.label(language) for c in dimension.choices]
    if shown.columns is not None:
        words.append(shown.rows.label(language) + " × " + shown.columns.label(language))
    return words


@pytest.mark.parametrize("language", ["th", "en"])
@pytest.mark.parametrize("make", TABLES)
def test_no_count_under_k_is_written_in_a_chart(make, language):
    shown = suppress(make(), 5)
    root = parse(chart_svg(shown, language))
    shown_counts = {v.count for v in [*shown.cells.values(), *shown.row_totals.values(),
                                      *shown.column_totals.values(), shown.total] if v.count is not None}
    for text in texts(root, "value"):
        numbers = {int(n.replace(",", "")) for n in NUMBER.findall(text)}
        assert numbers and numbers <= shown_counts, text
        assert not numbers & {1, 2, 3, 4}
    assert set(texts(root, "mark")) <= {"<5", "x"} and texts(root, "mark")
    words = known_words(shown, language)
    for text in texts(root, "label"):
        assert any(word.startswith(text.removesuffix("…")) for word in words), f"unexpected text {text!r}"
    description = root.find(f"{SVG}desc").text
    assert description == translate(TOTAL, language) + ": " + shown.total.text


def test_a_bar_is_as_long_as_its_shown_count_and_a_hidden_one_is_not_drawn():
    shown = suppress(legal_status(), 5)
    root = parse(chart_svg(shown, "en"))
    lengths = {}
    for group in root.iter(f"{SVG}g"):
        bars = [float(r.get("width")) for r in group.iter(f"{SVG}rect") if r.get("class") == "bar"]
        lengths[group.get("data-choice")] = bars
    assert lengths["migrant"] == [] and lengths["undocumented"] == []
    ratios = {round(lengths[name][0] / shown.cells[(name, None)].count, 3) for name in ("thai", "s7bis", "no_reg_status")}
    assert len(ratios) == 1, "every bar on one scale"


def test_a_stacked_bar_draws_only_its_shown_segments_and_lists_every_number():
    shown = suppress(legal_status_by_province(), 5)
    root = parse(chart_svg(shown, "en"))
    scale = set()
    for group in root.iter(f"{SVG}g"):
        row = group.get("data-choice")
        segments = [float(r.get("width")) for r in group.iter(f"{SVG}rect") if r.get("class") == "segment"]
        counts = [shown.cells[(row, c.name)].count for c in PROVINCE.choices]
        drawn = [n for n in counts if n]  # hidden (None) and zero counts have no segment
        assert len(segments) == len(drawn), row
        scale |= {round(w / n, 2) for w, n in zip(segments, drawn)}
        listed = ["".join(t.itertext()) for t in group.iter(f"{SVG}text")]
        assert listed[0] == "= " + f"{shown.row_totals[row].text}"
        assert listed[1:] == [shown.cells[(row, c.name)].text for c in PROVINCE.choices
                              if shown.cells[(row, c.name)].count != 0]
    assert len(scale) == 1


def test_a_monthly_line_leaves_a_gap_with_the_mark_at_a_hidden_month():
    shown = suppress(months(), 5)
    root = parse(chart_svg(shown, "en"))
    runs = [p.get("points").split() for p in root.iter(f"{SVG}polyline")]
    assert [len(run) for run in runs] == [2, 3], "Jan–Feb, then Jun–Aug: March (<5) and May (x) break the line"
    points = [e for e in root.iter() if e.get("class") == "point"]
    assert len(points) == sum(v.count is not None for v in shown.cells.values())
    assert texts(root, "mark") == ["<5", "x"]


def test_two_series_by_month_are_told_apart_by_dashes_not_colour():
    month_dim = months().rows
    table = crosstable(month_dim, PROVINCE.__class__("province", PROVINCE.labels, PROVINCE.choices[:2]),
                       [[20, 11], [30, 12], [9, 3], [0, 14], [25, 25], [31, 40], [18, 22], [17, 19]], unit=None)
    root = parse(chart_svg(suppress(table, 5), "th"))
    dashes = {p.get("stroke-dasharray") for p in root.iter(f"{SVG}polyline")}
    assert len(dashes) == 2
    assert {e.get("stroke") for e in root.iter(f"{SVG}polyline")} == {"#000"}


def test_stacked_segments_are_told_apart_by_greys_and_patterns():
    svg = chart_svg(suppress(legal_status_by_province(), 5), "en", chart_id="first")
    root = parse(svg)
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("class") == "segment"}
    patterns = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    assert {f"url(#{p})" for p in patterns} <= fills
    assert all(f.startswith("url(#first-") or re.fullmatch(r"#([0-9a-f]{2})\1\1", f) for f in fills), fills
    other = parse(chart_svg(suppress(legal_status_by_province(), 5), "en", chart_id="second"))
    assert not {e.get("id") for e in root.iter() if e.get("id")} & {e.get("id") for e in other.iter() if e.get("id")}


def test_labels_written_by_anyone_stay_text():
    evil = "</text><script>alert(1)</script>&amp;"
    rows = Dimension("status", {"en": evil}, (Choice("a", {"en": evil}), Choice("b", {"en": "B & <b>"})))
    columns = Dimension("sex", {"en": "Sex\x07"}, (Choice("m", {"en": '"><svg onload=alert(1)>'}), Choice("f")))
    for shown in (suppress(crosstable(rows, None, [30, 40]), 5), suppress(crosstable(rows, columns, [[10, 20], [30, 40]]), 5)):
        svg = chart_svg(shown, "en", title=evil, chart_id='x" onload="alert(1)')
        root = parse(svg)
        assert not [e for e in root.iter() if e.tag.endswith("script")]
        assert not [e for e in root.iter() if any(a.startswith("on") for a in e.attrib)]
        assert evil in ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
        assert root.find(f"{SVG}title").text == evil


def test_thai_labels_come_through_byte_for_byte():
    shown = suppress(legal_status_by_province(), 5)
    svg = chart_svg(shown, "th")
    root = parse(svg)
    written = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for label in ("สถานะทางกฎหมาย × จังหวัด", "เชียงใหม่", "แม่ฮ่องสอน", "มีสัญชาติไทย", "บุคคลที่ไม่มีสถานะทางทะเบียน (เลข 0)"):
        assert label in written
        assert label.encode("utf-8") in svg.encode("utf-8")
    assert "Noto Sans Thai" in root.get("font-family") and "Sarabun" in root.get("font-family")


def test_a_chart_is_an_image_with_a_title_that_fits_a_phone_and_a_page():
    root = parse(chart_svg(suppress(legal_status(), 5), "en", chart_id="status"))
    assert root.get("role") == "img" and root.get("width") == "100%"
    assert root.get("viewBox").startswith("0 0 480 ")
    assert root[0].tag == f"{SVG}title" and root[0].get("id") == "status-title"
    assert root.get("aria-labelledby") == "status-title status-desc"


def test_a_long_label_is_cut_between_letters_not_inside_one():
    long = "ผู้ไม่มีสถานะทางทะเบียนที่อยู่ระหว่างการพิสูจน์สัญชาติและรอการพิจารณาของอำเภอ" * 2
    rows = Dimension("status", {"th": "สถานะ"}, (Choice("a", {"th": long}), Choice("b", {"th": "ข"})))
    root = parse(chart_svg(suppress(crosstable(rows, None, [30, 40]), 5), "th"))
    cut = next(t for t in texts(root, "label") if t.endswith("…"))
    assert long.startswith(cut[:-1])
    assert not "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c".count(long[len(cut) - 1])


def test_a_withheld_table_says_so_and_draws_nothing():
    table = crosstable(LEGAL_STATUS, None, [0, 0, 1, 2, 0])
    shown = suppress(table, 5)
    root = parse(chart_svg(shown, "en"))
    assert not [r for r in root.iter(f"{SVG}rect")]
    assert "Fewer than 5 in this selection: nothing is shown." in texts(root, "label")
    assert not re.search(r"\b[1-4]\b", "".join(root.itertext()).replace("Fewer than 5", ""))


def test_a_zero_is_written_as_zero_without_a_bar():
    shown = dataclasses.replace(suppress(legal_status(), 5))
    shown.cells[("s7bis", None)] = Shown(0)
    root = parse(chart_svg(shown, "en"))
    group = next(g for g in root.iter(f"{SVG}g") if g.get("data-choice") == "s7bis")
    assert not list(group.iter(f"{SVG}rect")) and texts(group, "value") == ["0"]
