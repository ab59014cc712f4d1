"""PDFs made from HTML documents, for every app that hands one over (selection letters,
transfer summaries, conference agendas): WeasyPrint, imported only when a PDF is made.

shared/STACK.md: DejaVu fonts; the font is set in the `@page` margin boxes, which do not
inherit it. The PDF is tagged for screen readers.
"""

from __future__ import annotations


def render_pdf(html: str) -> bytes:
    """A tagged PDF of an HTML document (WeasyPrint; imported here, as only PDFs need it)."""
    from weasyprint import HTML

    return HTML(string=html).write_pdf(pdf_tags=True)  # type: ignore[no-any-return]
