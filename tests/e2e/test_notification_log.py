"""Acceptance 4: the notification log shows a sent and a failed email (with its reason)."""

from __future__ import annotations

import smtplib

import pytest
from django.core.mail import EmailMessage
from playwright.sync_api import Page, expect

from notifications.sweep import sweep
from tests.notifications.conftest import local, make_site

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_log_shows_a_sent_and_a_failed_email(page: Page, live_server, log_in, monkeypatch, screenshot):
    site = make_site()
    site.account("101", local("UTC", 2026, 3, 10, 9))
    real_send = EmailMessage.send

    def send(self, *args, **kwargs):
        if self.to == [site.pm.email]:
            raise smtplib.SMTPRecipientsRefused({site.pm.email: (550, b"Mailbox unavailable")})
        return real_send(self, *args, **kwargs)

    monkeypatch.setattr(EmailMessage, "send", send)
    sweep(now=local("UTC", 2026, 3, 13, 1))  # the installer's email is sent, the PM's fails

    log_in(site.installer.username)
    page.get_by_test_id("nav-notification-log").click()
    expect(page).to_have_url(f"{live_server.url}/notifications/")
    expect(page.get_by_text("2 In All")).to_be_visible()
    sent = page.locator("tr[data-status=sent]", has_text=site.installer.email)
    failed = page.locator("tr[data-status=failed]", has_text=site.pm.email)
    expect(sent).to_contain_text("Sent")
    expect(sent).to_contain_text("SmartPlus accounts expired in Luna Gardens")
    expect(failed).to_contain_text("Failed")
    expect(failed).to_contain_text("Mailbox unavailable")
    screenshot(page, "notification-log.png")

    page.locator("select[name=status]").select_option("failed")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tr[data-status=failed]")).to_have_count(1)
    expect(page.locator("tr[data-status=sent]")).to_have_count(0)
