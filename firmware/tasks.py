"""Celery tasks of firmware upgrades. Thin: ids in, `firmware.services` does the work.

Beat runs `upgrades_due_task` every SMARTPLUS_UPGRADE_POLL_SECONDS; it only selects the due
upgrades and fans out one dispatch each, and a dispatch fans out the operations in chunks. Every
task acts on rows still in the state it expects, so a redelivered task changes nothing.
"""

from __future__ import annotations

import logging

from celery import shared_task

from smartplus.celery import enqueue, fan_out

log = logging.getLogger(__name__)
LIMITS = {"soft_time_limit": 300, "time_limit": 360}


@shared_task(**LIMITS)
def upgrades_due_task() -> None:
    from .services import upgrades_due

    fan_out(upgrade_dispatch_task, [(pk,) for pk in upgrades_due()])


@shared_task(**LIMITS)
def upgrade_dispatch_task(upgrade_id: int) -> None:
    from .services import upgrade_dispatch

    fan_out(operations_start_task, [(chunk,) for chunk in upgrade_dispatch(upgrade_id=upgrade_id)])


@shared_task(**LIMITS)
def operations_start_task(operation_ids: list[int]) -> None:
    from .services import operations_start

    operations_start(operation_ids=operation_ids)


@shared_task(**LIMITS)
def operations_check_task(operation_ids: list[int]) -> None:
    from .services import operations_check

    for ids, countdown in operations_check(operation_ids=operation_ids):
        enqueue(operations_check_task, ids, countdown=countdown)
