"""The demo's transfer leg (issue 11 part 9): every funded demo cycle (the 2023 pilot months and
the months before the current one) is sent through the sandbox bank, so that the demo shows
batches, pain.001 files, the bank's answers, SMS notices in the sandbox gateway and the office's
exceptions with a realistic share of failures (the sandbox rejects about 3 %, and every account
whose holder's name does not match).

- The pilot's 2023 months and the older recent months are answered at once; the pilot's months
  (pre-2025 districts) replay report 3010/BC-SLĐTBXH, whose counts are of people credited, so
  the sandbox's random failures are off for them (`payments.demo_pilot`); the last month
  before the current one keeps the sandbox's delays (about 5 % pending, final at a status query).
- In the month before the last, the bank rejects one transfer of the demo's commune whatever its
  draw (`sandbox.Options.rejected`, AC04: the account was closed at the bank): the first by the
  payee's name and amount, so the story never hangs on the ~3 % draw (the tests' smaller demo
  has some twenty transfers that month: none drawn about half the time, and the draw takes the
  month from the remittance text, so it changes every calendar month). That transfer is switched
  to cash by the office and the switch approved by the approver with a TOTP code (the demo's
  published secret), as the office would; the other exceptions (the draw's) stay on the
  office's worklist.

Run as the demo's office officer where their role reaches (the current commune), as a system run
for the pilot's pre-2025 districts. Idempotent: a batch sent is never sent again, a second run
changes nothing."""

from __future__ import annotations

from django.db.models import Max

from ansinh.payroll.models import CycleState, FixKind, PaymentCycle

from . import batches, resolution, sandbox, sending
from .bank import SandboxBank
from .models import (
    BatchState,
    ExceptionKind,
    ExceptionState,
    Instruction,
    InstructionState,
    Resolution,
    TransferException,
)

S = CycleState
REASON_TO_CASH = "Tài khoản của người nhận bị từ chối; chi tiền mặt tại điểm chi trả tháng này (dữ liệu minh họa)."


def load_demo_transfers() -> dict:
    from ansinh.payroll.demo import APPROVER, PREPARER, _approver_codes, _next_code, _user

    if not sandbox.enabled():
        return {"skipped": "the sandbox bank is not enabled"}
    preparer, approver = _user(PREPARER), _user(APPROVER)
    cycles = list(
        PaymentCycle.objects.filter(state__in=[S.FUNDED, S.SENT_TO_PROVIDER, S.PAYING])
        .select_related("area")
        .order_by("month", "area_path", "programme__code")
    )
    if not cycles:
        return {"cycles": 0}
    latest = PaymentCycle.objects.filter(pk__in=[c.pk for c in cycles]).aggregate(m=Max("month"))["m"]
    months = sorted({c.month for c in cycles if c.area.tree == "current"})
    scripted: set[str] = set()  # the end-to-end id the bank rejects in the month before the last
    out = {"cycles": 0, "transfers": 0, "answers": 0, "switched_to_cash": 0}
    for cycle in cycles:
        actor = preparer if preparer is not None and batches.may_operate(preparer, cycle) else None
        built = batches.build_batches(actor=actor, cycle=cycle)
        out["transfers"] += built.created
        # the 2023 pilot months replay the published report: no random failures or delays there
        replay = cycle.area.tree == "legacy"
        if not scripted and len(months) >= 2 and cycle.month == months[-2] and not replay:
            first = (
                Instruction.objects.filter(
                    batch__cycle=cycle, batch__submitted_at__isnull=True, state=InstructionState.CREATED
                )
                .order_by("creditor_name", "amount", "remittance", "end_to_end_id")
                .values_list("end_to_end_id", flat=True)
                .first()
            )
            scripted |= {first} if first else set()
        bank = SandboxBank(
            sandbox.Options(
                seed=sandbox.default_options().seed,
                delays=cycle.month == latest and not replay,
                random_failures=not replay,
                rejected=frozenset(scripted),
            )
        )
        for batch in cycle.provider_batches.filter(submitted_at__isnull=True).exclude(state=BatchState.CLOSED):
            result = sending.submit_batch(actor=actor, batch=batch, bank=bank)
            out["answers"] += int(result.job is not None)
        out["cycles"] += 1
    # the payees' notices (a task queues them after each import; the loader does not wait for it)
    from .notices import notify_pending

    out |= {"notices": sum(notify_pending().values())}
    # the rejected transfer of the month before the last, switched to cash as the office would
    done = TransferException.objects.filter(
        kind=ExceptionKind.REJECTED, resolution=Resolution.TO_CASH, batch__cycle__month__in=months[-2:-1]
    ).exists()  # a second run switches nobody else
    if len(months) >= 2 and preparer is not None and approver is not None and not done:
        rejected = TransferException.objects.filter(
            kind=ExceptionKind.REJECTED, state=ExceptionState.OPEN, batch__cycle__month=months[-2]
        )
        target = rejected.filter(instruction__end_to_end_id__in=scripted).first() or rejected.order_by("pk").first()
        if target is not None and batches.may_operate(preparer, target.batch.cycle):
            fix = resolution.ask_fix(actor=preparer, exception=target, kind=FixKind.TO_CASH, reason=REASON_TO_CASH)
            with _approver_codes(approver) as device:
                if device is not None:
                    from django_otp.plugins.otp_totp.models import TOTPDevice

                    from ansinh.payroll import fixes

                    device = TOTPDevice.objects.get(pk=device.pk)
                    fixes.approve_fix(actor=approver, fix=fix, token=_next_code(device))
                    out["switched_to_cash"] += 1
    return out
