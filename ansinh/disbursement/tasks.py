"""Background work of the transfer leg (django-tasks): the payees' notices of a status import,
queued after the import commits (an office officer's upload of 100,000 statuses does not wait for
100,000 SMS to be rendered), by the `db_worker` — at once with the immediate backend (tests)."""

from django_tasks import task


@task()
def notify_transfers_task(job_id: int) -> dict:
    from .notices import notify_pending

    return notify_pending(job_id=job_id)
