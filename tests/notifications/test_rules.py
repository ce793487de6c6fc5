"""Acceptance 1: every row of the rule table at its day boundary, in two time zones 25 hours
apart, with the community's switch On and Off, and a community whose time zone changes."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Count

from communities.models import Community
from notifications import sweep as sweep_module
from notifications.choices import Kind, Recipient
from notifications.models import Notification, SweepDay
from notifications.rules import CATCH_UP_DAYS, RULES, rules_for
from notifications.sweep import sweep

from .conftest import KIRITIMATI, PAGO_PAGO, local, make_site

pytestmark = pytest.mark.django_db

SECOND = datetime.timedelta(seconds=1)


@pytest.fixture(params=["sql", "portable"])
def backend(request, monkeypatch):
    """The PostgreSQL statements, and the other databases' path run on the same data."""
    if request.param == "portable":
        monkeypatch.setattr(sweep_module, "_insert_due_postgresql", sweep_module._insert_due_portable)
    return request.param


def rows_for(resident, offset):
    return set(
        Notification.objects.filter(account_id=resident.pk, offset_days=offset).values_list(
            "recipient_role", "recipient_email"
        )
    )


def expected(site, resident, rule):
    return {
        Recipient.END_USER: {(Recipient.END_USER, resident.email)},
        Recipient.PROPERTY_MANAGER: {(Recipient.PROPERTY_MANAGER, site.pm.email)},
        Recipient.INSTALLER: {(Recipient.INSTALLER, site.installer.email)},
    }[rule.recipient]


def by_offset(switch_on: bool) -> dict[int, list]:
    table: dict[int, list] = {}
    for rule in rules_for(switch_on=switch_on):
        table.setdefault(rule.offset_days, []).append(rule)
    return table


def test_the_table_reads_as_documented():
    assert [(r.offset_days, r.recipient, r.needs_switch) for r in RULES] == [
        (1, Recipient.END_USER, True),
        (3, Recipient.PROPERTY_MANAGER, True),
        (3, Recipient.INSTALLER, False),
        (5, Recipient.PROPERTY_MANAGER, True),
        (5, Recipient.INSTALLER, False),
        (15, Recipient.INSTALLER, False),
    ]
    assert {r.recipient for r in rules_for(switch_on=False)} == {Recipient.INSTALLER}


@pytest.mark.parametrize("switch", [True, False], ids=["switch-on", "switch-off"])
@pytest.mark.parametrize("zone", [KIRITIMATI, PAGO_PAGO])
def test_each_rule_starts_at_local_midnight_and_ends_after_its_catch_up_days(backend, zone, switch):
    site = make_site(time_zone=zone, switch=switch)
    # Expires at 18:00 local on 10 March: 1 day expired from 11 March 00:00 local.
    resident = site.account("101", local(zone, 2026, 3, 10, 18, 0))
    table = by_offset(switch)
    for offset in (1, 3, 5, 15):
        day_starts = local(zone, 2026, 3, 10) + datetime.timedelta(days=offset)
        sweep(now=day_starts - SECOND, enqueue=False)
        assert rows_for(resident, offset) == set(), f"offset {offset} due before its day"
        sweep(now=day_starts, enqueue=False)
        want = set().union(*(expected(site, resident, rule) for rule in table.get(offset, [])))
        assert rows_for(resident, offset) == want, f"offset {offset} at its day"
    # Past the catch-up days a missed notice is not sent any more.
    Notification.objects.all().delete()
    SweepDay.objects.all().delete()
    for offset in (1, 3, 5, 15):
        window_ends = local(zone, 2026, 3, 10) + datetime.timedelta(days=offset + CATCH_UP_DAYS)
        sweep(now=window_ends - SECOND, enqueue=False)
        want = set().union(*(expected(site, resident, rule) for rule in table.get(offset, [])))
        assert rows_for(resident, offset) == want
        Notification.objects.filter(offset_days=offset).delete()
        SweepDay.objects.all().delete()
        sweep(now=window_ends, enqueue=False)
        assert rows_for(resident, offset) == set(), f"offset {offset} still due after its window"


def test_a_pm_app_goes_to_its_holder_then_the_installer(backend, site):
    assignment = site.pm_app(local("UTC", 2026, 3, 10, 12))
    sweep(now=local("UTC", 2026, 3, 11), enqueue=False)
    sweep(now=local("UTC", 2026, 3, 13), enqueue=False)
    assert set(
        Notification.objects.filter(account_type="pm_app", account_id=assignment.pk).values_list(
            "offset_days", "recipient_role", "recipient_email"
        )
    ) == {(1, Recipient.END_USER, site.pm.email), (3, Recipient.INSTALLER, site.installer.email)}


def test_a_second_sweep_writes_nothing(backend, site):
    for number in ("101", "102", "103"):
        site.account(number, local("UTC", 2026, 3, 10, 9))
    first = sweep(now=local("UTC", 2026, 3, 13, 1), enqueue=False)
    second = sweep(now=local("UTC", 2026, 3, 13, 2), enqueue=False)
    assert first.created == 6  # three accounts, the PM and the installer each
    assert second.created == 0
    # The installer and the PM each get one email listing the three accounts.
    assert first.enqueued == 2 and second.enqueued == 0


def test_unpaid_renewed_or_unexpired_accounts_are_not_notified(backend, site):
    never_activated = site.account("201", local("UTC", 2026, 3, 10, 9))
    never_activated.__class__.objects.filter(pk=never_activated.pk).update(activated=False)
    site.account("202", local("UTC", 2026, 4, 10, 9))  # renewed: expires later
    sweep(now=local("UTC", 2026, 3, 13, 1), enqueue=False)
    assert not Notification.objects.exists()


@pytest.mark.parametrize(("first", "second"), [(PAGO_PAGO, KIRITIMATI), (KIRITIMATI, PAGO_PAGO)])
def test_a_time_zone_change_between_sweeps_sends_each_notice_once(backend, first, second):
    site = make_site(time_zone=first)
    resident = site.account("101", local(first, 2026, 3, 10, 12))
    sweep(now=local(first, 2026, 3, 13, 0, 30), enqueue=False)
    assert rows_for(resident, 3) == {
        (Recipient.PROPERTY_MANAGER, site.pm.email),
        (Recipient.INSTALLER, site.installer.email),
    }
    Community.objects.filter(pk=site.community.pk).update(time_zone=second)
    # Every hour of the next days in the new zone: the offset 3 rows are not written again, and
    # the offset 5 rows once, whichever way the date jumped.
    start = local(first, 2026, 3, 13, 1, 30)
    for hour in range(0, 24 * 5, 2):
        sweep(now=start + datetime.timedelta(hours=hour), enqueue=False)
    counts = dict(
        Notification.objects.filter(account_id=resident.pk, kind=Kind.EXPIRATION)
        .values_list("offset_days")
        .annotate(n=Count("pk"))
    )
    assert counts == {3: 2, 5: 2}


def test_a_day_swept_once_and_what_changed_during_it_the_next_day(backend, site):
    site.account("101", local("UTC", 2026, 3, 10, 9))
    assert sweep(now=local("UTC", 2026, 3, 13, 1), enqueue=False).created == 2
    # An expiry moved back during the day: the community's day is swept, the next day sees it
    # (still within the rule's catch-up days).
    late = site.account("102", local("UTC", 2026, 3, 10, 9))
    assert sweep(now=local("UTC", 2026, 3, 13, 22), enqueue=False).created == 0
    assert sweep(now=local("UTC", 2026, 3, 14, 1), enqueue=False).created == 2
    assert Notification.objects.filter(account_id=late.pk, offset_days=3).count() == 2
