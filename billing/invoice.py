"""The invoice of an order as a PDF (fpdf2): the seller (settings), the payer's Billing
Information, the order's number and date, one line per item, the coupon and the totals, all as
the order stored them when it was created."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from fpdf import FPDF

from accounts.models import BillingInformation

from .formatting import money
from .models import Order, OrderItem


def _text(value) -> str:
    # The core fonts are Latin-1: anything else is replaced rather than refused.
    return str(value or "").encode("latin-1", "replace").decode("latin-1")


def invoice_pdf(order: Order) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "INVOICE", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    seller = [settings.SMARTPLUS_SELLER_NAME, settings.SMARTPLUS_SELLER_ADDRESS]
    for line in seller:
        pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    created = timezone.localtime(order.created)
    for label, value in (
        ("Order Number", order.number),
        ("Date", f"{created:%Y-%m-%d %H:%M}"),
        ("Type", order.get_order_type_display()),
        ("Status", order.get_status_display()),
        ("Payer", order.payer_name),
    ):
        pdf.cell(0, 5, _text(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(0, 5, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    info = BillingInformation.objects.filter(installer=order.installer_id).first()
    if info is None:
        pdf.cell(0, 5, _text(order.installer.get_username()), new_x="LMARGIN", new_y="NEXT")
    else:
        address = ", ".join(filter(None, [info.street, info.city, info.post_code, info.country.name]))
        for line in (info.company, f"ATTN: {info.attn}", address, f"TEL: {info.tel}", info.email):
            pdf.cell(0, 5, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (60, 30, 60, 30)
    pdf.set_font("Helvetica", "B", 10)
    for width, head in zip(widths, ("Community / APT", "Type", "Name", "Price"), strict=True):
        pdf.cell(width, 6, head, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", size=9)
    for item in OrderItem.objects.filter(order=order).order_by("pk").iterator(chunk_size=2000):
        where = f"{item.community_name} {item.apt}".strip()
        cells = (where, item.get_item_type_display(), item.name, money(item.amount, order.currency))
        for width, value in zip(widths, cells, strict=True):
            pdf.cell(width, 5, _text(value)[:40], border=1)
        pdf.ln()
    pdf.ln(3)
    pdf.set_font("Helvetica", size=10)
    lines = [("Total Price", money(order.subtotal, order.currency))]
    if order.coupon_code:
        lines.append((f"Coupon {order.coupon_code}", f"-{money(order.coupon_amount, order.currency)}"))
    lines.append(("Final Price", money(order.total, order.currency)))
    for label, value in lines:
        pdf.cell(150, 6, _text(label), align="R")
        pdf.cell(30, 6, _text(value), align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
