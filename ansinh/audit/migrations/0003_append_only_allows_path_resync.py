"""The audit log stays append-only on PostgreSQL, with one exception: an UPDATE that sets
`area_path` (the scoping copy of the event's area path) to the *current* path of the event's
area, and changes nothing else. This is what `ansinh.areas.copies.repath_copies` does when a
reload of the official tree moves a commune or a district. No recorded fact (time, actor,
action, area, object, before/after, note) can change, and the copy can only be set to the
truth held by the areas table; DELETE stays refused. The move itself is recorded by one
"areas.paths.updated" event listing the old and new paths."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.area_id IS NOT NULL
       AND (to_jsonb(NEW) - 'area_path') = (to_jsonb(OLD) - 'area_path')
       AND NEW.area_path = (SELECT path FROM areas_area WHERE id = NEW.area_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

STRICT = """
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_auditevent is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STRICT, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_trigger"), ("areas", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
