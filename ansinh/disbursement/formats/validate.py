"""`python -m ansinh.disbursement.formats.validate SCHEMA PATH TAGS RECORDS`: exit 0 when the file
at PATH is valid against SCHEMA (read as `_xml.stream` reads it; TAGS and RECORDS are the
qualified tags, comma-separated), 1 when it is not. Run by `_xml.Validator` beside the import
that reads the same file without the schema; it needs no database and no settings (the error's
words are the importer's, which reads the file again with the schema to say them)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False)
    from ansinh.disbursement.formats._xml import validate_file

    schema_name, path, tags, records = argv
    return 0 if validate_file(path, schema_name, tags.split(","), [r for r in records.split(",") if r]) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
