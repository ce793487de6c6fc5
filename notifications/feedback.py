"""End-user feedback from the SmartPlus app, for the installer's Customer Service email while its
Receive Feedback switch is On (docs/notifications.md: the endpoint the app calls)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import CustomerService, User

from .choices import AccountType, Kind, Recipient, Status
from .models import Notification

MAX_LENGTH = 2000


def submit_feedback(*, resident, text: str) -> Notification | None:
    """Record the feedback as a row for the installer's Customer Service and send it (after the
    commit, by the worker). None when Receive Feedback is Off or there is no address."""
    community = resident.community
    service = CustomerService.objects.filter(
        installer_id=community.installer_id, receive_feedback=True
    ).first()
    if service is None or not service.email:
        return None
    language = User.objects.filter(pk=community.installer_id).values_list("language", flat=True).first()
    apartment = resident.apartment
    now = timezone.now()
    row = Notification.objects.create(
        kind=Kind.FEEDBACK,
        account_type=AccountType.APP,
        account_id=resident.pk,
        recipient_email=service.email.lower(),
        recipient_role=Recipient.INSTALLER,
        language=language or "en",
        community=community,
        installer_id=community.installer_id,
        local_day=now.date(),
        group_key=f"{Kind.FEEDBACK}|{resident.pk}|{now.isoformat()}",
        status=Status.PENDING,
        payload={
            "name": resident.display_name,
            "email": resident.email,
            "community": community.name,
            "apartment": f"{apartment.building.name} {apartment.number}",
            "feedback": text[:MAX_LENGTH],
        },
        created=now,
    )
    from smartplus.celery import enqueue

    from .tasks import send_notifications

    transaction.on_commit(lambda: enqueue(send_notifications, [row.pk]))
    return row
