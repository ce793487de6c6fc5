"""Celery tasks of the residents app. Thin: load by id, call a service."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, retry_jitter=True, max_retries=5
)
def send_resident_account_email(resident_id: int, reset: bool = False) -> None:
    from .app_accounts import announce, app_account_email
    from .models import Resident

    try:
        app_account_email(resident_id=resident_id, reset=reset)
    except OSError as exc:
        # The claim rolled back; the log hears of the failure here, outside it.
        resident = Resident.objects.select_related("community").filter(pk=resident_id).first()
        if resident is not None:
            announce(resident, error=f"{type(exc).__name__}: {exc}")
        raise


# Each fan-out task enqueues this many one-email jobs, so no task loops over a whole import.
EMAIL_BATCH = 500


@shared_task
def send_resident_account_emails(resident_ids: list[int]) -> None:
    """The account emails of an import: split in batches, each batch one job per end user."""
    if len(resident_ids) > EMAIL_BATCH:
        for start in range(0, len(resident_ids), EMAIL_BATCH):
            send_resident_account_emails.delay(resident_ids[start : start + EMAIL_BATCH])
        return
    for resident_id in resident_ids:
        send_resident_account_email.delay(resident_id)
