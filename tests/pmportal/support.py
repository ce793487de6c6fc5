"""Shared setup of the pmportal tests."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from communities.choices import FeaturePlan
from communities.models import Community


def set_plan(community, plan=FeaturePlan.PREMIUM, *, days: int | None = 30) -> None:
    """The community's feature plan, in force for `days` more days (negative: expired; None: never paid)."""
    expires = None if days is None else timezone.now() + timedelta(days=days)
    Community.objects.filter(pk=community.pk).update(feature_plan=plan, plan_expires_at=expires)
    community.refresh_from_db()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
