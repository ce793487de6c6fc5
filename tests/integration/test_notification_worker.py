"""Acceptance 2: the expiration emails through a real Celery worker on Redis and a real SMTP
server, with two sweeps and two beat runs at once and every send task delivered twice: each email
arrives once. An SMTP server refusing the first attempts gets the email later, once."""

from __future__ import annotations

import collections
import datetime
import threading
import time

import pytest
from celery.app import autoretry
from django.db import connection
from django.utils import timezone

from notifications import delivery
from notifications.choices import Status
from notifications.models import Notification
from notifications.sweep import sweep
from notifications.tasks import expiration_sweep_task
from smartplus import celery as smartplus_celery
from tests.integration.conftest import Inbox
from tests.notifications.conftest import make_site

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def at_noon(days_ago: int) -> datetime.datetime:
    day = timezone.now().astimezone(datetime.UTC).date() - datetime.timedelta(days=days_ago)
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


def two_sites():
    """Per community: 6 accounts 3 days expired (one digest to the installer and one to the PM)
    and 2 end users 1 day expired (one email each): 4 emails, 8 in all."""
    sites = []
    for name in ("Luna Gardens", "Sol Towers"):
        site = make_site(name=name)
        for n in range(6):
            site.account(f"1{n:02d}", at_noon(3))
        for n in range(2):
            site.account(f"2{n:02d}", at_noon(1))
        sites.append(site)
    return sites


def settle(inbox, count: int, quiet: float = 4.0, timeout: float = 60) -> None:
    """Until `count` messages arrived and nothing more came for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if len(inbox.messages) != seen:
            seen, since = len(inbox.messages), time.monotonic()
        elif seen >= count and time.monotonic() - since > quiet:
            return
        time.sleep(0.1)


@pytest.fixture
def twice(monkeypatch):
    """Every send task delivered twice (the same task id, as a broker redelivery)."""
    original = smartplus_celery.fan_out
    sent = []

    def fan_out_twice(task, argument_lists, countdown=None):
        argument_lists = list(argument_lists)
        sent.extend(argument_lists * 2)
        original(task, argument_lists, countdown)
        original(task, argument_lists, countdown)

    monkeypatch.setattr(smartplus_celery, "fan_out", fan_out_twice)
    return sent


def in_thread(fn):
    def run():
        try:
            fn()
        finally:
            connection.close()

    return threading.Thread(target=run)


def test_two_sweeps_two_beats_and_duplicate_tasks_send_each_email_once(
    smtp_server, celery_worker_real, twice
):
    sites = two_sites()
    start = threading.Barrier(2)

    def one_sweep():
        start.wait()
        sweep()

    threads = [in_thread(one_sweep), in_thread(one_sweep)]
    for thread in threads:
        thread.start()
    expiration_sweep_task.delay()  # two beat processes each sending the schedule's entry
    expiration_sweep_task.delay()
    for thread in threads:
        thread.join()

    settle(smtp_server, 8)

    recipients = collections.Counter(tuple(m.rcpt_tos) for m in smtp_server.messages)
    expected = set()
    for site in sites:
        expected |= {(site.installer.email,), (site.pm.email,)}
        expected |= {(r.email,) for r in site.community.residents.filter(expires_at=at_noon(1))}
    assert set(recipients) == expected
    assert all(n == 1 for n in recipients.values()), recipients
    assert Notification.objects.exclude(status=Status.SENT).count() == 0
    assert Notification.objects.count() == 2 * (6 * 2 + 2)
    assert len(twice) >= 2  # at least one sweep's chunk went out twice
    # Sweeping again sends nothing.
    sweep()
    time.sleep(2)
    assert len(smtp_server.messages) == 8


class RefusingInbox(Inbox):
    """Answers the first `refusals` messages with a temporary failure."""

    def __init__(self, refusals: int):
        super().__init__()
        self.refusals = refusals
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refused < self.refusals:
            self.refused += 1
            return "451 4.3.0 Try again later"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def refusing_smtp(smtp_server):
    smtp_server.__class__ = RefusingInbox
    smtp_server.refusals, smtp_server.refused = 3, 0
    return smtp_server


def test_a_refusing_smtp_server_gets_each_email_later_once(refusing_smtp, celery_worker_real, monkeypatch):
    # The task's backoff, shortened from tens of seconds so the test takes seconds.
    monkeypatch.setattr(autoretry, "get_exponential_backoff_interval", lambda **kwargs: 1)
    failures = []
    real_deliver = delivery.deliver

    def watching_deliver(head_id):
        try:
            return real_deliver(head_id)
        except OSError:
            failures.append(
                Notification.objects.filter(pk=head_id).values("status", "attempts", "last_error")[0]
            )
            raise

    monkeypatch.setattr(delivery, "deliver", watching_deliver)
    site = make_site()
    residents = [site.account(f"2{n:02d}", at_noon(1)) for n in range(3)]

    sweep()
    settle(refusing_smtp, 3)

    assert refusing_smtp.refused == 3
    assert sorted(m.rcpt_tos[0] for m in refusing_smtp.messages) == sorted(r.email for r in residents)
    # While it failed, the row said so; once sent, it shows how many attempts it took.
    assert len(failures) == 3
    assert all(f["status"] == Status.FAILED and "451" in f["last_error"] for f in failures)
    rows = list(Notification.objects.values_list("status", "attempts"))
    assert all(status == Status.SENT for status, _ in rows)
    assert sum(attempts for _, attempts in rows) == 3 + 3
