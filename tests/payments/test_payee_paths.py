"""One set of rules for the payee: every path that makes a representative the payee, or ends a
payee representation, records the payee designation (with its month), so that the payroll
knows the payee of every month — not only the forms of the payments app.

- a new beneficiary (form, API, import, demo): from the beneficiary's start month;
- a change on an existing beneficiary (a representative added as payee, an import update, an
  ended representation): from the next month once the beneficiary has been paid, as
  `designate_payee` by default (`services.payee_change_month`; tests/payments/test_payee_month.py)."""

from datetime import date

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ansinh.audit.models import AuditEvent
from ansinh.payments import queries, services
from ansinh.payments.models import PayeeDesignation
from ansinh.registry import bulk
from ansinh.registry import services as registry_services
from ansinh.registry.importing import apply_plan, check_file
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput, PersonInput, RepresentationInput
from ansinh.registry.models import Beneficiary, Representation
from tests.factories import cccd_for, import_row, import_xlsx

from .conftest import add_month, mark_paid


def designations(b):
    return [
        (d.from_month, d.representation_id)
        for d in PayeeDesignation.objects.filter(beneficiary=b, cancelled_at__isnull=True).order_by("from_month")
    ]


def payee_row(**extra):
    birth, rep_birth = date(1950, 6, 7), date(1970, 1, 1)
    values = {
        "full_name": "Trần Văn Bình",
        "birth_date": "07/06/1950",
        "gender": "Nam",
        "cccd": cccd_for(birth, "male", "100002"),
        "phone": "0386123456",
        "category": "D20.5.6",
        "condition": "severe:adult",
        "decision_number": "2/QĐ-UBND",
        "decision_date": "11/01/2024",
        "start_month": "02/2024",
        "rep_full_name": "Lê Văn Tư",
        "rep_kind": "Ủy quyền",
        "rep_relationship": "Con",
        "rep_birth_date": "01/01/1970",
        "rep_gender": "Nam",
        "rep_cccd": cccd_for(rep_birth, "male", "999999"),
        "rep_phone": "0987654321",
        "rep_is_payee": "x",
    }
    values.update(extra)
    return import_row(**values)


def test_an_imported_payee_representative_is_designated_from_the_start_month(tree, policy, officer_a, tmp_path):
    path = import_xlsx([payee_row()], tmp_path / "ds.xlsx")
    apply_plan(actor=officer_a, plan=check_file(path, commune=tree.a), commune=tree.a)
    b = Beneficiary.objects.get()
    link = Representation.objects.get(beneficiary=b)
    assert link.is_payee
    assert designations(b) == [(date(2024, 2, 1), link.pk)]
    assert queries.payee_on([b.pk], date(2024, 2, 1))[b.pk] == link
    event = AuditEvent.objects.get(action="payments.payee.designated")
    assert event.after["from_month"] == "2024-02-01" and event.after["payee"] == "Lê Văn Tư"


def test_an_import_update_that_makes_a_representative_the_payee_designates_from_next_month(
    tree, policy, officer_a, tmp_path
):
    path = import_xlsx([payee_row(rep_is_payee="")], tmp_path / "a.xlsx")
    apply_plan(actor=officer_a, plan=check_file(path, commune=tree.a), commune=tree.a)
    b = Beneficiary.objects.get()
    assert designations(b) == []  # nobody but the beneficiary is paid: nothing to record
    mark_paid(b)
    path = import_xlsx([payee_row()], tmp_path / "b.xlsx")
    apply_plan(actor=officer_a, plan=check_file(path, commune=tree.a), commune=tree.a)
    link = Representation.objects.get(beneficiary=b)
    assert link.is_payee
    assert designations(b) == [(services.default_month(), link.pk)]
    assert queries.payee_on([b.pk], services.first_open_month())[b.pk] is None


def test_api_create_with_a_payee_records_the_designation(tree, policy, officer_a, api_client_for):
    birth = date(1944, 3, 2)
    body = {
        "full_name": "Phạm Thị Dung",
        "birth_date": birth.isoformat(),
        "gender": "female",
        "commune_id": tree.a.pk,
        "village_id": tree.village_a.pk,
        "cccd": cccd_for(birth, "female"),
        "phone": "0912345678",
        "start_month": "2025-03-01",
        "decision_number": "9/QĐ-UBND",
        "decision_date": "2025-03-05",
        "categories": [{"code": "D20.5.5.c"}],
        "representatives": [{"full_name": "Trần Văn Bình", "gender": "male", "kind": "authorised", "is_payee": True}],
    }
    r = api_client_for(officer_a).post("/api/v1/beneficiaries", body, content_type="application/json")
    assert r.status_code == 201, r.content
    b = Beneficiary.objects.get(pk=r.json()["id"])
    link = Representation.objects.get(beneficiary=b)
    assert designations(b) == [(b.start_month, link.pk)]


def test_adding_a_payee_representative_to_an_existing_beneficiary_designates_from_next_month(beneficiary, officer_a):
    mark_paid(beneficiary)
    link = registry_services.add_representation(
        actor=officer_a,
        beneficiary=beneficiary,
        data=RepresentationInput(
            person=PersonInput(full_name="Trần Văn Bình", gender="male"), kind="authorised", is_payee=True
        ),
    )
    assert designations(beneficiary) == [(services.default_month(), link.pk)]
    assert queries.payee_on([beneficiary.pk], services.first_open_month())[beneficiary.pk] is None
    assert queries.payee_on([beneficiary.pk], services.default_month())[beneficiary.pk] == link


def test_ending_the_payee_representation_pays_the_beneficiary_from_next_month(beneficiary, guardian, officer_a):
    mark_paid(beneficiary)
    m0 = services.first_open_month()
    services.designate_payee(actor=officer_a, beneficiary=beneficiary, representation=guardian, from_month=m0)
    registry_services.end_representation(actor=officer_a, representation=Representation.objects.get(pk=guardian.pk))
    assert designations(beneficiary) == [(m0, guardian.pk), (add_month(m0, 1), None)]
    assert queries.payee_on([beneficiary.pk], m0)[beneficiary.pk] == guardian  # this month is not rewritten
    assert queries.payee_on([beneficiary.pk], add_month(m0, 1))[beneficiary.pk] is None


def test_ending_a_representation_that_is_not_the_payee_records_nothing(beneficiary, guardian, officer_a):
    registry_services.end_representation(actor=officer_a, representation=guardian)
    assert designations(beneficiary) == []


def test_a_payee_known_only_by_the_registry_flag_keeps_the_months_before_a_change(beneficiary, guardian, officer_a):
    """Data registered before designations existed: the flag's payee becomes the start of the
    history, so that the months before the change still pay them."""
    Representation.objects.filter(pk=guardian.pk).update(is_payee=True)  # as before designations
    mark_paid(beneficiary)
    m0, m1 = services.first_open_month(), services.default_month()
    services.designate_payee(actor=officer_a, beneficiary=beneficiary, representation=None)
    assert designations(beneficiary) == [(beneficiary.start_month, guardian.pk), (m1, None)]
    assert queries.payee_on([beneficiary.pk], m0)[beneficiary.pk] == guardian
    assert queries.payee_on([beneficiary.pk], m1)[beneficiary.pk] is None


def test_a_new_payee_replacing_a_flag_only_payee_keeps_the_history(beneficiary, guardian, officer_a):
    Representation.objects.filter(pk=guardian.pk).update(is_payee=True)
    mark_paid(beneficiary)
    link = registry_services.add_representation(
        actor=officer_a,
        beneficiary=beneficiary,
        data=RepresentationInput(
            person=PersonInput(full_name="Lê Thị Hoa", gender="female"), kind="authorised", is_payee=True
        ),
    )
    m1 = services.default_month()
    assert designations(beneficiary) == [(beneficiary.start_month, guardian.pk), (m1, link.pk)]
    assert queries.payee_on([beneficiary.pk], services.first_open_month())[beneficiary.pk] == guardian


def _items(tree, n: int, offset: int) -> list[bulk.BulkItem]:
    items = []
    for i in range(n):
        birth = date(1930 + i % 40, 1 + i % 12, 1 + i % 28)
        data = BeneficiaryInput(
            full_name=f"Nguyễn Văn Số {offset + i}",
            birth_date=birth,
            gender="male",
            commune_id=tree.a.pk,
            village_id=tree.village_a.pk,
            cccd=cccd_for(birth, "male", f"{offset + i:06d}"),
            categories=[CategoryInput(code="D20.5.5.c")],
            start_month=date(2024, 1 + i % 12, 1),
            decision_number=f"{offset + i}/QĐ",
            decision_date=date(2024, 12, 1),
            representatives=[
                RepresentationInput(
                    person=PersonInput(full_name=f"Trần Thị Đại Diện {offset + i}", gender="female"),
                    kind="authorised",
                    is_payee=i % 2 == 0,
                )
            ],
        )
        items.append(bulk.BulkItem(data, []))
    return items


def _write(tree, officer_a, items):
    from ansinh.policy.models import Category

    areas = {tree.a.pk: tree.a, tree.village_a.pk: tree.village_a}
    ids = dict(Category.objects.values_list("code", "id"))
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        bulk.bulk_create_beneficiaries(actor=officer_a, items=items, areas=areas, category_ids=ids)
    return [q["sql"] for q in ctx.captured_queries if "payments_payeedesignation" in q["sql"]]


def test_the_bulk_path_designates_set_based(tree, policy, officer_a, django_assert_max_num_queries):
    small = _write(tree, officer_a, _items(tree, 20, 0))
    # the whole write of 200 rows is a few dozen statements (SQLite splits big inserts in
    # batches of its parameter limit), never one per row
    with django_assert_max_num_queries(40):
        large = _write(tree, officer_a, _items(tree, 200, 1000))
    assert len(large) == len(small) == 1  # the designations: one insert, whatever the rows
    assert PayeeDesignation.objects.count() == 110  # every other row has a payee representative
    for d in PayeeDesignation.objects.select_related("beneficiary", "representation")[:20]:
        assert d.from_month == d.beneficiary.start_month and d.representation.is_payee


@pytest.mark.parametrize("audit", [True, False])
def test_the_demo_writer_designates_without_row_audit(tree, policy, audit):
    from ansinh.policy.models import Category

    areas = {tree.a.pk: tree.a, tree.village_a.pk: tree.village_a}
    with transaction.atomic():
        bulk.bulk_create_beneficiaries(
            actor=None,
            items=_items(tree, 4, 0),
            areas=areas,
            category_ids=dict(Category.objects.values_list("code", "id")),
            audit=audit,
        )
    assert PayeeDesignation.objects.count() == 2
    assert AuditEvent.objects.filter(action="payments.payee.designated").count() == (2 if audit else 0)
