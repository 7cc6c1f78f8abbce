"""registry.queries.search: ranked name search (full-name prefix first, then a later word),
the same rows as the plain condition, slicing across the parts, capped counts. Runs on SQLite
and on PostgreSQL (where the name order is the C collation of migration 0004)."""

import random
from datetime import date

import pytest
from django.db import connection
from django.db.models import Q

from ansinh.areas.models import Level
from ansinh.core.text import name_sort_key, search_key
from ansinh.registry import queries
from ansinh.registry.models import Beneficiary
from tests.conftest import make_user

WORDS = ["Nguyễn", "Thị", "Ánh", "An", "Anh", "Văn", "Bình", "Trần", "Lê", "Ngọc", "Nguyên", "Thái", "A", "Ân"]


def _rows(area, names: list[str]) -> list[Beneficiary]:
    return Beneficiary.objects.bulk_create(
        Beneficiary(
            full_name=name,
            name_key=search_key(name),
            sort_key=name_sort_key(name),
            birth_date=date(1950, 1, 1),
            gender="female",
            commune=area.parent if area.level == Level.VILLAGE else area,
            village=area if area.level == Level.VILLAGE else None,
            area_path=area.path,
            start_month=date(2025, 1, 1),
        )
        for name in names
    )


@pytest.fixture
def officer(tree):
    from ansinh.accounts.roles import Role

    return make_user("officer_q", Role.COMMUNE_OFFICER, tree.a)


def _names(results) -> list[str]:
    return [b.full_name for b in results[0:10_000]]


def _expected(key: str, rows: list[Beneficiary]) -> list[int]:
    """The ranking spelt out: full-name prefix first, then a later word, each by (name_key, id)."""
    prefix = sorted((b.name_key, b.pk) for b in rows if b.name_key.startswith(key))
    later = sorted((b.name_key, b.pk) for b in rows if not b.name_key.startswith(key) and f" {key}" in b.name_key)
    return [pk for _key, pk in prefix + later]


def test_prefix_matches_come_before_later_word_matches(tree, officer):
    _rows(
        tree.village_a,
        [
            "Lê Nguyễn Thị An",  # a later word
            "Nguyễn Thị Bình",  # no match
            "Nguyễn Thị Ánh",
            "Trần Nguyễn Thị Ân",  # a later word
            "Nguyễn Thị An",
            "Thái Văn Nguyễn Thị A",  # a later word
        ],
    )
    _rows(tree.b, ["Nguyễn Thị Anh"])  # another commune: not in the officer's areas
    results = queries.search(officer, queries.SearchParams(q="nguyen thi a"))
    assert _names(results) == [
        "Nguyễn Thị An",
        "Nguyễn Thị Ánh",
        "Lê Nguyễn Thị An",
        "Thái Văn Nguyễn Thị A",
        "Trần Nguyễn Thị Ân",
    ]
    assert results.count() == 5


def test_without_a_name_the_rows_are_in_name_order(tree, officer):
    """Vietnamese list order: by the given name, then the rest; Đ after D, Ư after U."""
    rows = _rows(tree.village_a, ["Trần Văn Bình", "An Văn A", "Lê Thị Ngọc", "Đỗ Văn An", "Bùi Thị Ưng", "Hà Uy"])
    results = queries.search(officer, queries.SearchParams(area=tree.village_a.pk))
    assert [b.full_name for b in results] == [
        "An Văn A",
        "Đỗ Văn An",
        "Trần Văn Bình",
        "Lê Thị Ngọc",
        "Hà Uy",
        "Bùi Thị Ưng",
    ]
    assert len(rows) == 6


@pytest.mark.parametrize("seed", range(4))
def test_same_rows_as_the_plain_condition_in_the_ranked_order(tree, officer, seed):
    rng = random.Random(seed)
    names = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 7))) for _ in range(120)]
    rows = _rows(tree.village_a, names)
    keys = {"a", "an", "nguyen thi a", "thi", "van b", "ngu", "x", "a a"}
    keys |= {search_key(n)[: rng.randint(1, len(search_key(n)))].strip() for n in rng.sample(names, 6)}
    for key in sorted(k for k in keys if k):
        results = queries.search(officer, queries.SearchParams(q=key))
        plain = Beneficiary.objects.filter(Q(name_key__startswith=key) | Q(name_key__contains=" " + key))
        got = [b.pk for b in results[0:1000]]
        assert set(got) == set(plain.values_list("pk", flat=True)), key  # the old semantics, as a set
        assert got == _expected(key, rows), key  # ranked, in byte order on both databases
        assert results.count() == len(got)


def test_pages_run_across_the_parts(tree, officer):
    _rows(tree.village_a, [f"An Văn {c}" for c in "ABCDE"] + [f"Lê An {c}" for c in "ABCD"])
    results = queries.search(officer, queries.SearchParams(q="an"))
    every = [b.full_name for b in results[0:100]]
    assert every[:5] == [f"An Văn {c}" for c in "ABCDE"] and every[5:] == [f"Lê An {c}" for c in "ABCD"]
    for size in (1, 2, 3, 4, 5, 9, 10):
        fresh = queries.search(officer, queries.SearchParams(q="an"))  # no sizes known yet
        pages = [[b.full_name for b in fresh[i : i + size]] for i in range(0, 12, size)]
        assert sum(pages, []) == every, size
    assert results[6].full_name == "Lê An B"
    assert results[7:7] == [] and results[50:60] == []
    with pytest.raises(IndexError):
        results[9]
    assert [b.full_name for b in results] == every  # iteration


def test_select_and_prefetch_related_apply_to_every_part(tree, officer, django_assert_num_queries):
    _rows(tree.village_a, ["An Văn A", "Lê An B"])
    results = (
        queries.search(officer, queries.SearchParams(q="an")).select_related("village").prefetch_related("categories")
    )
    with django_assert_num_queries(3):  # the two parts, then one prefetch for the whole page
        page = results[0:10]
    with django_assert_num_queries(0):
        assert [(b.village.pk, list(b.categories.all())) for b in page] == [(tree.village_a.pk, [])] * 2


@pytest.mark.parametrize("cap, expected", [(0, 1), (2, 3), (3, 4), (4, 4), (5, 4), (100, 4)])
def test_count_upto_stops_after_the_cap(tree, officer, cap, expected):
    _rows(tree.village_a, ["An Văn A", "An Văn B", "Lê An C", "Lê An D", "Bình Văn E"])
    ranked = queries.search(officer, queries.SearchParams(q="an"))
    plain = queries.search(officer, queries.SearchParams(area=tree.village_a.pk))
    assert queries.count_upto(ranked, cap) == expected  # 4 rows: "more than cap" is cap + 1
    assert queries.count_upto(plain, cap) == min(5, cap + 1)


def test_later_parts_are_not_read_in_index_order_on_postgresql(tree, officer):
    results = queries.search(officer, queries.SearchParams(q="nguyen thi a"))
    first, later = (str(p.query) for p in results.parts)
    if connection.vendor == "postgresql":
        assert 'COLLATE "POSIX"' in later and "COLLATE" not in first
    else:
        assert "COLLATE" not in later
