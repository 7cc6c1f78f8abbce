"""The sandbox adapter and the synthetic population register: the same answers every time."""

from __future__ import annotations

from datetime import date

from ansinh.verification.adapters import PersonQuery, get_adapter
from ansinh.verification.adapters.sandbox import compare
from ansinh.verification.models import SyntheticResident
from ansinh.verification.services import build_synthetic_register, synthetic_resident
from tests.factories import cccd_for


def _row(i: int) -> dict:
    birth = date(1940 + i % 40, 1 + i % 12, 1 + i % 28)
    gender = "male" if i % 2 else "female"
    return {
        "cccd": cccd_for(birth, gender, f"{i:06d}"),
        "full_name": "Nguyễn Thị Hoà",
        "birth_date": birth,
        "gender": gender,
    }


def _kind(row, r) -> str:
    if r is None:
        return "unknown"
    if r.death_date:
        return "deceased"
    if r.birth_date != row["birth_date"]:
        return "birth_date"
    if r.full_name != row["full_name"]:
        return "full_name"
    return "same"


def test_discrepancies_are_deterministic_for_a_seed():
    rows = [_row(i) for i in range(600)]
    first = [_kind(row, synthetic_resident(row, seed="s", can_die=True)) for row in rows]
    again = [_kind(row, synthetic_resident(row, seed="s", can_die=True)) for row in rows]
    other = [_kind(row, synthetic_resident(row, seed="t", can_die=True)) for row in rows]

    assert first == again
    assert first != other
    counts = {k: first.count(k) for k in set(first)}
    assert set(counts) == {"unknown", "deceased", "birth_date", "full_name", "same"}
    assert counts["same"] > 500  # a few deliberate discrepancies, most people match


def test_representatives_never_die_in_the_register():
    rows = [_row(i) for i in range(600)]
    assert all(_kind(row, synthetic_resident(row, seed="s", can_die=False)) != "deceased" for row in rows)


def test_a_misspelt_name_loses_its_diacritics_on_the_last_word():
    row = _row(0)
    for i in range(600):
        row = _row(i)
        r = synthetic_resident(row, seed="s", can_die=True)
        if r is not None and r.full_name != row["full_name"]:
            assert r.full_name == "Nguyễn Thị Hoa"
            return
    raise AssertionError("no misspelt name in 600 people")


def test_compare_names_the_fields_that_differ():
    q = PersonQuery(ref="1", cccd="089150000001", full_name="Lê  Văn AN", birth_date=date(1950, 1, 1), gender="male")
    same = SyntheticResident(cccd=q.cccd, full_name="Lê Văn An", birth_date=date(1950, 1, 1), gender="male")
    assert compare(q, same).outcome == "match"  # case and spacing do not count
    other = SyntheticResident(cccd=q.cccd, full_name="Le Van An", birth_date=date(1951, 1, 1), gender="female")
    answer = compare(q, other)
    assert (answer.outcome, answer.mismatched_fields) == ("mismatch", ["full_name", "birth_date", "gender"])
    dead = SyntheticResident(
        cccd=q.cccd, full_name="x", birth_date=date(1950, 1, 1), gender="male", death_date=date(2025, 5, 1)
    )
    assert (compare(q, dead).outcome, compare(q, dead).death_date) == ("deceased", date(2025, 5, 1))
    assert compare(q, None).outcome == "not_found"


def test_the_register_is_built_once_from_the_registry(people):
    SyntheticResident.objects.all().delete()
    added = build_synthetic_register(seed="s")
    assert added == SyntheticResident.objects.count() > 0
    snapshot = list(SyntheticResident.objects.order_by("cccd").values())
    assert build_synthetic_register(seed="s") == 0
    assert list(SyntheticResident.objects.order_by("cccd").values()) == snapshot


def test_the_sandbox_answers_in_order_of_the_request(people):
    adapter = get_adapter("sandbox")
    queries = [
        PersonQuery(ref=str(p.pk), cccd=p.cccd, full_name=p.full_name, birth_date=p.birth_date, gender=p.gender)
        for p in (people.unknown, people.match, people.dead)
    ]
    answers = adapter.verify(queries)
    assert [(a.ref, a.outcome) for a in answers] == [
        (str(people.unknown.pk), "not_found"),
        (str(people.match.pk), "match"),
        (str(people.dead.pk), "deceased"),
    ]
