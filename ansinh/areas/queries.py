"""Reads of the area tree."""

from datetime import date

from django.db.models import Case, IntegerField, Q, Value, When

from .models import Area, Level


def find_by_code(code: str, *, level: str | None = None, on: date | None = None) -> Area | None:
    """The area with this official code; when both trees hold the code, the one valid on `on`
    (default today) wins, then the current tree."""
    qs = Area.objects.filter(code=code)
    if level:
        qs = qs.filter(level=level)
    day = on or date.today()
    valid = Q(valid_from__isnull=True) | Q(valid_from__lte=day)
    valid &= Q(valid_to__isnull=True) | Q(valid_to__gte=day)
    return (
        qs.annotate(
            rank=Case(When(valid, then=Value(0)), default=Value(1), output_field=IntegerField()),
        )
        .order_by("rank", "-valid_from")
        .first()
    )


def villages_of(commune: Area):
    return Area.objects.filter(parent=commune, level=Level.VILLAGE).order_by("name_key")


def in_tree_order(areas) -> list[Area]:
    """`areas` (a bounded set) as a printed list shows them: each area followed by the areas
    under it, brothers in name order; the areas whose parent is not in the set first."""
    areas = list(areas)
    ids = {a.pk for a in areas}
    children: dict[int | None, list[Area]] = {}
    for a in areas:
        children.setdefault(a.parent_id if a.parent_id in ids else None, []).append(a)
    ordered: list[Area] = []
    stack = sorted(children.get(None, []), key=lambda a: a.name_key, reverse=True)
    while stack:
        area = stack.pop()
        ordered.append(area)
        stack.extend(sorted(children.get(area.pk, []), key=lambda a: a.name_key, reverse=True))
    return ordered
