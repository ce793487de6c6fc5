"""Accounts: credentials, login, rate limits, two-factor, the account menu, sub-accounts and PMs."""

from __future__ import annotations

import datetime
import re
import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Language, Role
from accounts.models import BillingInformation, CustomerService, PropertyManager, SubAccount, User
from tests.factories import PASSWORD, InstallerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Account emails are queued on commit; run those callbacks as a real commit would."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def _login(client: Client, login: str, password: str = PASSWORD):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def _set_password_from_email(message, new_password: str) -> None:
    """Follow the set-password link of an account email, as the recipient would."""
    url = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", message.body).group(1)
    client = Client()
    form_page = client.get(url, follow=True)
    assert form_page.status_code == 200
    action = form_page.redirect_chain[-1][0] if form_page.redirect_chain else url
    response = client.post(action, {"password1": new_password, "password2": new_password})
    assert response.status_code == 302, response.content[:500]


# --- Login ---


@pytest.mark.parametrize("login_with", ["username", "email"])
def test_login_with_username_or_email(client, world, login_with):
    user = world.installer_a
    response = _login(client, getattr(user, login_with))
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse("communities:dashboard")


def test_wrong_password_and_unknown_user_get_the_same_message(client, world):
    wrong = _login(client, world.installer_a.username, "nope-nope-nope")
    unknown = _login(client, "nobody-here", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].errors == unknown.context["form"].errors


def test_login_is_rate_limited_after_ten_failures_per_account(world):
    for _ in range(10):
        assert _login(Client(), world.installer_a.username, "wrong-password-1").status_code == 200
    blocked = _login(Client(), world.installer_a.username)  # even the right password now
    assert blocked.status_code in (200, 429)
    assert "_auth_user_id" not in (blocked.wsgi_request.session or {})
    assert "Too many failed login attempts" in blocked.content.decode()
    # Another account is not affected.
    assert _login(Client(), world.installer_b.username).status_code == 302


def test_signup_is_closed(client):
    response = client.post(
        reverse("account_signup"),
        {
            "username": "x1",
            "email": "x1@example.test",
            "password1": "Zz-123456789",
            "password2": "Zz-123456789",
        },
    )
    assert not User.objects.filter(username="x1").exists()
    assert response.status_code == 200


def test_password_reset_by_email(client, world):
    client.post(reverse("account_reset_password"), {"email": world.installer_a.email})
    assert len(mail.outbox) == 1
    url = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body)
    assert url


def test_totp_two_factor_is_required_once_activated(client, world):
    secret = generate_totp_secret()
    TOTP.activate(world.installer_a, secret)
    response = _login(client, world.installer_a.username)
    assert response.status_code == 302 and response.url == reverse("mfa_authenticate")
    assert client.get(reverse("communities:dashboard")).status_code == 302  # not logged in yet
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.get(reverse("communities:dashboard")).status_code == 200


# --- Sub-accounts ---


def test_sub_account_with_email_receives_a_working_set_password_link(client, world, commit):
    client.force_login(world.installer_a)
    data = {"username": "frontdesk", "email": "frontdesk@example.test", "phone": "+1 555 0100"}
    assert commit(client.post, reverse("accounts:subaccount_add"), data).status_code == 302
    sub = SubAccount.objects.get(username="frontdesk")
    assert (sub.role, sub.installer, sub.has_usable_password()) == (
        Role.SUB_INSTALLER,
        world.installer_a,
        False,
    )
    assert len(mail.outbox) == 1 and "frontdesk" in mail.outbox[0].body
    _set_password_from_email(mail.outbox[0], "Fresh-Pass-2026")
    assert _login(Client(), "frontdesk", "Fresh-Pass-2026").status_code == 302


def test_account_email_is_plain_text_not_html_escaped(client, world, commit):
    client.force_login(world.installer_a)
    data = {
        "first_name": "Seán",
        "last_name": "O'Neil & Sons",
        "email": "oneil@example.test",
        "language": "en",
    }
    assert commit(client.post, reverse("accounts:propertymanager_add"), data).status_code == 302
    assert "Seán O'Neil & Sons" in mail.outbox[0].body


def test_sub_account_without_email_gets_a_one_time_password_on_screen(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:subaccount_add"), {"username": "nomail"}, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    password = re.search(r"change it: (\S+)", text).group(1)
    assert _login(Client(), "nomail", password).status_code == 302
    assert mail.outbox == []


def test_sub_installer_sees_exactly_the_installers_data_at_the_same_time(world):
    installer, sub = Client(), Client()
    installer.force_login(world.installer_a)
    sub.force_login(world.sub_a)
    url = reverse("communities:dashboard")
    names = [[r.record.name for r in c.get(url).context["table"].page.object_list] for c in (installer, sub)]
    assert names[0] == names[1] == ["Alpha Gardens", "Alpha Towers"]


def test_sub_account_duplicate_account_name_is_refused_at_the_field(client, world):
    client.force_login(world.installer_a)
    response = client.post(reverse("accounts:subaccount_add"), {"username": "inst_b"})
    assert response.status_code == 422
    assert "already taken" in response.context["form"].errors["username"][0]


def test_sub_account_edit_reset_and_delete(client, world, commit):
    client.force_login(world.installer_a)
    edit = reverse("accounts:subaccount_edit", args=[world.sub_a.pk])
    client.post(edit, {"username": "helper_sam", "email": "sam@example.test", "phone": "12345"})
    world.sub_a.refresh_from_db()
    assert (world.sub_a.email, world.sub_a.phone) == ("sam@example.test", "12345")
    commit(client.post, reverse("accounts:subaccount_reset_password", args=[world.sub_a.pk]))
    world.sub_a.refresh_from_db()
    assert not world.sub_a.has_usable_password() and len(mail.outbox) == 1
    client.post(reverse("accounts:subaccount_delete", args=[world.sub_a.pk]))
    assert not User.objects.filter(pk=world.sub_a.pk).exists()


def test_account_email_job_delivered_twice_sends_one_set_password_email(client, world, commit):
    from accounts.tasks import send_account_email

    client.force_login(world.installer_a)
    commit(client.post, reverse("accounts:subaccount_reset_password", args=[world.sub_a.pk]))
    send_account_email.delay(world.sub_a.pk)  # the broker redelivers the same job
    assert len(mail.outbox) == 1
    # A new reset is a new email, once.
    commit(client.post, reverse("accounts:subaccount_reset_password", args=[world.sub_a.pk]))
    send_account_email.delay(world.sub_a.pk)
    assert len(mail.outbox) == 2
    _set_password_from_email(mail.outbox[1], "Fresh-Pass-2026")


def test_account_email_smtp_failure_leaves_the_email_due_for_the_retry(world, monkeypatch):
    from accounts import emails, services

    User.objects.filter(pk=world.sub_a.pk).update(account_email_sent_at=None)

    def refuse(**kwargs):
        raise OSError("SMTP server unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(emails, "account_email_send", refuse)
        with pytest.raises(OSError):
            services.account_email_deliver(user_id=world.sub_a.pk)
    assert User.objects.get(pk=world.sub_a.pk).account_email_sent_at is None
    assert services.account_email_deliver(user_id=world.sub_a.pk) is True
    assert services.account_email_deliver(user_id=world.sub_a.pk) is False
    assert len(mail.outbox) == 1


# --- Property managers ---


def test_new_property_manager(client, world, commit):
    client.force_login(world.installer_a)
    data = {
        "first_name": "Inn",
        "last_name": "Ilian",
        "email": "inn@example.test",
        "language": "fr",
        "monthly_password_reminder": "on",
    }
    assert commit(client.post, reverse("accounts:propertymanager_add"), data).status_code == 302
    pm = PropertyManager.objects.get(email="inn@example.test")
    assert (pm.installer, pm.language, pm.monthly_password_reminder) == (world.installer_a, "fr", True)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["inn@example.test"]


def test_property_manager_form_offers_the_specs_twelve_languages(client, world):
    client.force_login(world.installer_a)
    form = client.get(reverse("accounts:propertymanager_add")).context["form"]
    assert [label for _, label in form.fields["language"].choices] == [
        "English",
        "Simplified Chinese",
        "Korean",
        "Japanese",
        "Turkish",
        "Polish",
        "Russian",
        "Spanish",
        "Bosnian",
        "Danish",
        "Vietnamese",
        "French",
    ]
    assert len(Language.choices) == 12


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "", "required"),
        ("email", "not-an-email", "valid email"),
        ("email", "pm_b@example.test", "already used"),
        ("last_name", "x" * 65, "at most 64"),
    ],
)
def test_property_manager_bad_input_is_refused_at_the_field(client, world, field, value, message):
    client.force_login(world.installer_a)
    data = {
        "first_name": "Inn",
        "last_name": "Ilian",
        "email": "inn@example.test",
        "language": "en",
        field: value,
    }
    response = client.post(reverse("accounts:propertymanager_add"), data)
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert not PropertyManager.objects.filter(first_name="Inn").exists()


def test_app_password_reset_needs_app_enabled(client, world, commit):
    client.force_login(world.installer_a)
    url = reverse("accounts:propertymanagerassignment_reset_app_password", args=[world.assignment_a.pk])
    response = client.post(url, follow=True)
    assert "Enable App" in response.content.decode() and mail.outbox == []
    world.assignment_a.app_enabled = True
    world.assignment_a.save()
    commit(client.post, url)
    world.assignment_a.refresh_from_db()
    assert world.assignment_a.app_password_reset_at is not None and len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("reminder", "days_ago", "prompted"), [(True, 40, True), (True, 5, False), (False, 40, False)]
)
def test_monthly_password_reminder_after_login(world, reminder, days_ago, prompted):
    pm = world.pm_a
    pm.monthly_password_reminder = reminder
    pm.password_changed_at = timezone.now() - datetime.timedelta(days=days_ago)
    pm.save()
    client = Client()
    assert _login(client, pm.username).status_code == 302
    body = client.get(reverse("communities:dashboard")).content.decode()
    assert ('id="password-reminder"' in body) is prompted
    if prompted:
        client.post(reverse("accounts:password_reminder_dismiss"))
        assert 'id="password-reminder"' not in client.get(reverse("communities:dashboard")).content.decode()


# --- Account menu ---


def test_change_password_in_three_steps(client, world):
    user = world.installer_a
    client.force_login(user)
    url = reverse("accounts:password_change")
    assert client.get(url).context["step"] == 1
    wrong = client.post(url, {"step": "1", "original_password": "bad"})
    assert (
        wrong.context["step"] == 1 and "not correct" in wrong.context["form"].errors["original_password"][0]
    )
    # Step 2 cannot be reached without step 1.
    skipped = Client()
    skipped.force_login(world.installer_b)
    assert (
        skipped.post(
            url, {"step": "2", "new_password1": "Q-1234567x", "new_password2": "Q-1234567x"}
        ).context["step"]
        == 1
    )
    assert client.post(url, {"step": "1", "original_password": PASSWORD}).context["step"] == 2
    mismatch = client.post(url, {"step": "2", "new_password1": "Q-1234567x", "new_password2": "Q-7654321x"})
    assert (
        mismatch.context["step"] == 2
        and "do not match" in mismatch.context["form"].errors["new_password2"][0]
    )
    weak = client.post(url, {"step": "2", "new_password1": "12345678", "new_password2": "12345678"})
    assert weak.context["step"] == 2 and weak.context["form"].errors["new_password1"]
    done = client.post(url, {"step": "2", "new_password1": "Q-1234567x", "new_password2": "Q-1234567x"})
    assert done.context["step"] == 3
    user.refresh_from_db()
    assert user.check_password("Q-1234567x") and user.password_changed_at is not None
    assert client.get(reverse("communities:dashboard")).status_code == 200  # session kept


def test_time_zone(client, world):
    client.force_login(world.installer_a)
    assert client.post(reverse("accounts:time_zone"), {"time_zone": "Asia/Tokyo"}).status_code == 302
    world.installer_a.refresh_from_db()
    assert world.installer_a.time_zone == "Asia/Tokyo"
    bad = client.post(reverse("accounts:time_zone"), {"time_zone": "Nowhere/City"})
    assert "time_zone" in bad.context["form"].errors


def test_billing_information_required_fields_and_save(client, world):
    client.force_login(world.installer_a)
    url = reverse("accounts:billing_information")
    response = client.post(url, {"company": "Acme"})
    errors = response.context["form"].errors
    assert response.status_code == 422
    assert {"attn", "street", "city", "country", "tel", "email"} <= set(errors)
    assert "fax" not in errors and "post_code" not in errors
    assert not BillingInformation.objects.exists()
    data = {
        "company": "Acme",
        "attn": "Ops",
        "street": "1 Road",
        "city": "Austin",
        "post_code": "78701",
        "country": "US",
        "tel": "+1 512 555 0100",
        "fax": "",
        "email": "billing@example.test",
    }
    assert client.post(url, data).status_code == 302
    assert BillingInformation.objects.get(installer=world.installer_a).company == "Acme"
    assert client.post(url, {**data, "company": "Acme 2"}).status_code == 302
    assert BillingInformation.objects.get(installer=world.installer_a).company == "Acme 2"


def test_customer_service_and_receive_feedback(client, world):
    client.force_login(world.sub_a)
    url = reverse("accounts:customer_service")
    assert set(client.post(url, {}).context["form"].errors) == {"phone", "email"}
    client.post(url, {"phone": "+1 555 0100", "email": "help@example.test", "receive_feedback": "on"})
    cs = CustomerService.objects.get(installer=world.installer_a)
    assert (cs.email, cs.receive_feedback) == ("help@example.test", True)


def test_account_setting_appears_only_when_distributor_enabled_access(client):
    installer = InstallerFactory(account_access_enabled=False)
    client.force_login(installer)
    assert "Account Setting" not in client.get(reverse("communities:dashboard")).content.decode()
    assert client.get(reverse("accounts:account_setting")).status_code == 403
    installer.account_access_enabled = True
    installer.save()
    assert "Account Setting" in client.get(reverse("communities:dashboard")).content.decode()
    assert client.get(reverse("accounts:account_setting")).context["form"].initial == {
        "permission_granted": False
    }
    client.post(reverse("accounts:account_setting"), {"permission_granted": "True"})
    installer.refresh_from_db()
    assert installer.permission_granted


# --- Distributor ---


def test_distributor_creates_an_installer_under_itself(client, world, commit):
    client.force_login(world.distributor_a)
    data = {"username": "newinst", "email": "newinst@example.test", "account_access_enabled": "on"}
    assert commit(client.post, reverse("accounts:installer_add"), data).status_code == 302
    inst = User.objects.get(username="newinst")
    assert (inst.role, inst.distributor, inst.account_access_enabled, inst.permission_granted) == (
        Role.INSTALLER,
        world.distributor_a,
        True,
        False,
    )
    assert len(mail.outbox) == 1
    listing = client.get(reverse("accounts:installer_list")).content.decode()
    assert "newinst" in listing and "inst_b" not in listing


@pytest.mark.parametrize("taken", ["pm_b@example.test", "PM_B@example.test"])
def test_new_property_manager_with_a_taken_email_gets_only_the_email_error(client, world, taken):
    """The PM's account name is its email: one clash, said once, at the field that was typed."""
    client.force_login(world.installer_a)
    data = {"first_name": "Inn", "last_name": "Ilian", "email": taken, "language": "en"}
    response = client.post(reverse("accounts:propertymanager_add"), data)
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors == {"email": ["This email is already used by another account."]}
    assert "already taken" not in response.content.decode()


def test_new_property_manager_whose_email_is_another_accounts_name_is_refused_at_the_email(client, world):
    world.installer_b.username = "inn@example.test"
    world.installer_b.save(update_fields=["username"])
    client.force_login(world.installer_a)
    data = {"first_name": "Inn", "last_name": "Ilian", "email": "inn@example.test", "language": "en"}
    response = client.post(reverse("accounts:propertymanager_add"), data)
    assert response.context["form"].errors == {
        "email": ["This email is already the account name of another account."]
    }
    assert not PropertyManager.objects.filter(first_name="Inn").exists()
