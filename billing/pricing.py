"""What an item costs: the price list in force for an installer, activation and renewal prices.

Activation buys `activation_months` of service at the list's activation price (App: the
activation fee; PM App and Premium Plan: their monthly fee * the months). Renewal is pro rata by
day: monthly fee * 12 * days / 365, rounded to the cent, for the days from the item's current
expiry (or now, when it has expired) to Renew To. docs/billing.md states both.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from django.conf import settings

from .choices import ItemType
from .models import PriceList


def price_list_for(installer) -> PriceList:
    """The installer's distributor's list, else the default one."""
    distributor_id = getattr(installer, "distributor_id", None)
    if distributor_id:
        own = PriceList.objects.filter(distributor_id=distributor_id).first()
        if own is not None:
            return own
    return PriceList.objects.get(is_default=True)


def monthly_fee(prices: PriceList, item_type: str) -> int:
    return {
        ItemType.APP: prices.monthly_fee,
        ItemType.PM_APP: prices.pm_app_monthly_fee,
        ItemType.PREMIUM: prices.premium_monthly_fee,
    }[item_type]


def activation_price(prices: PriceList, item_type: str) -> int:
    if item_type == ItemType.APP:
        return prices.activation_fee
    return monthly_fee(prices, item_type) * prices.activation_months


def activation_expiry(prices: PriceList, start: datetime) -> datetime:
    return start + relativedelta(months=prices.activation_months)


def renewal_days(expires_at: datetime | None, renew_to: datetime, now: datetime) -> int:
    """Whole days bought: from the current expiry (now, if it has passed) to Renew To."""
    start = max(expires_at, now) if expires_at else now
    return max(0, (renew_to - start + timedelta(seconds=86_399)) // timedelta(days=1))


def renewal_price(prices: PriceList, item_type: str, days: int) -> int:
    return (monthly_fee(prices, item_type) * 12 * days + 182) // 365  # rounded half up


def renew_to_datetime(day, time_zone: str) -> datetime:
    """Renew To is a date in the community's time zone: the service holds until its midnight
    (00:00 of that day, as the spec's "Next Expiration Time 2024-04-09 00:00:00")."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone or "UTC"))


def latest_renew_to(now: datetime) -> datetime:
    return now + relativedelta(years=settings.SMARTPLUS_RENEW_MAX_YEARS)
