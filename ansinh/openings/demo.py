"""The demo's account opening (called by load_demo): requests in flight in the demo communes —
in Phường Châu Đốc one batch sent to the bank with the sandbox's results imported, requests
confirmed and waiting for the next file, and requests the village head just made; in the other
demo commune requests waiting and confirmed. Made through the services, as the demo's users
where they exist. Idempotent: once a demo commune has requests, a second call adds nothing."""

from __future__ import annotations

from django.db import transaction

from ansinh.accounts.models import User
from ansinh.areas.models import Area, Level, Tree
from ansinh.payments.models import AccountStatus, ReceivingAccount
from ansinh.registry.models import Beneficiary, Status

from . import sandbox, services
from .models import OPEN_STATUSES, OpeningRequest

HOME_COMMUNE = "30316"  # Phường Châu Đốc (ansinh.demo.organisations.HOME_COMMUNE)
OTHER_COMMUNE = "30502"  # Phường Thới Sơn


def _user(username: str):
    return User.objects.filter(username=username, is_active=True).first()


def _candidates(commune: Area, n: int, village: Area | None = None) -> list[Beneficiary]:
    """Receiving beneficiaries with a CCCD and a phone, no active account and no open request."""
    qs = Beneficiary.objects.filter(area_path__startswith=(village or commune).path, status=Status.ACTIVE)
    qs = qs.exclude(cccd="").exclude(phone="")
    qs = qs.exclude(pk__in=ReceivingAccount.objects.filter(status=AccountStatus.ACTIVE).values("beneficiary_id"))
    qs = qs.exclude(pk__in=OpeningRequest.objects.filter(status__in=OPEN_STATUSES).values("beneficiary_id"))
    return list(qs.select_related("commune", "village").order_by("pk")[:n])


def _request(actor, b: Beneficiary, i: int) -> OpeningRequest:
    # every third request is opened by the current representative, where there is one with a CCCD
    link = None
    if i % 3 == 2:
        link = (
            b.representations.filter(ended_at__isnull=True)
            .exclude(representative__cccd="")
            .exclude(representative__phone="")
            .exclude(representative__birth_date__isnull=True)
            .first()
        )
    return services.request_opening(actor=actor, beneficiary=b, representation=link, switch_method=i % 2 == 0)


@transaction.atomic
def load_demo_openings() -> dict:
    out = {"requested": 0, "confirmed": 0, "exported": 0, "opened": 0, "rejected": 0, "batches": 0}
    communes = {
        a.code: a
        for a in Area.objects.filter(code__in=(HOME_COMMUNE, OTHER_COMMUNE), level=Level.COMMUNE, tree=Tree.CURRENT)
    }
    if not communes or OpeningRequest.objects.filter(commune__in=communes.values()).exists():
        return out
    officer, head = _user("canbo.xa"), _user("truong.khom")
    home = communes.get(HOME_COMMUNE)
    if home is not None:
        # one batch sent, answered by the sandbox provider
        sent = [_request(officer, b, i) for i, b in enumerate(_candidates(home, 40))]
        if sent:
            services.confirm_requests(actor=officer, requests=sent)
            batch = services.export_batch(actor=officer, commune=home)
            out["batches"] += 1
            name, content = sandbox.answer_batch(batch)
            result = services.import_results(actor=officer, content=content, file_name=name, batch=batch)
            out["opened"] += result.opened
            out["rejected"] += result.rejected
        # confirmed, waiting for the next file
        waiting = [_request(officer, b, i) for i, b in enumerate(_candidates(home, 6))]
        out["confirmed"] += services.confirm_requests(actor=officer, requests=waiting)
        # just requested by the village head, in his village
        village = None
        if head is not None:
            role = (
                head.assignments.filter(area__level=Level.VILLAGE, revoked_at__isnull=True)
                .select_related("area")
                .first()
            )
            village = role.area if role is not None else None
        for i, b in enumerate(_candidates(home, 5, village)):
            _request(head if village is not None else officer, b, i)
            out["requested"] += 1
    other = communes.get(OTHER_COMMUNE)
    if other is not None:
        other_officer = _user("canbo.tinhbien")
        made = [_request(other_officer, b, i) for i, b in enumerate(_candidates(other, 8))]
        out["confirmed"] += services.confirm_requests(actor=other_officer, requests=made[:4])
        out["requested"] += len(made[4:])
    out["exported"] = out["opened"] + out["rejected"]
    return out
