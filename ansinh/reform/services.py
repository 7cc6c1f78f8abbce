"""The 2025 reform transition: moving a pre-2025 province's work to the tree in force from
2025-07-01, as of that day.

`apply_transition` re-parents the villages of each pre-2025 commune to its successor (for a
commune split between successors: the one an officer assigned, else the one that received the
seat, and the village is listed for assignment), moves beneficiaries (keeping the old commune
in `legacy_commune`) and representatives to the successor communes, ends role assignments and
responsibilities on the abolished districts and communes, and carries commune assignments to
the successor commune (never upwards: a district officer does not become a province user).
Set-based, in one transaction, audited with one summary event, re-runnable: a second run finds
nothing left to move and reports what is still unplaced. Decisions, import jobs and audit events
about the old communes stay where they were (history stays in the pre-2025 tree).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ansinh.accounts.models import Responsibility, RoleAssignment
from ansinh.accounts.services import assign_role
from ansinh.areas.copies import repath_copies
from ansinh.areas.models import (
    CURRENT_START,
    LEGACY_END,
    Area,
    AreaSuccession,
    Level,
    ReformRun,
    Tree,
    VillageAssignment,
)
from ansinh.areas.services import _store_paths
from ansinh.audit.services import record
from ansinh.core.text import search_key
from ansinh.registry.models import Beneficiary, Representative

ACTION = "reform.transition.applied"


@dataclass
class TransitionReport:
    villages_moved: int = 0
    beneficiaries_moved: int = 0
    representatives_moved: int = 0
    assignments_ended: int = 0
    assignments_carried: int = 0
    responsibilities_ended: int = 0
    villages_renamed: list[str] = field(default_factory=list)
    # what could not be placed: communes without a successor, villages awaiting an officer
    communes_without_successor: list[str] = field(default_factory=list)
    villages_to_assign: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (
                self.villages_moved,
                self.beneficiaries_moved,
                self.representatives_moved,
                self.assignments_ended,
                self.assignments_carried,
                self.responsibilities_ended,
            )
        )

    def as_dict(self) -> dict:
        return asdict(self)


def _seat_of(links: list[AreaSuccession]) -> Area:
    seats = [s.successor for s in links if s.seat]
    return (seats or [links[0].successor])[0]


def _move_village(village: Area, target: Area, old_commune: Area, report: TransitionReport) -> tuple[str, Area]:
    """Re-parent one village under `target` (current tree, open validity); a name already used
    there gets the old commune's name in brackets. Returns the village's old path."""
    old_path = village.path
    siblings = Area.objects.filter(parent=target, level=Level.VILLAGE).exclude(pk=village.pk)
    taken = set(siblings.values_list("name_key", flat=True))
    name = village.name
    if search_key(name) in taken:
        name = f"{name} ({old_commune.name})"
        report.villages_renamed.append(f"{village.full_name} → {village.division_type} {name}".replace("  ", " "))
    Area.objects.filter(pk=village.pk).update(
        parent=target, tree=Tree.CURRENT, valid_to=None, name=name, name_key=search_key(name)
    )
    village.parent_id, village.name = target.pk, name
    return old_path, village


@transaction.atomic
def apply_transition(*, actor, province: Area) -> TransitionReport:
    """Move the work of the pre-2025 `province` to its successors as of 2025-07-01."""
    if province.tree != Tree.LEGACY or province.level != Level.PROVINCE:
        raise ValidationError(_("Choose a province of the pre-2025 tree."), code="not_legacy_province")
    report = TransitionReport()
    communes = list(Area.objects.filter(tree=Tree.LEGACY, level=Level.COMMUNE, path__startswith=province.path))
    links: dict[int, list[AreaSuccession]] = defaultdict(list)
    for s in (
        AreaSuccession.objects.filter(legacy__in=communes)
        .select_related("successor")
        .order_by("-seat", "successor__code")
    ):
        links[s.legacy_id].append(s)
    chosen = {
        a.village_id: a.successor
        for a in VillageAssignment.objects.filter(legacy_commune__in=communes, successor__isnull=False).select_related(
            "successor"
        )
    }

    village_moves: dict[str, str] = {}
    moved_villages: list[Area] = []
    for commune in communes:
        successors = links.get(commune.pk)
        villages = list(Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key"))
        people = Beneficiary.objects.filter(commune=commune)
        if not successors:
            if villages or people.exists():
                report.communes_without_successor.append(f"{commune.code} {commune.full_name}")
            continue
        seat = _seat_of(successors)
        split = len(successors) > 1
        target_of: dict[int, Area] = {}
        for village in villages:
            target = chosen.get(village.pk) or seat
            if split and village.pk not in chosen:
                VillageAssignment.objects.get_or_create(village=village, defaults={"legacy_commune": commune})
            old_path, village = _move_village(village, target, commune, report)
            moved_villages.append(village)
            village_moves[old_path] = old_path  # filled in once the new paths are stored
            target_of[village.pk] = target
        # beneficiaries with a village follow it; those without go to the seat
        by_target: dict[int, list[int]] = defaultdict(list)
        for village_id, target in target_of.items():
            by_target[target.pk].append(village_id)
        for target_id, village_ids in by_target.items():
            report.beneficiaries_moved += people.filter(village_id__in=village_ids).update(
                commune_id=target_id, legacy_commune=commune
            )
        report.beneficiaries_moved += people.filter(village__isnull=True).update(
            commune=seat, legacy_commune=commune, area_path=seat.path
        )
        report.representatives_moved += Representative.objects.filter(commune=commune).update(
            commune=seat, area_path=seat.path
        )
        report.assignments_carried += _carry_assignments(actor, commune, seat)

    if moved_villages:
        _store_paths(moved_villages)
        new_paths = dict(Area.objects.filter(pk__in=[v.pk for v in moved_villages]).values_list("pk", "path"))
        village_moves = {old: new_paths[int(old.strip("/").split("/")[-1])] for old in village_moves}
        repath_copies(village_moves)
        report.villages_moved = len(moved_villages)

    # what is left on abolished units ends the day before the reform
    open_end = Q(valid_to__isnull=True) | Q(valid_to__gt=LEGACY_END)
    legacy_units = Area.objects.filter(tree=Tree.LEGACY, path__startswith=province.path).exclude(level=Level.VILLAGE)
    report.assignments_ended += RoleAssignment.objects.filter(
        open_end, area__in=legacy_units, revoked_at__isnull=True
    ).update(valid_to=LEGACY_END)
    report.responsibilities_ended = Responsibility.objects.filter(open_end, area__in=legacy_units).update(
        valid_to=LEGACY_END
    )

    report.villages_to_assign = [
        f"{a.village.full_name} ({a.legacy_commune.full_name})"
        for a in VillageAssignment.objects.filter(
            legacy_commune__path__startswith=province.path, successor__isnull=True
        ).select_related("village", "legacy_commune")
    ]
    if report.changed:
        ReformRun.objects.create(province=province, actor=actor, report=report.as_dict())
        record(actor=actor, action=ACTION, area=province, after=report.as_dict())
    return report


def _carry_assignments(actor, commune: Area, successor: Area) -> int:
    """Open assignments on `commune` end on 2025-06-30; the same user holds the same role on the
    successor commune from 2025-07-01 (a commune role stays a commune role)."""
    open_end = Q(valid_to__isnull=True) | Q(valid_to__gt=LEGACY_END)
    carried = 0
    for a in RoleAssignment.objects.filter(open_end, area=commune, revoked_at__isnull=True).select_related("user"):
        exists = RoleAssignment.objects.filter(user_id=a.user_id, role=a.role, area=successor, revoked_at__isnull=True)
        if not exists.exists():
            assign_role(actor=actor, user=a.user, role=a.role, area=successor, valid_from=CURRENT_START)
            carried += 1
    return carried


def transition_applied(province: Area) -> bool:
    return ReformRun.objects.filter(province=province).exists()


# --- villages of split communes ------------------------------------------------------------------


def successors_for(assignment: VillageAssignment) -> list[Area]:
    return [
        s.successor
        for s in AreaSuccession.objects.filter(legacy=assignment.legacy_commune)
        .select_related("successor")
        .order_by("-seat", "successor__name_key")
    ]


@transaction.atomic
def assign_village(*, actor, assignment: VillageAssignment, successor: Area) -> VillageAssignment:
    """An officer's choice of successor for a village of a split commune: the village moves
    there with the beneficiaries who live in it (their path copies follow, set-based)."""
    assignment = (
        VillageAssignment.objects.select_for_update().select_related("village", "legacy_commune").get(pk=assignment.pk)
    )
    if successor.pk not in {s.pk for s in successors_for(assignment)}:
        raise ValidationError(
            {"successor": _("Choose one of the communes the old commune was divided between.")}, code="successor"
        )
    village = assignment.village
    before = {"commune": village.parent_id}
    report = TransitionReport()
    if village.parent_id != successor.pk:
        old_path, village = _move_village(village, successor, assignment.legacy_commune, report)
        _store_paths([village])
        village.refresh_from_db()
        repath_copies({old_path: village.path})
        Beneficiary.objects.filter(village=village).update(commune=successor)
    assignment.successor, assignment.assigned_by, assignment.assigned_at = successor, actor, timezone.now()
    assignment.save(update_fields=["successor", "assigned_by", "assigned_at"])
    record(
        actor=actor,
        action="reform.village.assigned",
        obj=assignment,
        area=village,
        before=before,
        after={"commune": successor.pk, "renamed": report.villages_renamed},
    )
    return assignment
