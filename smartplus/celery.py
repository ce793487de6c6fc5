"""The Celery application; tasks live in each app's tasks.py and are autodiscovered."""

import contextlib
import os

from celery import Celery
from celery.exceptions import Retry
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplus.settings.dev")

app = Celery("smartplus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Each task is one audit change set, its id the task's (a retry continues it). A task run eagerly
# inside a request joins the request's change set.
_change_sets: dict[str, object] = {}


@task_prerun.connect(dispatch_uid="audit-change-set-start")
def _start_change_set(task_id=None, **kwargs):
    from smartplus import audit

    if audit.current_change_set() is None:
        _change_sets[task_id] = audit.start_change_set(task_id)


@task_postrun.connect(dispatch_uid="audit-change-set-end")
def _end_change_set(task_id=None, **kwargs):
    from smartplus import audit

    token = _change_sets.pop(task_id, None)
    if token is not None:
        audit.end_change_set(token)


# A worker's tasks share its connection as a web worker's requests do: closed when older than
# CONN_MAX_AGE or unusable, checked again before reuse (CONN_HEALTH_CHECKS). Without this (and
# CELERY_DB_REUSE_MAX), Celery's Django fixup opened a connection per task.
@task_prerun.connect(dispatch_uid="database-connections-before-task")
@task_postrun.connect(dispatch_uid="database-connections-after-task")
def _close_old_connections(sender=None, **kwargs):
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # an eager task runs inside the caller's request or transaction
    from django.db import close_old_connections

    close_old_connections()


def enqueue(task, *args, countdown: float | None = None) -> None:
    """Send `task`. When tasks run eagerly (unit tests) there is no clock: a task meant for later
    is dropped and a retry is not waited for; tests drive deadlines by calling the check."""
    if not app.conf.task_always_eager:
        task.apply_async(args=args, countdown=countdown)
        return
    if countdown:
        return
    with contextlib.suppress(Retry):
        task.apply_async(args=args)


def fan_out(task, argument_lists, countdown: float | None = None) -> None:
    """Send `task` once per argument list over one broker connection (thousands a second)."""
    if app.conf.task_always_eager:
        for args in argument_lists:
            enqueue(task, *args, countdown=countdown)
        return
    with app.producer_or_acquire() as producer:
        for args in argument_lists:
            task.apply_async(args=args, countdown=countdown, producer=producer)
