"""Import-job status changes: one function moves a job along ImportJob.STATUS_TRANSITIONS and
records one audit event per transition, with the counts."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ansinh.audit.models import AuditEvent
from ansinh.registry import import_jobs
from ansinh.registry.models import ImportJob, ImportStatus
from tests.registry.test_import import HEADERS, bad_rows, good_rows, xlsx


@pytest.fixture
def upload(tree, policy, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"

    def _upload(rows=None, name="ds.xlsx"):
        path = xlsx(good_rows() + bad_rows() if rows is None else rows, tmp_path / name)
        return SimpleUploadedFile(name, path.read_bytes())

    return _upload


def job_events(job):
    return list(
        AuditEvent.objects.filter(object_type="registry.importjob", object_id=str(job.pk))
        .order_by("id")
        .values_list("action", "before", "after", "actor_id")
    )


def test_every_transition_of_a_successful_import_is_audited_with_counts(tree, officer_a, upload):
    job = import_jobs.start_import(actor=officer_a, commune=tree.a, upload=upload())
    job = import_jobs.confirm_import(actor=officer_a, job=job)
    assert job.status == ImportStatus.DONE
    events = job_events(job)
    assert [e[0] for e in events] == [
        "registry.import.uploaded",
        "registry.import.checking",
        "registry.import.checked",
        "registry.import.confirmed",
        "registry.import.done",
    ]
    assert {e[3] for e in events} == {officer_a.pk}
    _action, before, after, _actor = events[2]
    assert before == {"status": ImportStatus.VALIDATING}
    assert after["status"] == ImportStatus.VALIDATED
    assert (after["total_rows"], after["error_rows"], after["to_create"]) == (4, 2, 2)
    _action, before, after, _actor = events[4]
    assert (before["status"], after["status"], after["created"], after["updated"]) == ("importing", "done", 2, 0)


def test_failure_and_cancellation_are_audited(tree, officer_a, upload):
    content = ",".join(HEADERS) + "\n" + '"' + "x" * 200_000 + '"\n'
    failed = import_jobs.start_import(
        actor=officer_a, commune=tree.a, upload=SimpleUploadedFile("big-cell.csv", content.encode())
    )
    assert failed.status == ImportStatus.FAILED
    action, before, after, _actor = job_events(failed)[-1]
    assert (action, before["status"], after["status"]) == ("registry.import.failed", "validating", "failed")
    assert after["message"] == failed.message

    job = import_jobs.start_import(actor=officer_a, commune=tree.a, upload=upload())
    import_jobs.cancel_import(actor=officer_a, job=job)
    import_jobs.cancel_import(actor=officer_a, job=job)  # again: nothing more happens
    actions = [e[0] for e in job_events(job)]
    assert actions[-1] == "registry.import.cancelled"
    assert actions.count("registry.import.cancelled") == 1


def test_transitions_outside_the_map_are_refused_and_not_recorded(tree, officer_a, upload):
    job = import_jobs.start_import(actor=officer_a, commune=tree.a, upload=upload())
    assert job.status == ImportStatus.VALIDATED
    count = AuditEvent.objects.count()
    assert import_jobs.change_status(actor=officer_a, job_id=job.pk, status=ImportStatus.DONE) is None
    assert import_jobs.change_status(actor=officer_a, job_id=job.pk, status=ImportStatus.VALIDATING) is None
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED
    assert AuditEvent.objects.count() == count


def test_the_map_ends_in_final_states():
    transitions = ImportJob.STATUS_TRANSITIONS
    assert set(transitions) == set(ImportStatus.values)
    for final in (ImportStatus.DONE, ImportStatus.FAILED, ImportStatus.CANCELLED):
        assert not transitions[final]
    assert ImportStatus.DONE in transitions[ImportStatus.IMPORTING]
    assert ImportStatus.DONE not in transitions[ImportStatus.VALIDATED]
