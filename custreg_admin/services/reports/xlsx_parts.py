"""Reports: the fixed parts of the XLSX package the streaming writer
(:mod:`custreg_admin.services.reports.xlsx`) puts around its one worksheet.

An XLSX file is a zip of XML parts (ECMA-376, SpreadsheetML): the content types, the package and
workbook relationships, the workbook, the styles and the sheet. All but the sheet and the
workbook (which names the sheet and its autofilter range) are the same for every report.

The styles the sheet's cells use, by their index in ``cellXfs`` (the ``s`` attribute):
:data:`STYLE_HEADER` bold, :data:`STYLE_MONEY` the built-in ``#,##0.00`` (number format 4),
:data:`STYLE_DATE` ``yyyy-mm-dd``, :data:`STYLE_QUOTED` text with Excel's "quote prefix" (it
stays text when the cell is edited).
"""

from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "SHEET_PATH",
    "STYLE_DATE",
    "STYLE_HEADER",
    "STYLE_MONEY",
    "STYLE_QUOTED",
    "fixed_parts",
    "workbook_xml",
]

DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_PATH = "xl/worksheets/sheet1.xml"

STYLE_HEADER = 1
STYLE_MONEY = 2
STYLE_DATE = 3
STYLE_QUOTED = 4

_CONTENT_TYPES = (
    DECLARATION + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    f'<Override PartName="/{SHEET_PATH}" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" '
    'ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    '<Override PartName="/docProps/app.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.extended-properties+xml"/>'
    "</Types>"
)

_ROOT_RELS = (
    DECLARATION + f'<Relationships xmlns="{PACKAGE_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
    'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    f'<Relationship Id="rId3" Type="{REL_NS}/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)

_WORKBOOK_RELS = (
    DECLARATION + f'<Relationships xmlns="{PACKAGE_REL_NS}">'
    f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)

_FONT = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
_XF = 'fontId="0" fillId="0" borderId="0" xfId="0"'
_STYLES = (
    DECLARATION + f'<styleSheet xmlns="{MAIN_NS}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    f'<fonts count="2"><font>{_FONT}</font><font><b/>{_FONT}</font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="5">'
    f'<xf numFmtId="0" {_XF}/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'  # header
    f'<xf numFmtId="4" {_XF} applyNumberFormat="1"/>'  # money: #,##0.00
    f'<xf numFmtId="164" {_XF} applyNumberFormat="1"/>'  # date: yyyy-mm-dd
    f'<xf numFmtId="0" {_XF} quotePrefix="1"/>'  # text that looks like a formula
    "</cellXfs>"
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)

_APP = (
    DECLARATION + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>custreg-admin</Application></Properties>'
)


def _core(created: dt.datetime) -> str:
    stamp = created.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        DECLARATION
        + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>custreg-admin</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
        f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        "</cp:coreProperties>"
    )


def fixed_parts(created: dt.datetime) -> list[tuple[str, str]]:
    """``(path, xml)`` of the parts written before the sheet."""
    return [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _ROOT_RELS),
        ("docProps/app.xml", _APP),
        ("docProps/core.xml", _core(created)),
        ("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS),
        ("xl/styles.xml", _STYLES),
    ]


def workbook_xml(title: str, filter_range: str | None) -> str:
    """The workbook: its one sheet, and the autofilter's hidden name as Excel writes it.

    ``filter_range`` is absolute (``$A$1:$C$10``); None without an autofilter.
    """
    names = ""
    if filter_range:
        sheet = "'" + title.replace("'", "''") + "'"
        names = (
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f'hidden="1">{escape(sheet)}!{filter_range}</definedName></definedNames>'
        )
    return (
        DECLARATION + f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<workbookPr/><bookViews><workbookView activeTab="0"/></bookViews>'
        f'<sheets><sheet name={quoteattr(title)} sheetId="1" r:id="rId1"/></sheets>'
        f'{names}<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>'
    )
