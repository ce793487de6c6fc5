"""The rows as claims: a stale or failed row is sent by a later sweep, a sent one never again; the
renewal email once per order and account; the account emails in the same log."""

from __future__ import annotations

import datetime
import smtplib

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services import account_email_deliver
from billing.choices import ItemType, OrderStatus, OrderType
from billing.models import Order, OrderItem
from communities.models import Community
from notifications import delivery
from notifications.choices import Kind, Status
from notifications.models import Notification
from notifications.renewals import order_renewed
from notifications.sweep import FAILED_RETRY_AFTER, STALE_AFTER, sweep
from residents.app_accounts import app_account_email

from .conftest import local

pytestmark = pytest.mark.django_db

DAY3 = local("UTC", 2026, 3, 13, 1)


def expired_site(site):
    return [site.account(n, local("UTC", 2026, 3, 10, 9)) for n in ("101", "102")]


def test_a_row_whose_task_was_lost_is_sent_by_the_next_sweep(site, mailoutbox):
    expired_site(site)
    first = sweep(now=DAY3, enqueue=False)  # the worker died: rows written, nothing sent
    assert first.enqueued == 2 and mail.outbox == []
    assert sweep(now=DAY3).enqueued == 0  # still within the lease: its task may yet run
    Notification.objects.update(created=timezone.now() - STALE_AFTER - datetime.timedelta(seconds=1))
    assert sweep(now=DAY3).enqueued == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted([site.installer.email, site.pm.email])
    assert sweep(now=DAY3).enqueued == 0
    assert len(mailoutbox) == 2


def test_a_failed_send_is_recorded_retried_and_then_sent_once(site, mailoutbox, monkeypatch):
    expired_site(site)
    sweep(now=DAY3, enqueue=False)
    head = Notification.objects.filter(recipient_email=site.installer.email).order_by("pk").first()

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPDataError(451, b"Try again later")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(smtplib.SMTPDataError):
        delivery.deliver(head.pk)
    rows = Notification.objects.filter(group_key=head.group_key)
    assert {(r.status, r.attempts) for r in rows} == {(Status.FAILED, 1)}
    assert "451" in rows[0].last_error
    monkeypatch.undo()

    Notification.objects.filter(status=Status.FAILED).update(updated=timezone.now() - FAILED_RETRY_AFTER * 2)
    Notification.objects.filter(status=Status.PENDING).update(status=Status.SENT)  # the PM's: not this test
    assert sweep(now=DAY3).enqueued == 1
    assert [m.to for m in mailoutbox] == [[site.installer.email]]
    assert {(r.status, r.attempts) for r in rows.all()} == {(Status.SENT, 2)}
    assert delivery.deliver(head.pk) is False  # a late duplicate of the task
    assert len(mailoutbox) == 1


def test_an_email_whose_accounts_are_gone_is_not_sent(site, mailoutbox):
    residents = expired_site(site)
    sweep(now=DAY3, enqueue=False)
    for resident in residents:
        resident.apartment.delete()
    head = Notification.objects.order_by("pk").first()
    assert delivery.deliver(head.pk) is False
    assert mailoutbox == []
    assert Notification.objects.get(pk=head.pk).status == Status.FAILED


def renewal_order(site, residents, *, status=OrderStatus.SUCCEED):
    order = Order.objects.create(
        number=f"R{Order.objects.count() + 1:06d}",
        installer=site.installer,
        community=site.community,
        payer=site.installer,
        payer_name="Installer",
        order_type=OrderType.RENEW,
        status=status,
        currency="usd",
        subtotal=1000,
        total=1000,
    )
    for resident in residents:
        OrderItem.objects.create(
            order=order,
            item_type=ItemType.APP,
            community=site.community,
            resident=resident,
            community_name=site.community.name,
            amount=500,
            expires_after=local("UTC", 2027, 3, 10, 9),
        )
    return order


@pytest.mark.parametrize("switch", [True, False])
def test_renewal_email_once_per_order_and_account(
    site, mailoutbox, switch, django_capture_on_commit_callbacks
):
    Community.objects.filter(pk=site.community.pk).update(send_renew_email=switch)
    residents = expired_site(site)
    order = renewal_order(site, residents)
    with django_capture_on_commit_callbacks(execute=True):
        assert order_renewed(order.pk) == (2 if switch else 0)
    with django_capture_on_commit_callbacks(execute=True):
        assert order_renewed(order.pk) == 0  # the fulfilment called twice
    if not switch:
        assert mailoutbox == []
        return
    assert sorted(m.to[0] for m in mailoutbox) == sorted(r.email for r in residents)
    assert mailoutbox[0].subject == "Your SmartPlus app service for Luna Gardens has been renewed"
    assert "renewed until 2027-03-10" in mailoutbox[0].body
    # Another order for the same account is another email.
    with django_capture_on_commit_callbacks(execute=True):
        assert order_renewed(renewal_order(site, residents[:1]).pk) == 1
    assert len(mailoutbox) == 3


def test_an_order_that_did_not_succeed_sends_nothing(site, mailoutbox):
    Community.objects.filter(pk=site.community.pk).update(send_renew_email=True)
    order = renewal_order(site, expired_site(site), status=OrderStatus.PROCESSING)
    assert order_renewed(order.pk) == 0
    assert not Notification.objects.filter(kind=Kind.RENEWAL).exists()


def test_account_emails_appear_in_the_log(site, mailoutbox, monkeypatch):
    from accounts.models import User
    from residents.models import Resident

    resident = site.account("301", None)
    Resident.objects.filter(pk=resident.pk).update(account_email_sent_to="")
    assert app_account_email(resident_id=resident.pk)
    User.objects.filter(pk=site.pm.pk).update(account_email_sent_at=None)
    assert account_email_deliver(user_id=site.pm.pk)
    logged = set(
        Notification.objects.filter(kind=Kind.ACCOUNT).values_list(
            "recipient_email", "status", "installer_id"
        )
    )
    assert (resident.email, Status.SENT, site.installer.pk) in logged
    assert (site.pm.email, Status.SENT, site.installer.pk) in logged


def test_a_failed_account_email_is_logged_with_its_reason(site, mailoutbox, monkeypatch):
    from accounts.models import User
    from accounts.tasks import send_account_email

    User.objects.filter(pk=site.pm.pk).update(account_email_sent_at=None)

    def refuse(*args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({site.pm.email: (550, b"No such user")})

    monkeypatch.setattr("accounts.emails.send_mail", refuse)
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        send_account_email.run(site.pm.pk)
    row = Notification.objects.get(kind=Kind.ACCOUNT, recipient_email=site.pm.email)
    assert row.status == Status.FAILED and "No such user" in row.last_error


def test_an_account_renewed_before_the_send_is_left_out(site, mailoutbox):
    from residents.models import Resident

    first, second = expired_site(site)
    sweep(now=DAY3, enqueue=False)
    Resident.objects.filter(pk=first.pk).update(expires_at=local("UTC", 2027, 3, 10, 9))
    head = Notification.objects.filter(recipient_email=site.installer.email).order_by("pk").first()
    assert delivery.deliver(head.pk)
    [message] = mailoutbox
    assert "APT 102" in message.body and "APT 101" not in message.body
    # Both renewed: the PM's email is not sent, and not retried.
    Resident.objects.filter(pk=second.pk).update(expires_at=local("UTC", 2027, 3, 10, 9))
    pm_head = Notification.objects.filter(recipient_email=site.pm.email).order_by("pk").first()
    assert delivery.deliver(pm_head.pk) is False
    assert len(mailoutbox) == 1
    Notification.objects.update(updated=timezone.now() - FAILED_RETRY_AFTER * 2)
    assert sweep(now=DAY3, enqueue=False).enqueued == 0
