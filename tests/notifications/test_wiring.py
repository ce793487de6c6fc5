"""The wiring: beat's schedule entry, and billing's renewal signal reaching order_renewed."""

from __future__ import annotations

import pytest
from django.conf import settings

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


@pytest.mark.django_db
def test_a_fulfilled_renewal_sends_its_renewal_email_once(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from billing import fulfilment, services
    from billing.models import Order
    from communities.models import Community
    from residents.models import Resident

    Community.objects.filter(pk=world.community_a.pk).update(send_renew_email=True)
    Resident.objects.filter(pk=world.resident_a.pk).update(
        activated=True, expires_at=timezone.now() + timedelta(days=3), email="lily@example.test"
    )
    order = services.order_create(
        actor=world.installer_a,
        order_type="renew",
        items=[services.Item("app", world.resident_a.pk)],
        renew_to=(timezone.now() + timedelta(days=400)).date(),
    )
    for _attempt in range(2):  # a second delivery of the same payment
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            fulfilment.fulfil(locked)  # fully discounted: no Checkout Session
    assert [m.to for m in mailoutbox] == [["lily@example.test"]]
