"""Background tasks (django-tasks; database backend, run by `manage.py db_worker`)."""

from django_tasks import task


@task()
def check_import_task(job_id: int) -> None:
    from .import_jobs import check_import

    check_import(job_id=job_id)


@task()
def apply_import_task(job_id: int, actor_id: int | None) -> None:
    from ansinh.accounts.models import User

    from .import_jobs import apply_import

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    apply_import(job_id=job_id, actor=actor)
