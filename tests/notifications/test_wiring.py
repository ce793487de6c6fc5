"""The wiring: beat's schedule entry, and billing's renewal signal reaching order_renewed."""

from __future__ import annotations

import sys
import types

import pytest
from django.conf import settings
from django.dispatch import Signal

from notifications import receivers
from notifications.tasks import expiration_sweep_task


def test_beat_runs_the_sweep_hourly():
    entry = settings.CELERY_BEAT_SCHEDULE["notifications-expiration-sweep"]
    assert entry["task"] == expiration_sweep_task.name
    assert entry["schedule"] == settings.SMARTPLUS_EXPIRATION_SWEEP_SECONDS == 3600


@pytest.mark.django_db
def test_the_beat_task_sweeps(site, mailoutbox):
    from django.utils import timezone

    from notifications.models import Notification

    site.account("101", timezone.now() - timezone.timedelta(days=3, hours=1))
    expiration_sweep_task.delay()
    assert Notification.objects.filter(offset_days=3).count() == 2
    assert len(mailoutbox) == 2


def test_billings_order_renewed_signal_calls_the_hook(monkeypatch):
    """billing/signals.py (built alongside) defines `order_renewed`; once it exists, ready()
    connects it to notifications.renewals.order_renewed."""
    signal = Signal()
    monkeypatch.setitem(sys.modules, "billing.signals", types.SimpleNamespace(order_renewed=signal))
    called = []
    monkeypatch.setattr("notifications.renewals.order_renewed", called.append)
    receivers.connect()
    signal.send(sender=None, order_id=42)
    assert called == [42]
