from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ansinh.policy.loader import PolicyFileError
from ansinh.policy.services import COUNT_KEYS, load_policy

LABELS = {
    "programmes": gettext_noop("Programmes"),
    "categories": gettext_noop("Categories"),
    "standard_levels": gettext_noop("Standard levels"),
    "coefficient_rules": gettext_noop("Coefficient rules"),
    "fixed_amounts": gettext_noop("Fixed amounts"),
}


class Command(BaseCommand):
    help = "Load programmes, categories, standard levels, coefficients and fixed amounts from the policy YAML."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="the YAML file to load (default: settings.ANSINH_POLICY_FILE)")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="set the file's values on rows that differ from it (default: keep the database's values)",
        )

    def handle(self, *args, file=None, overwrite=False, **options):
        path = Path(file) if file else Path(settings.ANSINH_POLICY_FILE)
        if not path.is_file():
            raise CommandError(_("Policy file not found: %(path)s") % {"path": path})
        try:
            counts = load_policy(actor=None, path=path, overwrite=overwrite)
        except PolicyFileError as exc:
            raise CommandError(_("The policy file cannot be read: %(error)s") % {"error": exc}) from exc
        except ValidationError as exc:
            raise CommandError(
                _("The policy file was refused: %(error)s") % {"error": "; ".join(exc.messages)}
            ) from exc
        self.stdout.write(_("Policy loaded from %(path)s") % {"path": path})
        for key, label in LABELS.items():
            parts = _(
                "%(created)d created, %(updated)d updated, %(unchanged)d unchanged, "
                "%(differs)d differ from the file (kept)"
            ) % {k: counts[key][k] for k in COUNT_KEYS}
            self.stdout.write(f"  {_(label)}: {parts}")
        if any(counts[key]["differs"] for key in counts):
            self.stdout.write(
                _("Some rows differ from the file and were kept; run with --overwrite to apply the file's values.")
            )
