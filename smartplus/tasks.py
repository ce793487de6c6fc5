"""Celery tasks of the shared import machinery. Thin: ids in, `smartplus.importing` does the work.

Both are safe to run twice: each acts only on a job still in the status it expects. A 20,000-row
file takes seconds; past the soft limit the step raises inside `importing`, which marks the job
Failed with nothing written, so a stuck file never holds a worker (the limits stay far below the
broker's visibility timeout of an hour).
"""

from celery import shared_task

LIMITS = {"soft_time_limit": 600, "time_limit": 660}


@shared_task(**LIMITS)
def analyse_import_task(model_label: str, job_id: int) -> None:
    from .importing import analyse

    analyse(model_label, job_id)


@shared_task(**LIMITS)
def run_import_task(model_label: str, job_id: int) -> None:
    from .importing import run

    run(model_label, job_id)
