"""Invoice PDFs, rendered from an HTML template with WeasyPrint (the ``pdf`` extra)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tidewater.billing.invoices import Invoice, compute_invoice_total
from tidewater.money import format_money

TEMPLATES = Path(__file__).parent / "templates"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
_env.filters["money"] = format_money


def render_invoice_html(invoice: Invoice) -> str:
    totals = compute_invoice_total(invoice)
    return _env.get_template("invoice.html").render(invoice=invoice, totals=totals)


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes. Needs ``pip install 'tidewater[pdf]'``."""
    try:
        from weasyprint import HTML  # heavy import, only when a PDF is asked for
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise RuntimeError("PDF rendering needs: pip install 'tidewater[pdf]'") from exc
    # TODO: Dana wants the VAT breakdown on page 1 even for 40+ line invoices; the template
    # currently pushes it to the last page.
    return HTML(string=render_invoice_html(invoice)).write_pdf()
