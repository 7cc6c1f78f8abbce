"""The list export reads its rows in chunks (keyset pagination on sort_key, id): every row once,
in Vietnamese name order, numbered 1..n, whatever the chunk size."""

from datetime import date, timedelta

import pytest
from django.db.models import Q

from ansinh.registry import exports
from ansinh.registry.models import Beneficiary
from ansinh.registry.queries import SearchParams, search

NAMES = ["Nguyễn Thị Ánh", "Nguyễn Văn Bình", "Trần Thị Cúc", "Lê Văn An", "Nguyễn Thị An"]


@pytest.fixture
def people(tree):
    from ansinh.core.text import name_sort_key, search_key

    rows = []
    for i in range(23):  # several rows share a name: ties are broken by id across chunks
        name = NAMES[i % len(NAMES)]
        rows.append(
            Beneficiary(
                full_name=name,
                name_key=search_key(name),
                sort_key=name_sort_key(name),
                birth_date=date(1940, 1, 1) + timedelta(days=i),
                gender="female",
                commune=tree.a,
                village=tree.village_a,
                area_path=tree.village_a.path,
                start_month=date(2026, 1, 1),
            )
        )
    return Beneficiary.objects.bulk_create(rows)


def _exported(user, qs):
    return [(row[0], row[1], row[2]) for row in exports.beneficiary_rows(user, qs)]


def _expected(rows):
    return [(i, b.full_name, b.birth_date.strftime("%d/%m/%Y")) for i, b in enumerate(rows, start=1)]


@pytest.mark.django_db
@pytest.mark.parametrize("chunk", [1, 4, 5, 23, 2000])
def test_every_row_once_in_name_order(tree, officer_a, people, monkeypatch, chunk):
    monkeypatch.setattr(exports, "LIST_CHUNK", chunk)
    qs = Beneficiary.objects.filter(commune=tree.a)
    ordered = list(Beneficiary.objects.order_by("sort_key", "id"))
    assert len(ordered) == 23
    assert _exported(officer_a, qs) == _expected(ordered)


@pytest.mark.django_db
def test_keyset_chunks_each_read_the_next_rows(officer_a, people, monkeypatch):
    """No OFFSET: each chunk's query starts after the last (sort_key, id) of the previous one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(exports, "LIST_CHUNK", 5)
    with CaptureQueriesContext(connection) as queries:
        rows = _exported(officer_a, Beneficiary.objects.all())
    assert len(rows) == 23
    pages = [q["sql"] for q in queries.captured_queries if 'FROM "registry_beneficiary"' in q["sql"]]
    assert len(pages) == 5  # 5 + 5 + 5 + 5 + 3
    assert not any("OFFSET" in sql.upper() for sql in pages)


@pytest.mark.django_db
def test_filtered_and_distinct_querysets(officer_a, people, monkeypatch):
    monkeypatch.setattr(exports, "LIST_CHUNK", 3)
    qs = Beneficiary.objects.filter(Q(name_key__startswith="nguyen") | Q(name_key__startswith="le")).distinct()
    ordered = list(qs.order_by("sort_key", "id"))
    assert 0 < len(ordered) < 23
    assert _exported(officer_a, qs) == _expected(ordered)


@pytest.mark.django_db
def test_a_ranked_name_search_is_exported_in_its_own_order(officer_a, people, monkeypatch):
    monkeypatch.setattr(exports, "LIST_CHUNK", 4)
    results = search(officer_a, SearchParams(q="an"))
    ordered = list(results.select_related("commune", "village").order_by("sort_key", "id"))
    assert ordered
    assert _exported(officer_a, results) == _expected(ordered)
