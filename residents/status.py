"""Active and App Status of end users, in Python for one row and as filters for a list."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from .choices import ActiveStatus, AppStatus


def active_status(activated: bool, expires_at) -> str:
    if not activated:
        return ActiveStatus.INACTIVATED
    if expires_at is not None and expires_at <= timezone.now():
        return ActiveStatus.EXPIRED
    return ActiveStatus.NORMAL


def active_q(status: str, prefix: str = "") -> Q:
    now = timezone.now()
    if status == ActiveStatus.INACTIVATED:
        return Q(**{f"{prefix}activated": False})
    if status == ActiveStatus.EXPIRED:
        return Q(**{f"{prefix}activated": True, f"{prefix}expires_at__lte": now})
    return Q(**{f"{prefix}activated": True}) & (
        Q(**{f"{prefix}expires_at__isnull": True}) | Q(**{f"{prefix}expires_at__gt": now})
    )


def app_status_q(status: str, prefix: str = "") -> Q:
    return Q(**{f"{prefix}app_registered_at__isnull": status == AppStatus.UNREGISTERED})
