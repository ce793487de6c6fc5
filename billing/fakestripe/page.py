"""The hosted payment page: plain HTML and POST forms, no JavaScript, so a browser test can click it."""

from __future__ import annotations

from html import escape

from .store import money

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; color: #1a1f36; }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
td, th { padding: .4rem; border-bottom: 1px solid #e3e8ee; text-align: left; }
td.amount, th.amount { text-align: right; }
.banner { background: #fff8e1; padding: .5rem; border-radius: 4px; font-size: .9rem; }
form { display: inline; }
button { font-size: 1rem; padding: .5rem 1rem; margin: .25rem .25rem 0 0; cursor: pointer; }
#pay { background: #635bff; color: white; border: none; border-radius: 4px; }
"""


def _document(title: str, body: str) -> bytes:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    ).encode()


def checkout_page(session: dict, lines: list[dict]) -> bytes:
    currency = session["currency"]
    rows = "".join(
        "<tr class='line-item'>"
        f"<td>{escape(line['description'])}</td><td>{line['quantity']}</td>"
        f"<td class='amount'>{money(line['price']['unit_amount'], currency)}</td>"
        f"<td class='amount'>{money(line['amount_total'], currency)}</td></tr>"
        for line in lines
    )
    action = f"/pay/{escape(session['id'])}"

    def button(name: str, label: str) -> str:
        return (
            f"<form method='post' action='{action}'>"
            f"<button type='submit' id='{name.replace('_', '-')}' name='action' value='{name}'>"
            f"{escape(label)}</button></form>"
        )

    email = session["customer_email"]
    body = (
        "<p class='banner'>Fake Stripe Checkout: test mode, no money moves.</p>"
        "<h1>Checkout</h1>"
        + (f"<p>Email: <span id='email'>{escape(email)}</span></p>" if email else "")
        + "<table><thead><tr><th>Item</th><th>Qty</th><th class='amount'>Unit price</th>"
        "<th class='amount'>Amount</th></tr></thead>"
        f"<tbody>{rows}</tbody><tfoot><tr><th colspan='3'>Total</th>"
        f"<th class='amount' id='total'>{money(session['amount_total'], currency)}</th></tr></tfoot></table>"
        + button("pay", "Pay")
        + button("pay_later", "Pay later (delayed method)")
        + button("fail", "Fail (delayed method fails)")
        + button("cancel", "Cancel")
    )
    return _document("Fake Stripe Checkout", body)


def message_page(title: str, message: str) -> bytes:
    return _document(title, f"<h1>{escape(title)}</h1><p id='message'>{escape(message)}</p>")
