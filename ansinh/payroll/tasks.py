"""Background work of the payment cycle (django-tasks): the daily reminders of deadlines.

`send_cycle_reminders_task` is enqueued by `manage.py send_cycle_reminders --enqueue` (for the
`db_worker`) or its work is run inline by `manage.py send_cycle_reminders`; schedule either once
a day, e.g. at 07:00 (cron or a systemd timer, docs/payment-cycle.md). Re-runs send nothing twice."""

from django_tasks import task


@task()
def send_cycle_reminders_task() -> dict:
    from .reminders import send_cycle_reminders

    return send_cycle_reminders()
