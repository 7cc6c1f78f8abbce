"""Background tasks of ansinh.reports (django-tasks; database backend, run by `manage.py db_worker`)."""

from django_tasks import task


@task()
def run_export_task(job_id: int) -> None:
    from .exports import run_export

    run_export(job_id=job_id)


@task()
def refresh_facts_task() -> int | None:
    """The reports' aggregate tables, after a big write (a status import, a month's cash list)."""
    from .facts import refresh

    return refresh()
