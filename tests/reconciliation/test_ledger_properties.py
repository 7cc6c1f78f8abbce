# ruff: noqa: F811  (pytest fixtures imported from the other apps' conftest modules)
"""The ledger's invariant under random sequences of events (Hypothesis, stateful): the advance,
credits, rejections, resends, switches to cash, cash paid, cash not paid and returned at
closing, recoveries from payees, the fee, the acceptance (closing the ledger) and late credits
after it (posted to the next cycle as adjustments). After every step, for the cycle:

    advance = credited + cash paid + returned + fees + outstanding

with the outstanding computed from the lines, each ledger figure equal to the lines' (the
service check passes), and the ledger only grows (no entry changed or removed).

The events write the operational rows as the services do (instructions, payouts, cash entries)
and post through the same ledger hooks the services call."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from ansinh.cashout.models import CashEntry, CashEntryLine, CashList, CashListKind, EntrySource, EntryState
from ansinh.disbursement import batches
from ansinh.disbursement.models import Instruction, InstructionState, Payout, PayoutChannel
from ansinh.payroll.models import Advance, LineType, PaymentCycle, PayrollLine, Receivable
from ansinh.reconciliation import ledger
from ansinh.reconciliation.models import LedgerEntry
from tests.cashout.conftest import cash_cycle, cash_lists, cash_places  # noqa: F401
from tests.disbursement.conftest import _no_throttle_wait, approved, contract, funded, people  # noqa: F401
from tests.payroll.conftest import approver_a, preparer_a, provider_a, world  # noqa: F401

I = InstructionState  # noqa: E741
LIVE = (I.CREATED, I.SENT, I.ACCEPTED)


def _group(line: PayrollLine) -> list[PayrollLine]:
    """The lines one transfer or one cash entry pays: the beneficiary's non-funeral lines."""
    return list(
        PayrollLine.objects.filter(cycle_id=line.cycle_id, beneficiary_id=line.beneficiary_id).exclude(
            line_type=LineType.FUNERAL
        )
    )


@pytest.mark.django_db
def test_the_ledger_balances_after_any_sequence_of_events(funded, cash_lists, preparer_a):  # noqa: F811
    batches.build_batches(actor=preparer_a, cycle=funded)
    april = PaymentCycle.objects.create(
        approving_unit=funded.approving_unit,
        programme=funded.programme,
        month=date(2026, 4, 1),
        area=funded.area,
        area_path=funded.area_path,
    )
    point_list = CashList.objects.get(cycle=funded, kind=CashListKind.PAY_POINT)
    cycle = funded

    class Ledger(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = transaction.savepoint()
            self.entries = LedgerEntry.objects.count()
            self.seen = set(LedgerEntry.objects.values_list("pk", "amount", "source"))
            self.n = 0

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        # --- helpers
        def _key(self) -> str:
            self.n += 1
            return f"{uuid.uuid4().hex[:10]}-{self.n}"

        def _unpaid_account_lines(self):
            return list(
                PayrollLine.objects.filter(cycle=cycle, channel="account", payout__isnull=True)
                .exclude(line_type=LineType.FUNERAL)
                .order_by("pk")
            )

        # --- events
        @rule(amount=st.integers(1, 5_000_000))
        def advance(self, amount):
            a = Advance.objects.create(
                cycle=cycle, amount=amount, received_on=date(2026, 3, 5), reference=self._key(), recorded_by=preparer_a
            )
            ledger.on_advance(actor=preparer_a, advance=a)

        def _live(self):
            return list(Instruction.objects.filter(batch__cycle=cycle, state__in=LIVE, line__payout__isnull=True))

        @precondition(lambda self: bool(self._live()))
        @rule(data=st.data())
        def credit(self, data):
            """A credit (also a late credit after the acceptance: it goes to April's ledger)."""
            instruction = data.draw(st.sampled_from(self._live()))
            now = timezone.now()
            Instruction.objects.filter(pk=instruction.pk).update(state=I.CREDITED, status_at=now)
            lines = _group(instruction.line)
            Payout.objects.bulk_create(
                Payout.complete(
                    [
                        Payout(
                            line=ln,
                            channel=PayoutChannel.ACCOUNT,
                            instruction=instruction,
                            amount=ln.amount,
                            paid_at=now,
                            area_path=ln.area_path,
                        )
                        for ln in lines
                    ]
                )
            )
            ledger.on_payouts(actor=None, line_ids=[ln.pk for ln in lines])

        @precondition(lambda self: bool(self._live()))
        @rule(data=st.data())
        def reject(self, data):
            instruction = data.draw(st.sampled_from(self._live()))
            Instruction.objects.filter(pk=instruction.pk).update(state=I.REJECTED, status_at=timezone.now())
            ledger.on_instructions_failed(actor=None, instruction_ids=[instruction.pk])

        def _resendable(self):
            return [
                ln
                for ln in self._unpaid_account_lines()
                if not Instruction.objects.filter(line=ln, state__in=(*LIVE, I.CREDITED)).exists()
                and Instruction.objects.filter(line=ln).exists()
                and not CashEntryLine.objects.filter(line=ln).exclude(entry__state=EntryState.CANCELLED).exists()
            ]

        @precondition(lambda self: bool(self._resendable()))
        @rule(data=st.data())
        def resend(self, data):
            line = data.draw(st.sampled_from(self._resendable()))
            last = Instruction.objects.filter(line=line).order_by("-pk").first()
            Instruction.objects.create(
                batch=last.batch,
                line=line,
                end_to_end_id=f"R-{self._key()}"[:35],
                amount=last.amount,
                creditor_name=last.creditor_name,
                account=last.account,
                institution_code=last.institution_code,
                institution_bin=last.institution_bin,
                account_last4=last.account_last4,
                remittance=last.remittance,
                state=I.SENT,
                resend_of=last,
                commune=last.commune,
                area_path=last.area_path,
            )

        @precondition(lambda self: bool(self._resendable()))
        @rule(data=st.data())
        def switch_to_cash(self, data):
            line = data.draw(st.sampled_from(self._resendable()))
            lines = _group(line)
            entry = CashEntry.objects.create(
                cash_list=point_list,
                cycle=cycle,
                beneficiary=line.beneficiary,
                payee_name=line.payee_name,
                amount=sum(ln.amount for ln in lines),
                source=EntrySource.SWITCHED,
                commune=line.commune,
                area_path=line.area_path,
                position=100 + self.n,
            )
            self.n += 1
            CashEntryLine.objects.bulk_create([CashEntryLine(entry=entry, line=ln) for ln in lines])

        def _pending(self):
            return list(CashEntry.objects.filter(cycle=cycle, state__in=(EntryState.PENDING, EntryState.NOT_PAID)))

        @precondition(lambda self: bool(self._pending()))
        @rule(data=st.data())
        def cash_paid(self, data):
            entry = data.draw(st.sampled_from(self._pending()))
            lines = list(PayrollLine.objects.filter(cash_entry_lines__entry=entry, payout__isnull=True))
            now = timezone.now()
            Payout.objects.bulk_create(
                Payout.complete(
                    [
                        Payout(
                            line=ln, channel=PayoutChannel.CASH, amount=ln.amount, paid_at=now, area_path=ln.area_path
                        )
                        for ln in lines
                    ]
                )
            )
            CashEntry.objects.filter(pk=entry.pk).update(state=EntryState.PAID)
            ledger.on_payouts(actor=None, line_ids=[ln.pk for ln in lines])

        @precondition(lambda self: bool(self._pending()))
        @rule(data=st.data())
        def not_paid_and_returned(self, data):
            entry = data.draw(st.sampled_from(self._pending()))
            CashEntry.objects.filter(pk=entry.pk).update(state=EntryState.RETURNED)
            ledger.on_cash_returned(actor=None, cycle_id=cycle.pk, entry_ids=[entry.pk])

        @rule(amount=st.integers(1, 500_000))
        def recovery(self, amount):
            line = PayrollLine.objects.filter(cycle=cycle).first()
            r = Receivable.objects.create(
                beneficiary=line.beneficiary,
                programme=cycle.programme,
                debtor_name="X",
                reason="manual",
                amount=amount,
                recovered=amount,
                detected_in=cycle,
                area_path=line.area_path,
            )
            ledger.on_payee_recovery(actor=None, receivable=r, amount=amount, on=date(2026, 3, 20), event_id=r.pk)

        @rule(amount=st.integers(1, 100_000))
        def fee(self, amount):
            ledger.post_fee(actor=None, cycle=cycle, amount=amount, source=f"fee:{self._key()}")

        @rule()
        def accept(self):
            ledger.close_ledger(actor=None, cycle=cycle)

        # --- what must hold after every step
        @invariant()
        def balanced(self):
            b = ledger.balance(cycle)
            assert b.differences == {}
            assert b.advance == b.credited + b.cash_paid + b.returned + b.fees + b.outstanding
            assert b.outstanding == b.open_lines + b.unallocated
            ledger.check([cycle.pk, april.pk])
            # April holds only adjustments of March (its own money did not move)
            assert ledger.balance(april).entries == 0

        @invariant()
        def only_grows(self):
            now = set(LedgerEntry.objects.values_list("pk", "amount", "source"))
            assert self.seen <= now
            self.seen = now

    run_state_machine_as_test(
        Ledger,
        settings=settings(
            max_examples=30,
            stateful_step_count=12,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
