"""Word (.docx) writing with Chinese fonts, over python-docx.

python-docx sets only the Latin font names of a run; Chinese text is drawn with the East Asian font
(w:rFonts/@w:eastAsia), which must be set separately or Word falls back to its own default and
LibreOffice to whatever it finds. Body text is 宋体 (SimSun), headings 黑体 (SimHei), the layout of
a Chinese official report: A4, 2.54 cm / 3.17 cm margins, first-line indent of two characters.
"""

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

BODY_FONT = "宋体"
HEADING_FONT = "黑体"
LATIN_FONT = "Times New Roman"


def set_font(target, east_asia: str, *, size: float | None = None, bold: bool | None = None) -> None:
    """Set a run's or a style's fonts, the East Asian one included."""
    font = target.font
    font.name = LATIN_FONT
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = rpr.makeelement(qn("w:rFonts"), {})
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)


def new_document():
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.54)
    section.left_margin = section.right_margin = Cm(3.17)
    normal = doc.styles["Normal"]
    set_font(normal, BODY_FONT, size=12)
    normal.paragraph_format.line_spacing = 1.5
    normal.paragraph_format.space_after = Pt(0)
    for name, size in (("Title", 18), ("Heading 1", 15), ("Heading 2", 14), ("Heading 3", 12)):
        style = doc.styles[name]
        set_font(style, HEADING_FONT, size=size, bold=name != "Heading 3")
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.font.italic = False
        style.paragraph_format.space_before = Pt(6)
        style.paragraph_format.space_after = Pt(3)
    return doc


def title(doc, text: str, subtitle: str = "") -> None:
    p = doc.add_paragraph(style="Title")
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    set_font(p.add_run(text), HEADING_FONT, size=18, bold=True)
    # The Title style draws a blue rule under the text; a report to head office has none.
    ppr = p._p.get_or_add_pPr()
    for border in ppr.findall(qn("w:pBdr")):
        ppr.remove(border)
    if subtitle:
        s = doc.add_paragraph()
        s.alignment = WD_ALIGN_PARAGRAPH.CENTER
        set_font(s.add_run(subtitle), BODY_FONT, size=11)


def heading(doc, text: str, level: int) -> None:
    p = doc.add_paragraph(style=f"Heading {level}")
    set_font(
        p.add_run(text),
        HEADING_FONT if level < 3 else BODY_FONT,
        size={1: 15, 2: 14}.get(level, 12),
        bold=True,
    )


def paragraph(doc, text: str, *, indent: bool = True, size: float = 12, bold_lead: str = "") -> None:
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    if indent:
        p.paragraph_format.first_line_indent = Pt(size * 2)
    if bold_lead:
        set_font(p.add_run(bold_lead), HEADING_FONT, size=size, bold=True)
    set_font(p.add_run(text), BODY_FONT, size=size)


def table(
    doc, headers: list[str], rows: list[list[str]], widths_cm: list[float] | None = None, size: float = 9
):
    """A bordered table, header row in 黑体. Built at its full size in one go: python-docx's add_row()
    and row.cells re-walk the whole table each time."""
    t = doc.add_table(rows=len(rows) + 1, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    cells = t._cells  # every cell, row by row, computed once
    width = len(headers)
    for i, text in enumerate(headers):
        set_font(cells[i].paragraphs[0].add_run(text), HEADING_FONT, size=size, bold=True)
    for r, row in enumerate(rows, 1):
        for i, text in enumerate(row):
            para = cells[r * width + i].paragraphs[0]
            para.paragraph_format.line_spacing = 1.0
            set_font(para.add_run(str(text)), BODY_FONT, size=size)
    if widths_cm:
        # Word reads the cells' widths, LibreOffice the table grid's: set both, and no autofit.
        t.autofit = False
        for col, w in zip(t._tbl.tblGrid.findall(qn("w:gridCol")), widths_cm, strict=True):
            col.set(qn("w:w"), str(int(Cm(w).twips)))
        for index, cell in enumerate(cells):
            cell.width = Cm(widths_cm[index % width])
    return t


def document_text(path_or_file) -> str:
    """All the text of a .docx, paragraphs then tables, one line each: for tests and the text preview."""
    doc = Document(path_or_file)
    lines = [p.text for p in doc.paragraphs]
    for t in doc.tables:
        for row in t.rows:
            lines.append("\t".join(c.text for c in row.cells))
    return "\n".join(lines)
