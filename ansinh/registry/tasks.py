"""Background tasks (django-tasks; database backend, run by `manage.py db_worker`)."""

from django_tasks import task


def _user(actor_id: int | None):
    from ansinh.accounts.models import User

    return User.objects.filter(pk=actor_id).first() if actor_id else None


@task()
def check_import_task(job_id: int, actor_id: int | None = None) -> None:
    from .import_jobs import check_import

    check_import(job_id=job_id, actor=_user(actor_id))


@task()
def apply_import_task(job_id: int, actor_id: int | None) -> None:
    from .import_jobs import apply_import

    apply_import(job_id=job_id, actor=_user(actor_id))
