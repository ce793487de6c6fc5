"""Celery tasks of the shared import machinery. Thin: ids in, `smartplus.importing` does the work.

Both are safe to run twice: each acts only on a job still in the status it expects.
"""

from celery import shared_task


@shared_task
def analyse_import_task(model_label: str, job_id: int) -> None:
    from .importing import analyse

    analyse(model_label, job_id)


@shared_task
def run_import_task(model_label: str, job_id: int) -> None:
    from .importing import run

    run(model_label, job_id)
