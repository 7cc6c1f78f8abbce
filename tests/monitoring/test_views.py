"""The dashboard's pages: scoping, drill-down, the lists of people, the background export."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.reports.models import ExportJob, ExportStatus
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

MONTH = "2026-11"


@pytest.fixture(autouse=True)
def _export_dir(settings, tmp_path):
    settings.ANSINH_EXPORT_DIR = tmp_path / "exports"


def test_district_page_rows_charts_and_table(tree, month_world, client_for):
    office = make_user("office_884", Role.OFFICE_OFFICER, tree.district)
    page = client_for(office).get(f"/monitoring/{tree.district.pk}/", {"month": MONTH})
    assert page.status_code == 200
    html = page.content.decode()
    board = page.context["board"]
    assert [u.area.pk for u in board.units] == [tree.a.pk, tree.b.pk]
    # the charts: SVG with a title and a description, Vietnamese numbers, and the table fallback
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="app-chart" role="img"') == 4
    assert "<title id=" in html and "<desc id=" in html
    assert "50,00 %" in html and "66,67 %" in html and "2.000.000" in html and "1.100.000" in html
    assert f'data-unit="{tree.a.pk}" data-overdue="1"' in html  # A's change list was late
    assert f'href="/monitoring/{tree.a.pk}/?month={MONTH}"' in html  # drill down to the commune


def test_home_of_a_one_area_user_shows_that_area(tree, month_world, client_for, officer_a):
    response = client_for(officer_a).get("/monitoring/", {"month": MONTH})
    assert response.status_code == 200 and response.context["area"] == tree.a
    assert response.context["board"].total.receiving == 4


def test_scoping(tree, month_world, client, client_for, officer_a, officer_b, viewer_a):
    # anonymous: to the login form
    response = client.get(f"/monitoring/{tree.a.pk}/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    # another commune: 404, its people too
    assert client_for(officer_b).get(f"/monitoring/{tree.a.pk}/").status_code == 404
    assert client_for(officer_b).get(f"/monitoring/{tree.a.pk}/people/").status_code == 404
    assert client_for(officer_b).get(f"/monitoring/{tree.district.pk}/").status_code == 404
    # read-only (the province monitor on A) may view
    assert client_for(viewer_a).get(f"/monitoring/{tree.a.pk}/", {"month": MONTH}).status_code == 200
    assert client_for(viewer_a).get(f"/monitoring/{tree.a.pk}/people/", {"month": MONTH}).status_code == 200
    # B's officer sees B's figures only
    page = client_for(officer_b).get(f"/monitoring/{tree.b.pk}/", {"month": MONTH})
    assert page.context["board"].total.receiving == 2
    assert "Nguyễn Thị Một" not in page.content.decode() and tree.a.name not in page.content.decode()
    # no capability: 403 (the village head)
    head = make_user("head_a", Role.VILLAGE_HEAD, tree.a)
    assert client_for(head).get(f"/monitoring/{tree.a.pk}/").status_code == 403


def test_people_list_masks_cccd_per_role_and_links_to_the_beneficiary(tree, month_world, client_for, officer_a):
    b3 = month_world.people[2]
    office = client_for(officer_a).get(f"/monitoring/{tree.a.pk}/people/", {"kind": "without_account", "month": MONTH})
    html = office.content.decode()
    assert office.context["page"].paginator.count == 2
    assert b3.cccd in html and f'href="{reverse("registry:detail", args=[b3.pk])}"' in html
    approver = make_user("approver_a", Role.APPROVER, tree.a)  # no registry.view_cccd
    page = client_for(approver).get(f"/monitoring/{tree.a.pk}/people/", {"kind": "without_account", "month": MONTH})
    assert page.status_code == 200
    assert b3.cccd not in page.content.decode() and b3.cccd[-4:] in page.content.decode()
    treasury = make_user("treasury_a", Role.TREASURY_VIEWER, tree.a)  # figures, no personal data
    assert client_for(treasury).get(f"/monitoring/{tree.a.pk}/", {"month": MONTH}).status_code == 200
    assert client_for(treasury).get(f"/monitoring/{tree.a.pk}/people/").status_code == 403


def test_export_runs_as_a_job_with_progress_and_file(tree, month_world, client_for, officer_a, officer_b):
    client = client_for(officer_a)
    response = client.get(f"/monitoring/{tree.a.pk}/people/export/", {"kind": "not_paid_cashless", "month": MONTH})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/monitoring/exports/{job.pk}/"
    # the immediate task backend of the tests has written it already
    assert (job.status, job.progress, job.rows, job.total_rows) == (ExportStatus.DONE, 100, 1, 1)
    status = client.get(f"/monitoring/exports/{job.pk}/status/", HTTP_HX_REQUEST="true")
    assert 'data-job-status="done"' in status.content.decode() and "hx-trigger" not in status.content.decode()
    download = client.get(f"/monitoring/exports/{job.pk}/download/")
    assert download.status_code == 200
    ws = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    values = [list(row) for row in ws.iter_rows(values_only=True)]
    header = next(i for i, row in enumerate(values) if row and row[0] == "STT")
    assert values[header + 1][1] == "Trần Thị Hai" and values[header + 1][5] == tree.a.full_name
    assert len([r for r in values[header + 1 :] if r and r[0]]) == 1
    actions = list(AuditEvent.objects.filter(actor=officer_a).values_list("action", flat=True))
    assert "monitoring.export.requested" in actions and "monitoring.exported" in actions
    exported = AuditEvent.objects.get(action="monitoring.exported")
    assert exported.after["rows"] == 1 and exported.after["list"] == "not_paid_cashless"
    # someone else's job: 404
    assert client_for(officer_b).get(f"/monitoring/exports/{job.pk}/").status_code == 404
    assert client_for(officer_b).get(f"/monitoring/exports/{job.pk}/download/").status_code == 404


def test_a_running_export_page_polls(tree, month_world, client_for, officer_a):
    job = ExportJob.objects.create(
        kind="without_account",
        area=tree.a,
        area_path=tree.a.path,
        month=month_world.cycle.month,
        requested_by=officer_a,
        status=ExportStatus.RUNNING,
        progress=40,
        rows=400,
        total_rows=1000,
    )
    html = client_for(officer_a).get(f"/monitoring/exports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in html and 'aria-valuenow="40"' in html and "400" in html


def test_export_needs_the_export_capability(tree, month_world, client_for):
    approver = make_user("approver_a", Role.APPROVER, tree.a)
    response = client_for(approver).get(f"/monitoring/{tree.a.pk}/people/export/", {"month": MONTH})
    assert response.status_code == 403 and not ExportJob.objects.exists()


def test_api_returns_the_same_figures(tree, month_world, api_client_for, officer_b):
    office = make_user("office_884", Role.OFFICE_OFFICER, tree.district)
    data = api_client_for(office).get(f"/api/v1/monitoring/areas/{tree.district.pk}", {"month": MONTH}).json()
    assert data["total"]["receiving"] == 6 and data["total"]["cashless_share"] == 66.67
    units = {u["area_id"]: u for u in data["units"]}
    assert units[tree.a.pk]["change_lists_overdue"] == 1
    assert data["money"][-1]["advanced"] == 2_000_000
    assert api_client_for(officer_b).get(f"/api/v1/monitoring/areas/{tree.a.pk}").status_code == 404


def test_charts_escape_their_labels_and_leave_gaps():
    from decimal import Decimal

    from ansinh.reports import charts

    svg = charts.bar_chart("Tỷ lệ <b>", "Mô tả", [charts.Bar("Xã <A>", Decimal("16.52"))], target=Decimal(30))
    assert "<b>" not in svg and "Xã &lt;A&gt;" in svg and "16,52 %" in svg and 'data-target="30"' in svg
    lines = charts.line_chart(
        "Xu hướng", "Mô tả", ["10/2026", "11/2026", "12/2026"], [charts.Series("Có tài khoản", [Decimal(10), None, 20])]
    )
    assert lines.count("<circle") == 2 and "<polyline" not in lines  # a month without a value breaks the line
    assert "<title id=" in lines and "<desc id=" in lines and 'role="img"' in lines


def test_pages_and_the_export_read_in_vietnamese(tree, month_world, client_for, officer_a):
    from django.utils import translation

    from tests.web.test_vietnamese_everywhere import choice_values, english_msgids, findings, visible_text, xlsx_text

    choices, msgids = choice_values(), english_msgids()
    client = client_for(officer_a)
    problems = []
    with translation.override("vi"):
        for url in (
            f"/monitoring/{tree.a.pk}/?month={MONTH}",
            f"/monitoring/{tree.a.pk}/people/?kind=not_paid_cashless&month={MONTH}",
        ):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="vi")
            assert response.status_code == 200
            problems += [
                f"{url}: {f}" for f in findings(visible_text(response.content.decode()), choices=choices, msgids=msgids)
            ]
        client.get(f"/monitoring/{tree.a.pk}/people/export/", {"kind": "without_account", "month": MONTH})
        job = ExportJob.objects.get()
        page = client.get(f"/monitoring/exports/{job.pk}/", HTTP_ACCEPT_LANGUAGE="vi")
        problems += [
            f"export page: {f}" for f in findings(visible_text(page.content.decode()), choices=choices, msgids=msgids)
        ]
        content = b"".join(client.get(f"/monitoring/exports/{job.pk}/download/").streaming_content)
        problems += [f"export file: {f}" for f in findings(xlsx_text(content), choices=choices, msgids=msgids)]
    assert problems == [], "\n".join(problems)
