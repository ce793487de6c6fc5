"""The expiration, renewal and feedback emails: what they name, their links, HTML and text, and
the 12 languages (acceptance 3)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.translation.template import templatize

from accounts.choices import Language
from accounts.models import CustomerService, User
from communities.choices import ChargeMode, DateFormat
from communities.models import Community
from notifications.choices import Kind, Recipient, Status
from notifications.links import RENEW_URL_NAME, renew_path
from notifications.models import Notification
from notifications.sweep import sweep
from tests.residents.test_emails import LOCALE_DIRS, parse_po

from .conftest import local, make_site

pytestmark = pytest.mark.django_db

OTHER_LANGUAGES = [code for code in Language.values if code != Language.ENGLISH]
# English sentences (and their pieces) that must not survive in a translated email.
ENGLISH = [
    "Hello",
    "has expired",
    "expired on",
    "expired in",
    "Renew the service",
    "Subscriptions module",
    "contact the customer service",
    "has been renewed",
    "sent this feedback",
    "If you did not expect",
    "Phone:",
    "Community:",
]
TEMPLATES = sorted((Path(settings.BASE_DIR) / "templates" / "notifications" / "email").iterdir())


def emails_to(mailoutbox, address):
    return [m for m in mailoutbox if m.to == [address]]


def html_of(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


@pytest.fixture
def expired(db):
    """Three accounts of one community expired 3 days ago, and one end user 1 day ago."""
    site = make_site(date_format=DateFormat.DMY, time_zone="Europe/Paris")
    CustomerService.objects.create(
        installer=site.installer, phone="+33 1 23 45 67 89", email="help@installer.example.test"
    )
    old = [site.account(n, local("Europe/Paris", 2026, 3, 10, 9)) for n in ("103", "101", "102")]
    fresh = site.account("201", local("Europe/Paris", 2026, 3, 12, 9))
    return site, old, fresh


def test_installer_gets_one_email_per_community_and_day_listing_every_account(mailoutbox, expired):
    site, old, fresh = expired
    sweep(now=local("Europe/Paris", 2026, 3, 13, 2))

    [message] = emails_to(mailoutbox, site.installer.email)
    assert message.subject == "SmartPlus accounts expired in Luna Gardens"
    body = message.body
    lines = [line for line in body.splitlines() if line.startswith("- APT")]
    assert lines == [
        "- APT 101 (Tower B), Res 101: expired on 10/03/2026",
        "- APT 102 (Tower B), Res 102: expired on 10/03/2026",
        "- APT 103 (Tower B), Res 103: expired on 10/03/2026",
    ]
    items = ",".join(f"app:{r.pk}" for r in sorted(old, key=lambda r: r.apartment.number))
    link = f"{settings.SMARTPLUS_BASE_URL}{renew_path()}?community={site.community.pk}&items={items}"
    assert link in body
    html = html_of(message)
    assert f'href="{link.replace("&", "&amp;")}"' in html
    assert "APT 102 (Tower B), Res 102: expired on 10/03/2026" in html
    # The end user expired yesterday: its own email, with the installer's Customer Service.
    [user_email] = emails_to(mailoutbox, fresh.email)
    assert user_email.subject == "Your SmartPlus app service for Luna Gardens has expired"
    assert "Hello Res 201," in user_email.body
    assert "expired on 12/03/2026" in user_email.body
    assert "help@installer.example.test" in user_email.body and "+33 1 23 45 67 89" in user_email.body
    assert "/billing/" not in user_email.body
    assert Notification.objects.filter(status=Status.SENT).count() == Notification.objects.count() == 7
    assert set(Notification.objects.values_list("subject", flat=True)) == {
        "SmartPlus accounts expired in Luna Gardens",
        "Your SmartPlus app service for Luna Gardens has expired",
    }


@pytest.mark.parametrize(
    ("charge_mode", "has_link"), [(ChargeMode.PAY_BY_PM, True), (ChargeMode.PAY_BY_INSTALLER, False)]
)
def test_property_manager_gets_the_renew_link_only_when_paying(mailoutbox, expired, charge_mode, has_link):
    site, _, _ = expired
    Community.objects.filter(pk=site.community.pk).update(charge_mode=charge_mode)
    sweep(now=local("Europe/Paris", 2026, 3, 13, 2))

    [message] = emails_to(mailoutbox, site.pm.email)
    assert (renew_path() in message.body) is has_link
    assert ("help@installer.example.test" in message.body) is not has_link


def test_installer_email_is_in_the_installers_language(mailoutbox, expired):
    site, _, _ = expired
    User.objects.filter(pk=site.installer.pk).update(language="fr")
    sweep(now=local("Europe/Paris", 2026, 3, 13, 2))
    [message] = emails_to(mailoutbox, site.installer.email)
    assert message.subject == "Comptes SmartPlus arrivés à échéance à Luna Gardens"
    assert "Appartement 101 (Tower B), Res 101 : expiré le 10/03/2026" in message.body


def test_the_renew_link_names_billings_renew_page():
    assert renew_path() == reverse(RENEW_URL_NAME) == "/subscriptions/renew/"


def test_the_link_opens_the_renew_page_with_only_the_recipients_accounts(client, mailoutbox, expired):
    site, old, _ = expired
    other = make_site(name="Other Place", time_zone="Europe/Paris")
    stranger = other.account("909", local("Europe/Paris", 2026, 3, 10, 9))
    sweep(now=local("Europe/Paris", 2026, 3, 13, 2))
    [message] = emails_to(mailoutbox, site.installer.email)
    link = re.search(r"http\S+", message.body).group(0)
    client.force_login(site.installer)
    page = client.get(link.removeprefix(settings.SMARTPLUS_BASE_URL))
    assert page.status_code == 200
    text = page.content.decode()
    assert all(r.email in text for r in old)
    assert all(f'value="app:{r.pk}" data-item checked' in text for r in old)  # ticked, ready for Next
    assert stranger.email not in text


# --- The 12 languages ----------------------------------------------------------------------------


def rendered(kind, language, mailoutbox, expired, capture):
    site, _old, fresh = expired
    Community.objects.filter(pk=site.community.pk).update(charge_mode=ChargeMode.PAY_BY_PM)
    if kind == "end_user":
        fresh.__class__.objects.filter(pk=fresh.pk).update(language=language)
        sweep(now=local("Europe/Paris", 2026, 3, 13, 2))
        [message] = emails_to(mailoutbox, fresh.email)
    elif kind == "installer":
        User.objects.filter(pk=site.installer.pk).update(language=language)
        sweep(now=local("Europe/Paris", 2026, 3, 13, 2))
        [message] = emails_to(mailoutbox, site.installer.email)
    elif kind == "renewal":
        row = Notification.objects.create(
            kind=Kind.RENEWAL,
            account_type="app",
            account_id=fresh.pk,
            expires_at=local("Europe/Paris", 2027, 3, 12, 9),
            recipient_email=fresh.email,
            recipient_role=Recipient.END_USER,
            language=language,
            reference=1,
            community=site.community,
            installer=site.installer,
            group_key="renewal-test",
        )
        from notifications.delivery import deliver

        deliver(row.pk)
        [message] = emails_to(mailoutbox, fresh.email)
    else:
        from notifications.feedback import submit_feedback

        CustomerService.objects.filter(installer=site.installer).update(receive_feedback=True)
        User.objects.filter(pk=site.installer.pk).update(language=language)
        with capture(execute=True):
            submit_feedback(resident=fresh, text="The gate camera is blurry.")
        [message] = emails_to(mailoutbox, "help@installer.example.test")
    return message


KINDS = ["end_user", "installer", "renewal", "feedback"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_email_is_translated(mailoutbox, expired, kind, language, django_capture_on_commit_callbacks):
    message = rendered(kind, language, mailoutbox, expired, django_capture_on_commit_callbacks)
    english = [phrase for phrase in ENGLISH if phrase in message.subject + message.body + html_of(message)]
    assert english == [], f"{kind} in {language}: English left: {english}"
    assert "Luna Gardens" in message.subject or "Luna Gardens" in message.body
    if kind == "installer":
        assert "10/03/2026" in message.body and "Res 101" in message.body
    if kind == "renewal":
        assert "12/03/2027" in message.body


@pytest.mark.parametrize("kind", KINDS)
def test_every_email_in_english(mailoutbox, expired, kind, django_capture_on_commit_callbacks):
    message = rendered(kind, "en", mailoutbox, expired, django_capture_on_commit_callbacks)
    assert "Luna Gardens" in message.subject
    assert "<html>" in html_of(message)


def template_msgids() -> set[str]:
    msgids = set()
    for path in TEMPLATES:
        for literal in re.findall(
            r"gettext\(((?:u'(?:[^'\\]|\\.)*')|(?:u\"(?:[^\"\\]|\\.)*\"))\)", templatize(path.read_text())
        ):
            msgids.add(ast.literal_eval(literal))
    return msgids


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_catalogs_hold_every_notification_string(language):
    path = Path(settings.LOCALE_PATHS[0]) / LOCALE_DIRS[language] / "LC_MESSAGES" / "django.po"
    translated = {entry["msgid"]: entry["msgstr"] for entry in parse_po(path)}
    missing = template_msgids() - {k for k, v in translated.items() if v.strip()}
    assert missing == set()
