"""The Celery application; tasks live in each app's tasks.py and are autodiscovered."""

import contextlib
import os

from celery import Celery
from celery.exceptions import Retry

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplus.settings.dev")

app = Celery("smartplus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
