"""The workbook's styles part, and the style attribute each kind of cell gets in each row style.

There are no shared strings: every text is an inline string (``t="inlineStr"``),
written with its cell, so nothing of a sheet's text is kept in memory.
"""

from __future__ import annotations

# Indexes into <cellXfs> in STYLES_XML.
# (text, number, date, datetime, time, hyperlink) attribute per row style
STYLE_ATTRIBUTES = {
    None: ("", "", ' s="2"', ' s="3"', ' s="4"', ' s="5"'),
    "header": (' s="1"', ' s="1"', ' s="6"', ' s="7"', ' s="8"', ' s="9"'),
}

_FONT = '<sz val="11"/>{color}<name val="Calibri"/><family val="2"/>'
_LINK_COLOR = '<color rgb="FF0563C1"/>'
STYLES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="3">'
    '<numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm:ss"/>'
    '<numFmt numFmtId="166" formatCode="hh:mm:ss"/>'
    "</numFmts>"
    '<fonts count="4">'
    f"<font>{_FONT.format(color='')}</font>"
    f"<font><b/>{_FONT.format(color='')}</font>"
    f"<font><u/>{_FONT.format(color=_LINK_COLOR)}</font>"
    f"<font><b/><u/>{_FONT.format(color=_LINK_COLOR)}</font>"
    "</fonts>"
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="10">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="165" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="166" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/>'
    '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    '<dxfs count="0"/>'
    '<tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>'
    "</styleSheet>"
)
