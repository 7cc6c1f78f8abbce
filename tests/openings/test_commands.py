"""export_account_openings and import_account_opening_results: JSON summaries on stdout."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from ansinh.openings import services
from ansinh.openings.models import OpeningRequest, RequestStatus

pytestmark = pytest.mark.django_db


def _run(*args) -> tuple[dict, int]:
    out = StringIO()
    try:
        call_command(*args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return json.loads(out.getvalue()), code


def test_export_then_sandbox_then_import(tree, head_a, officer_a, make_person, tmp_path):
    reqs = [services.request_opening(actor=head_a, beneficiary=make_person(f"Nguyễn Thị {n}")) for n in "ABC"]
    services.confirm_requests(actor=officer_a, requests=reqs)
    out = tmp_path / "gui.xlsx"
    summary, code = _run("export_account_openings", "--area", tree.a.code, "--out", str(out), "--user", "officer_a")
    assert code == 0 and summary["count"] == 3 and summary["institution"] == "NAB" and out.exists()
    # nothing left to export: a second run says so
    again, code = _run("export_account_openings", "--area", tree.a.code, "--out", str(tmp_path / "x.xlsx"))
    assert code == 1 and again["count"] == 0

    results = tmp_path / "ket-qua.xlsx"
    _run("import_account_opening_results", "--sandbox-batch", str(summary["batch"]), "--out", str(results))
    imported, code = _run("import_account_opening_results", str(results), "--user", "officer_a")
    assert code == 0 and imported["written"] and imported["opened"] + imported["rejected"] == 3
    assert not OpeningRequest.objects.filter(status=RequestStatus.EXPORTED).exists()
    twice, code = _run("import_account_opening_results", str(results))
    assert code == 0 and twice["duplicate"] and not twice["written"]


def test_an_import_with_errors_exits_1_and_lists_them(tmp_path, db):
    bad = tmp_path / "bad.csv"
    bad.write_text("Mã yêu cầu,Kết quả\nMTK0000001,Đã mở\n", encoding="utf-8")
    summary, code = _run("import_account_opening_results", str(bad))
    assert code == 1 and summary["error_rows"] == 1 and not summary["written"]
