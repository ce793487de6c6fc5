"""Amounts are integer cents: shown with two decimals and the currency (docs/billing.md)."""

from __future__ import annotations

from django.conf import settings

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "sgd": "S$"}


def money(cents, currency: str | None = None) -> str:
    """1234 -> "$12.34"; an unknown currency is written after the number ("12.34 CHF")."""
    currency = (currency or settings.SMARTPLUS_CURRENCY).lower()
    text = f"{(cents or 0) / 100:,.2f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"
