"""python manage.py send_cycle_reminders [--date YYYY-MM-DD] [--enqueue]

Queues today's reminders of payment-cycle deadlines (before and after each due date) to the
officers who answer for them; safe to re-run (nothing is sent twice). Run it once a day (cron or
a systemd timer); `--enqueue` hands the work to the background worker (`db_worker`) instead."""

import json
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from ansinh.payroll.reminders import send_cycle_reminders
from ansinh.payroll.tasks import send_cycle_reminders_task


class Command(BaseCommand):
    help = "Queue the reminders of payment-cycle deadlines due today (idempotent); prints a JSON summary."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="as if today were this day (YYYY-MM-DD)")
        parser.add_argument("--enqueue", action="store_true", help="run in the background worker")

    def handle(self, *args, date: str | None = None, enqueue: bool = False, **options):
        if enqueue:
            result = send_cycle_reminders_task.enqueue()
            self.stdout.write(json.dumps({"enqueued": str(result.id)}))
            return
        try:
            today = _parse(date) if date else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps(send_cycle_reminders(today=today)))


def _parse(value: str) -> date:
    return date.fromisoformat(value)
