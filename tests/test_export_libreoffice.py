"""A third, independent reader: LibreOffice opens the workbook headless and saves every sheet as CSV."""

from __future__ import annotations

import csv
import shutil
import subprocess

import pytest

from formserver.exports.samples import add_submission

from .test_export_support import NAPAT, SOMCHAI, export, organisation, read_workbook, visit  # noqa: F401 - fixtures

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
# 44 = comma, 34 = double quote, 76 = UTF-8, ..., "true" = save cells as shown, -1 = every sheet (LibreOffice 7.2+)
ALL_SHEETS_AS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)")
def test_libreoffice_reads_every_sheet_as_the_other_readers_do(session, settings, organisation, visit, tmp_path):
    add_submission(session, visit, SOMCHAI, instance_id="uuid:0a1b")
    add_submission(session, visit, NAPAT, instance_id="uuid:77ff")
    path = export(session, settings, organisation, visit.form, tmp_path)
    sheets = read_workbook(path)
    out = tmp_path / "lo"
    profile = tmp_path / "lo-profile"
    result = subprocess.run(
        [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", ALL_SHEETS_AS_CSV, "--outdir", str(out), str(path)],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr
    converted = {}
    for name in sheets:
        with (out / f"export-{name}.csv").open(encoding="utf-8", newline="") as handle:
            converted[name] = list(csv.reader(handle))
    assert [len(rows) for rows in converted.values()] == [len(rows) for rows in sheets.values()]
    header, labels, first = converted["visit"][0], converted["visit"][1], dict(zip(converted["visit"][0], converted["visit"][2]))
    assert header == sheets["visit"][0] and labels == sheets["visit"][1]
    assert first["household-head_name"] == "สมชาย ใจดี"
    assert first["household-members"] == "3" and first["household-income"] == "4500.5"
    assert first["household-visit_date"] == "2024-05-01"
    assert first["start"] == "2024-05-01 08:15:00"
    assert first["household-remark"] == '=HYPERLINK("http://evil.example")'  # shown as text, not run
    assert first["household-languages/lahu"] == "0"
    member = [dict(zip(converted["member"][0], row)) for row in converted["member"][2:]]
    assert [m["id_number"] for m in member] == ["0570189001238", "1234567890121", ""]
    assert [(m["PARENT_KEY"], m["_parent_index"]) for m in member] == [("uuid:0a1b", "1"), ("uuid:0a1b", "1"), ("uuid:77ff", "2")]
