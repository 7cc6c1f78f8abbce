"""Fast "a word of the name starts with …" search on PostgreSQL.

The name search matches a prefix of the accent-free name (`name_key LIKE 'key%'`, the
varchar_pattern_ops b-tree) or of any later word (`name_key LIKE '% key%'`). 0002 served the
second with a trigram GIN index; with a million beneficiaries its cost is set by the most common
trigrams ("ngu", "thi", …): a search for "nguyen thi a" intersects posting lists of a large share
of the table (23 ms warm per scan at 318,000 rows, once for the page and once for the count,
growing with the table; benchmarks/README.md).

Instead, `ansinh_name_tail(name_key, n)` is the name without its first n words (NULL when the
name has no more words), and a b-tree on each tail for n = 1..4 turns "a later word starts with
key" into four index range scans. Names of six words or more (rare) keep a trigram index, partial
on exactly those rows. `registry.queries.search` uses these expressions on PostgreSQL; the
result is the same rows as the LIKE '% key%' it replaces. SQLite needs none of this."""

from django.db import migrations

TAILS = 4  # b-tree indexes on the name without its first 1..4 words: exact for names up to 5 words

FUNCTION = r"""
CREATE OR REPLACE FUNCTION ansinh_name_tail(name text, words integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT substring(name from ('^(?:[^ ]+ ){' || words || '}(.*)$')) $$
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    run(FUNCTION, params=None)
    for n in range(1, TAILS + 1):
        run(
            f"CREATE INDEX IF NOT EXISTS benef_name_tail{n}_idx ON registry_beneficiary "
            f"(ansinh_name_tail(name_key, {n}) text_pattern_ops)",
            params=None,
        )
    run(
        "CREATE INDEX IF NOT EXISTS benef_name_long_trgm ON registry_beneficiary "
        f"USING gin (name_key gin_trgm_ops) WHERE ansinh_name_tail(name_key, {TAILS + 1}) IS NOT NULL",
        params=None,
    )
    run("DROP INDEX IF EXISTS benef_name_key_trgm", params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    run = schema_editor.execute
    run(
        "CREATE INDEX IF NOT EXISTS benef_name_key_trgm ON registry_beneficiary USING gin (name_key gin_trgm_ops)",
        params=None,
    )
    run("DROP INDEX IF EXISTS benef_name_long_trgm", params=None)
    for n in range(1, TAILS + 1):
        run(f"DROP INDEX IF EXISTS benef_name_tail{n}_idx", params=None)
    run("DROP FUNCTION IF EXISTS ansinh_name_tail(text, integer)", params=None)


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_trigram_name_search")]
    operations = [migrations.RunPython(forwards, backwards)]
