"""The dashboard's figures (registry.stats) on a small hand-built registry: each number, the
scoping of the three personas, and agreement with the filtered list each figure links to."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from ansinh.accounts.roles import Role
from ansinh.registry import queries, services, stats
from ansinh.registry.inputs import BeneficiaryInput, CategoryInput
from ansinh.registry.models import Beneficiary, ImportJob, ImportStatus
from tests.conftest import make_user
from tests.factories import cccd_for

OLD = date(2025, 1, 10)


@pytest.fixture(name="registry")
def registry_fixture(tree, policy, officer_a):
    """Commune A: three receiving (one started this month, one with a data problem), one stopped
    this month, one moving to B (stopped this month in A), one stopped long ago, one suspended;
    one import being checked and one finished. Commune B: one receiving.
    The names say what each record is."""
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month_end = this_month - timedelta(days=1)
    serial = iter(range(100000, 999999, 1111))

    def person(name, *, commune=tree.a, village=tree.village_a, signed=OLD):
        birth = date(1950, 1, 1)
        data = BeneficiaryInput(
            full_name=name,
            birth_date=birth,
            gender="female",
            commune_id=commune.pk,
            village_id=village.pk if village else None,
            cccd=cccd_for(birth, "female", str(next(serial))),
            phone="",
            no_phone=True,
            categories=[CategoryInput(code="D20.5.5.c")],
            decision_number="1/QĐ-UBND",
            decision_date=signed,
        )
        return services.create_beneficiary(actor=officer_a, data=data, accept_duplicate=True)

    def decide(b, kind, **kw):
        services.record_decision(actor=officer_a, beneficiary=b, kind=kind, number="2/QĐ", signed_on=today, **kw)

    person("Lê Thị Cũ")
    person("Lê Thị Mới", signed=today)
    problem = person("Lê Thị Lỗi")
    Beneficiary.objects.filter(pk=problem.pk).update(has_issues=True, quality_issues=[{"code": "test"}])
    decide(person("Lê Văn Thôi"), "stop", reason="ineligible", event_date=last_month_end)
    decide(person("Lê Văn Chuyển"), "move", event_date=last_month_end, to_commune=tree.b)
    decide(person("Lê Văn Thôi Cũ"), "stop", reason="ineligible", event_date=date(2025, 3, 5))
    decide(person("Lê Văn Tạm Dừng"), "suspend")
    person("Phạm Văn Bê", commune=tree.b, village=None)
    for status in (ImportStatus.VALIDATING, ImportStatus.DONE):
        ImportJob.objects.create(
            commune=tree.a,
            area_path=tree.a.path,
            file="imports/x.xlsx",
            original_name="x.xlsx",
            sha256="0" * 64,
            status=status,
        )
    return tree


A = {"receiving": 3, "started": 1, "stopped": 2, "issues": 1, "imports": 1, "moving_in": 0}
B = {"receiving": 1, "started": 0, "stopped": 0, "issues": 0, "imports": 0, "moving_in": 1}


def figures_of(dashboard) -> dict:
    return {row.commune.name: vars(row.figures) for row in dashboard.rows}


def test_commune_officer_sees_the_figures_of_their_commune(registry, officer_a):
    dashboard = stats.commune_figures(officer_a)
    assert dashboard.month == timezone.localdate().replace(day=1)
    assert dashboard.single
    assert figures_of(dashboard) == {"Châu Phú A": A}
    assert dashboard.rows[0].area_filter == registry.a.pk


def test_officer_b_sees_nothing_of_a(registry, officer_b):
    dashboard = stats.commune_figures(officer_b)
    assert figures_of(dashboard) == {"Vĩnh Mỹ": B}  # the move towards B is B's to receive
    assert vars(dashboard.total) == B


def test_district_office_gets_one_row_per_commune_and_the_totals(registry):
    office = make_user("office", Role.OFFICE_OFFICER, registry.district)
    dashboard = stats.commune_figures(office)
    assert not dashboard.single
    assert figures_of(dashboard) == {"Châu Phú A": A, "Vĩnh Mỹ": B}
    assert vars(dashboard.total) == {k: A[k] + B[k] for k in A}
    assert [row.area_filter for row in dashboard.rows] == [registry.a.pk, registry.b.pk]


def test_a_commune_without_anyone_yet_has_a_row_of_zeros(tree, policy):
    office = make_user("office", Role.OFFICE_OFFICER, tree.district)
    dashboard = stats.commune_figures(office)
    assert figures_of(dashboard) == {"Châu Phú A": vars(stats.Figures()), "Vĩnh Mỹ": vars(stats.Figures())}


def test_village_head_counts_their_village_only_and_gets_no_commune_filter(registry):
    head = make_user("head", Role.VILLAGE_HEAD, registry.village_a)
    dashboard = stats.commune_figures(head)
    # everyone of A is in the village but the import, which belongs to the commune
    assert figures_of(dashboard) == {"Châu Phú A": {**A, "imports": 0}}
    assert dashboard.rows[0].area_filter is None


def test_roles_without_the_registry_get_no_figures(registry):
    assert stats.commune_figures(make_user("post", Role.PROVIDER_STAFF, registry.district)) is None
    assert stats.commune_figures(make_user("treasury", Role.TREASURY_VIEWER, registry.province)) is None


@pytest.mark.parametrize(
    ("params", "figure"),
    [
        (queries.SearchParams(status="active"), "receiving"),
        (queries.SearchParams(change="started"), "started"),
        (queries.SearchParams(change="stopped"), "stopped"),
        (queries.SearchParams(issues=True), "issues"),
    ],
)
def test_each_figure_is_the_count_of_the_list_it_links_to(registry, officer_a, officer_b, params, figure):
    for user, expected in ((officer_a, A), (officer_b, B)):
        assert queries.search(user, params).count() == expected[figure]
        area = queries.SearchParams(**{**vars(params), "area": registry.a.pk})
        assert queries.search(user, area).count() == (expected[figure] if user == officer_a else 0)


def test_the_lists_name_the_right_people(registry, officer_a):
    def names(**params):
        return sorted(b.full_name for b in queries.search(officer_a, queries.SearchParams(**params)))

    assert names(change="started") == ["Lê Thị Mới"]
    assert names(change="stopped") == ["Lê Văn Chuyển", "Lê Văn Thôi"]


def test_figures_cost_four_queries_however_many_communes(registry, django_assert_num_queries):
    office = make_user("office", Role.OFFICE_OFFICER, registry.province)
    stats.commune_figures(office)  # role lookups cached on the user
    with django_assert_num_queries(4):
        stats.commune_figures(office)
