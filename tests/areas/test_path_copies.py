"""Rows that copy an area's path (beneficiaries, representatives, import jobs, audit events and
any later model with an `area_path`) follow when a reload of the official tree moves a commune
or a district: scoping by path prefix must stay right after the move."""

from datetime import date

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, models, transaction

from ansinh.accounts import access
from ansinh.accounts.roles import Role
from ansinh.areas import copies, services
from ansinh.areas.models import Area, Level, Tree
from ansinh.areas.services import Unit
from ansinh.audit.models import AuditEvent
from ansinh.audit.services import record
from ansinh.registry import queries
from ansinh.registry.models import Beneficiary, ImportJob, Representative
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

P, D, C = Level.PROVINCE, Level.DISTRICT, Level.COMMUNE


def load(monkeypatch, units):
    monkeypatch.setattr(services, "legacy_units", lambda codes: units)
    return services.load_legacy_provinces(actor=None, codes=["x"])


def area(code) -> Area:
    return Area.objects.get(tree=Tree.LEGACY, code=code)


BEFORE = [
    Unit(P, "01", "Một", "Tỉnh"),
    Unit(P, "02", "Hai", "Tỉnh"),
    Unit(D, "001", "Huyện Một", "Huyện", "01"),
    Unit(D, "002", "Huyện Hai", "Huyện", "02"),
    Unit(C, "00001", "Xã Một", "Xã", "001"),
    Unit(C, "00002", "Xã Ở Lại", "Xã", "001"),
]


def people_in(commune: Area, village: Area) -> dict:
    """One row of each kind that copies a path, in `village` of `commune`."""
    b = Beneficiary.objects.create(
        full_name="Nguyễn Thị Ánh",
        name_key="nguyen thi anh",
        birth_date=date(1940, 5, 17),
        gender="female",
        commune=commune,
        village=village,
        area_path=village.path,
        start_month=date(2026, 1, 1),
    )
    rep = Representative.objects.create(full_name="Trần Văn Bình", commune=commune, area_path=commune.path)
    job = ImportJob.objects.create(commune=commune, area_path=commune.path, file="imports/x.xlsx", sha256="0" * 64)
    with transaction.atomic():
        event = record(actor=None, action="registry.beneficiary.created", obj=b, area=village)
    return {"beneficiary": b, "representative": rep, "job": job, "event": event}


def test_a_commune_moved_to_another_province_takes_its_people_and_their_scoping(monkeypatch):
    load(monkeypatch, BEFORE)
    commune = area("00001")
    village = services.create_village(actor=None, commune=commune, name="Thôn Đông", kind="Thôn")
    rows = people_in(commune, village)
    stays = Representative.objects.create(full_name="Lê Thị Cúc", commune=area("00002"), area_path=area("00002").path)
    officer = make_user("officer", Role.COMMUNE_OFFICER, commune)
    monitor_old = make_user("monitor_old", Role.PROVINCE_MONITOR, area("01"))
    monitor_new = make_user("monitor_new", Role.PROVINCE_MONITOR, area("02"))

    after = [u if u.code != "00001" else Unit(C, "00001", "Xã Một", "Xã", "002") for u in BEFORE]
    counts = load(monkeypatch, after)

    assert counts["commune"]["updated"] == 1
    commune.refresh_from_db()
    village.refresh_from_db()
    assert commune.path.startswith(area("002").path)
    b, rep, job, event = (rows[k] for k in ("beneficiary", "representative", "job", "event"))
    for obj in (b, rep, job, stays):
        obj.refresh_from_db()
    event = AuditEvent.objects.get(pk=event.pk)
    assert b.area_path == village.path
    assert rep.area_path == commune.path
    assert job.area_path == commune.path
    assert event.area_path == village.path
    assert stays.area_path == area("00002").path  # a commune that did not move is untouched

    for user in (officer, monitor_old, monitor_new):
        access.forget(user)
    # the commune's own officer still sees its people; the new province does, the old does not
    assert list(queries.beneficiaries_for(officer)) == [b]
    assert list(queries.beneficiaries_for(monitor_new)) == [b]
    assert list(queries.representatives_for(monitor_new)) == [rep]
    assert not queries.beneficiaries_for(monitor_old).exists()
    from ansinh.audit.queries import events_for as scoped_events
    from ansinh.web.views.imports import _jobs_for

    assert event in scoped_events(officer)
    assert event in scoped_events(monitor_new)
    assert event not in scoped_events(monitor_old)
    assert job in _jobs_for(officer)

    summary = AuditEvent.objects.get(action="areas.paths.updated")
    assert summary.after["moves"] == [
        {"area": commune.pk, "from": f"/{area('01').pk}/{area('001').pk}/{commune.pk}/", "to": commune.path}
    ]
    assert summary.after["rows"]["registry.beneficiary"] == 1
    assert summary.after["rows"]["registry.representative"] == 1
    assert summary.after["rows"]["registry.importjob"] == 1
    assert summary.after["rows"]["audit.auditevent"] >= 2  # the beneficiary's and the village's events

    load(monkeypatch, after)  # a re-run moves nothing and records nothing
    assert AuditEvent.objects.filter(action="areas.paths.updated").count() == 1


def test_a_district_moved_with_a_commune_moved_out_of_it_in_the_same_load(monkeypatch):
    """Nested moves in one load: the district changes province, one of its communes changes
    district; every copy gets the path of its own area."""
    load(monkeypatch, BEFORE)
    moved_with = area("00001")
    moved_out = area("00002")
    v1 = services.create_village(actor=None, commune=moved_with, name="Thôn Một", kind="Thôn")
    v2 = services.create_village(actor=None, commune=moved_out, name="Thôn Hai", kind="Thôn")
    r1 = people_in(moved_with, v1)
    r2 = people_in(moved_out, v2)

    after = [
        Unit(P, "01", "Một", "Tỉnh"),
        Unit(P, "02", "Hai", "Tỉnh"),
        Unit(D, "001", "Huyện Một", "Huyện", "02"),  # the district moves to province 02
        Unit(D, "002", "Huyện Hai", "Huyện", "02"),
        Unit(C, "00001", "Xã Một", "Xã", "001"),  # stays in its district, so moves with it
        Unit(C, "00002", "Xã Ở Lại", "Xã", "002"),  # changes district
    ]
    load(monkeypatch, after)

    for village, rows in ((v1, r1), (v2, r2)):
        village.refresh_from_db()
        commune = village.parent
        assert Beneficiary.objects.get(pk=rows["beneficiary"].pk).area_path == village.path
        assert Representative.objects.get(pk=rows["representative"].pk).area_path == commune.path
        assert ImportJob.objects.get(pk=rows["job"].pk).area_path == commune.path
        assert AuditEvent.objects.get(pk=rows["event"].pk).area_path == village.path
    assert v1.path.startswith(area("02").path + f"{area('001').pk}/")
    assert v2.path.startswith(area("002").path)
    # every audit event's copy is its area's path
    for event in AuditEvent.objects.exclude(area=None).select_related("area"):
        assert event.area_path == event.area.path
    summary = AuditEvent.objects.get(action="areas.paths.updated")
    assert sorted(m["area"] for m in summary.after["moves"]) == sorted([area("001").pk, moved_out.pk])


def test_every_model_with_a_path_copy_is_covered():
    """A path copy must be named `area_path` (or be Area.path itself), so that a later app
    (payments, payroll …) is re-pathed without being listed anywhere."""
    covered = {m._meta.label_lower for m, _field in copies.path_copies()}
    assert {"registry.beneficiary", "registry.representative", "registry.importjob", "audit.auditevent"} <= covered
    for model in apps.get_models():
        if not model.__module__.startswith("ansinh."):
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField) and "path" in field.name and model is not Area:
                assert field.name == copies.COPY_FIELD, f"{model._meta.label}.{field.name} is not re-pathed"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="database-level guard is PostgreSQL only")
def test_the_log_accepts_only_a_resync_of_its_path_copy(tree):
    """The append-only trigger lets an UPDATE set `area_path` to the current path of the event's
    area and nothing else: no recorded fact (who, what, when, before/after) can change."""
    with transaction.atomic():
        event = record(actor=None, action="test.changed", obj=tree.a, area=tree.a)
    table = AuditEvent._meta.db_table
    refused = [
        (f"UPDATE {table} SET area_path = %s WHERE id = %s", ["/1/", event.pk]),
        (f"UPDATE {table} SET area_path = %s, action = 'x' WHERE id = %s", [tree.a.path, event.pk]),
        (f"UPDATE {table} SET note = 'x' WHERE id = %s", [event.pk]),
        (f"DELETE FROM {table} WHERE id = %s", [event.pk]),
    ]
    for sql, params in refused:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    Area.objects.filter(pk=tree.a.pk).update(path="/999999/")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET area_path = %s WHERE id = %s", ["/999999/", event.pk])
    assert AuditEvent.objects.get(pk=event.pk).area_path == "/999999/"
