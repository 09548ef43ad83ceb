"""The cohort report as a Word file (``report.docx``) in APA style, from the same sections as the HTML.

Every section of the HTML report becomes a heading with its paragraphs, tables,
figures and reference list; tables are numbered (``Table 1`` ... in bold, the title
in italics above the table) with APA rules (a line above and below the column
heads and below the last row, no vertical lines) and their note below
(*Note.* ...). The methods paragraph, Table 1 and the references come first (the
report's section 2), ready to paste into a thesis.

The file is reproducible: the same report gives the same bytes (fixed document
dates and zip entry times); only the run time shown in the text changes between runs.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from .blocks import Bullets, DefList, Heading, Image, Para, Pre, References, Section, Table

#: Fixed document dates and zip entry times (same report, same bytes).
FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_TABLE_PREFIX = re.compile(r"^(Table|Tabel)\s+\d+\.\s*")
_TAGS = re.compile(r"<[^>]+>")


def _rule(cell, edge: str, size: int = 8) -> None:
    """A horizontal line on one edge (``top``/``bottom``) of a table cell (APA tables: no vertical lines)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    el = OxmlElement(f"w:{edge}")
    el.set(qn("w:val"), "single")
    el.set(qn("w:sz"), str(size))
    el.set(qn("w:space"), "0")
    el.set(qn("w:color"), "000000")
    borders.append(el)


def _cell_text(cell, text: str, *, bold: bool = False, italic: bool = False, right: bool = False) -> None:
    cell.text = ""
    para = cell.paragraphs[0]
    run = para.add_run(text)
    run.bold, run.italic = bold, italic
    para.paragraph_format.space_after = Pt(0)
    if right:
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _plain(text) -> str:
    """Column heads may carry HTML sub/superscripts (``ω<sub>t</sub>``): Word gets the plain text."""
    return _TAGS.sub("", str(text))


def _add_table(doc, block: Table, number: int, note_word: str, table_word: str) -> None:
    title = doc.add_paragraph()
    title.add_run(f"{table_word} {number}").bold = True
    title.paragraph_format.space_after = Pt(0)
    title.paragraph_format.keep_with_next = True
    caption = doc.add_paragraph()
    caption.add_run(_TABLE_PREFIX.sub("", block.caption or "")).italic = True
    caption.paragraph_format.keep_with_next = True
    ncol = len(block.columns)
    table = doc.add_table(rows=1 + len(block.rows), cols=ncol)
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    numeric = set(block.numeric)
    for j, head in enumerate(block.columns):
        cell = table.rows[0].cells[j]
        _cell_text(cell, _plain(head), right=j in numeric)
        _rule(cell, "top")
        _rule(cell, "bottom")
    for i, row in enumerate(block.rows, start=1):
        for j in range(ncol):
            cell = table.rows[i].cells[j]
            _cell_text(cell, str(row[j]) if j < len(row) else "", right=j in numeric)
            if i == len(block.rows):
                _rule(cell, "bottom")
    for row in table.rows:
        for cell in row.cells:
            for para in cell.paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9)
    if block.note:
        note = doc.add_paragraph()
        note.add_run(note_word).italic = True
        note.add_run(" " + block.note)
        for run in note.runs:
            run.font.size = Pt(9)
    else:
        doc.add_paragraph()


def _add_block(doc, block, state: dict, T) -> None:
    if isinstance(block, Heading):
        doc.add_heading(block.text, level=2)
    elif isinstance(block, Para):
        para = doc.add_paragraph(block.text)
        if "note" in (block.css or ""):
            for run in para.runs:
                run.font.size = Pt(9)
    elif isinstance(block, Bullets):
        for item in block.items:
            doc.add_paragraph(str(item), style="List Bullet")
    elif isinstance(block, DefList):
        for term, value in block.items:
            para = doc.add_paragraph()
            para.add_run(f"{term}: ").bold = True
            para.add_run(str(value))
            para.paragraph_format.space_after = Pt(0)
    elif isinstance(block, Table):
        state["tables"] += 1
        _add_table(doc, block, state["tables"], T("note_word"), T("table_word"))
    elif isinstance(block, References):
        for runs in block.items:
            para = doc.add_paragraph()
            fmt = para.paragraph_format
            fmt.left_indent, fmt.first_line_indent = Cm(1.27), Cm(-1.27)  # APA hanging indent
            for text, italic in runs:
                para.add_run(text).italic = italic
    elif isinstance(block, Image):
        state["figures"] += 1
        data = base64.b64decode(block.uri.split(",", 1)[1])
        title = doc.add_paragraph()
        title.add_run(f"{T('figure_word')} {state['figures']}").bold = True
        title.paragraph_format.keep_with_next = True
        doc.add_picture(io.BytesIO(data), width=Cm(16))
        if block.caption:
            cap = doc.add_paragraph()
            cap.add_run(block.caption).font.size = Pt(9)
    elif isinstance(block, Pre):
        para = doc.add_paragraph()
        run = para.add_run(block.text)
        run.font.name = "Courier New"
        run.font.size = Pt(8)


def word_bytes(sections: list[Section], *, title: str, subtitle: str, T) -> bytes:
    """The report as ``.docx`` bytes (deterministic: fixed dates and zip entry times)."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, "attachment-pipeline", "attachment-pipeline"
    props.created = props.modified = FIXED_DATE
    props.revision = 1
    doc.add_heading(title, level=0)
    doc.add_paragraph(subtitle)
    state = {"tables": 0, "figures": 0}
    for k, section in enumerate(sections, start=1):
        doc.add_heading(f"{k}. {section.title}", level=1)
        for block in section.blocks:
            _add_block(doc, block, state, T)
    raw = io.BytesIO()
    doc.save(raw)
    return _normalise_zip(raw.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """The same zip with fixed entry times (python-docx stamps the current time on every entry)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def write_word(sections: list[Section], out: Path, *, title: str, subtitle: str, T) -> Path:
    """Write ``report.docx`` (see :func:`word_bytes`)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(word_bytes(sections, title=title, subtitle=subtitle, T=T))
    return out
