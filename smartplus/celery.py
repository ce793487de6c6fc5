"""The Celery application; tasks live in each app's tasks.py and are autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smartplus.settings.dev")

app = Celery("smartplus")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def enqueue(task, *args, countdown: float | None = None) -> None:
    """Send `task`; a task meant for later is dropped when tasks run eagerly (unit tests): eager
    mode has no clock, so tests drive deadlines by calling the check themselves."""
    if countdown and app.conf.task_always_eager:
        return
    task.apply_async(args=args, countdown=countdown)
