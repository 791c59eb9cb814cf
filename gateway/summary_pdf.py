"""The printable summary as a PDF (fpdf2): the same sections and items as the printable web page."""

import unicodedata

from fpdf import FPDF
from fpdf.fonts import FontFace

from gateway.web.locale_dates import when_text

_PUNCTUATION = {"–": "-", "—": "-", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "•": "-", "≥": ">=", "≤": "<="}
HEADING = FontFace(emphasis="BOLD", fill_color=(230, 236, 240))


def latin1(text):
    """Text the PDF core fonts can draw: punctuation simplified, other letters folded to their base letter."""
    text = "".join(_PUNCTUATION.get(c, c) for c in str(text or ""))
    if all(ord(c) < 256 for c in text):
        return text
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if ord(c) < 256 and not unicodedata.combining(c))


def _dates(item):
    start, end = when_text(item.get("date")), when_text(item.get("end"))
    return f"{start} - {end}" if end else start


def _table(pdf, headings, rows, widths):
    with pdf.table(col_widths=widths, headings_style=HEADING, text_align="LEFT", line_height=5) as table:
        row = table.row()
        for heading in headings:
            row.cell(heading)
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(latin1(value))


def _section(pdf, section, items):
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 9, latin1(section.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    if isinstance(items, dict):
        items = items["upcoming"] + items["past"]
    if not items:
        pdf.multi_cell(0, 5, latin1(section.empty), new_x="LMARGIN", new_y="NEXT")
    elif section.slug == "lab-results":
        rows = [
            (
                f"{r['name']} ({panel['name']})",
                f"{r['value']} {r['unit']}".strip(),
                r["range"],
                r["flag"],
                when_text(r.get("date")),
            )
            for panel in items
            for r in panel["results"]
        ]
        _table(pdf, ("Test", "Result", "Normal range", "Flag", "Date"), rows, (60, 30, 35, 20, 35))
    else:
        rows = [(i["name"], i["status"], _dates(i), "; ".join(f"{k}: {v}" for k, v in i["details"])) for i in items]
        _table(pdf, ("Name", "Status", "Date", "Details"), rows, (50, 22, 38, 70))
    pdf.ln(4)


def render(page):
    """Return the PDF bytes for a printable-summary page context (see exports.build)."""
    pdf = FPDF(format="Letter")
    pdf.set_title(latin1(f"Health summary of {page['person']}"))
    pdf.set_author(latin1(page["practice"]))
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.multi_cell(0, 9, latin1(f"Health summary of {page['person']}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    born = when_text(page["patient"].get("birthDate"))
    span = (
        f"Care from {when_text(page['start']) or 'the beginning'} to {when_text(page['end']) or 'today'}"
        if page["start"] or page["end"]
        else "Whole record"
    )
    for line in (f"Born {born}" if born else "", f"From {page['practice']}", f"{span}. Made {when_text(page['now'])}."):
        if line:
            pdf.multi_cell(0, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for section, items in page["sections"]:
        _section(pdf, section, items)
    return bytes(pdf.output())
