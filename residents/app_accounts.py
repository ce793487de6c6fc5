"""SmartPlus app accounts of end users: the initial password and the account email, and the new
password of Edit APT's Reset Password."""

from __future__ import annotations

import logging
import secrets

from django.contrib.auth.hashers import make_password
from django.db import transaction

from smartplus.signals import account_email_sent

from .emails import resident_account_email_send
from .models import Resident

logger = logging.getLogger(__name__)


def initial_password() -> str:
    return secrets.token_urlsafe(8)


def _locked(resident_id: int) -> Resident | None:
    """The end user's row, locked for the send (a duplicate job waits, then finds it done)."""
    return (
        Resident.objects.select_for_update(of=("self",))
        .select_related("community", "apartment__building")
        .filter(pk=resident_id)
        .first()
    )


def app_account_email(*, resident_id: int, reset: bool = False) -> bool:
    """Give the end user a fresh initial password and email it with the account, once per address.

    Runs in the worker so the plain password never passes through the broker. An account whose
    app is already registered is left alone (its owner chose a password). The address is claimed
    (`account_email_sent_to`) in the transaction that sets the password, under the row lock, and
    the email is sent before that commits: a job delivered twice finds the claim and sends
    nothing, leaving the password the first email gave; an SMTP failure undoes both, and the
    retry sends. Only a crash between a successful send and the commit can repeat the email, and
    then the second password is the one stored.

    `reset`: Reset Password was asked (resident_app_password_reset) — a new password for a
    registered account too, sent once per request.
    """
    if reset:
        return _app_password_reset_email(resident_id=resident_id)
    with transaction.atomic():
        resident = _locked(resident_id)
        if resident is None or not resident.email or resident.app_registered_at is not None:
            logger.info("app_account_email: nothing to send for end user %s", resident_id)
            return False
        if resident.account_email_sent_to.lower() == resident.email.lower():
            logger.info("app_account_email: end user %s already has its account email", resident_id)
            return False
        password = initial_password()
        resident.app_password = make_password(password)
        resident.account_email_sent_to = resident.email
        Resident.objects.filter(pk=resident.pk).update(
            app_password=resident.app_password, account_email_sent_to=resident.account_email_sent_to
        )
        resident_account_email_send(resident=resident, password=password)
        announce(resident)
    return True


def announce(resident, error: str = "") -> None:
    """Tell the notification log (inside the claim's transaction when sent)."""
    account_email_sent.send(
        sender=Resident,
        recipient=resident.email,
        language=resident.language or "en",
        subject="SmartPlus app account",
        community_id=resident.community_id,
        installer_id=resident.community.installer_id,
        error=error,
    )


def _app_password_reset_email(*, resident_id: int) -> bool:
    """The new password of a Reset Password request, emailed while the row is locked: a failed send
    rolls the new password back and the retry sends again; a done request is not sent twice."""
    with transaction.atomic():
        resident = _locked(resident_id)
        if resident is None or not resident.email or resident.app_password_reset_requested_at is None:
            logger.info("app password reset: nothing to send for end user %s", resident_id)
            return False
        password = initial_password()
        Resident.objects.filter(pk=resident.pk).update(
            app_password=make_password(password),
            app_password_reset_requested_at=None,
        )
        resident_account_email_send(resident=resident, password=password, reset=True)
        announce(resident)
    return True
