"""Background sending (django-tasks): queued after the commit of the transaction that queued
the messages (`services.queue`)."""

from django_tasks import task


@task()
def send_notifications_task(message_ids: list[int] | None = None) -> dict:
    from .services import send_due

    return send_due(message_ids=message_ids).as_dict()
