"""What of a person's personal data a user may see or take away, defined once (Decree 13/2023
on personal data protection): contact data (phone numbers) in full only where the user holds
`registry.view_contact`, masked elsewhere; the list as a file only where the user holds
`registry.export`. The CCCD rule is its sibling `registry.queries.cccd_visible`."""

from __future__ import annotations

from collections.abc import Callable

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.core.text import phone_display


def _visible_where(user, cap: str) -> Callable[[str], bool]:
    """Whether `cap` holds at an area path (one lookup of the user's roles for a whole list)."""
    if access.area_q(user, cap) is None:  # holds everywhere
        return lambda path: True
    paths = access.paths_with(user, cap)
    return lambda path: any(path.startswith(p) for p in paths)


def contact_visible(user) -> Callable[[str], bool]:
    """Whether phone numbers may be shown in full for an area path; elsewhere `mask_phone`."""
    return _visible_where(user, Cap.REGISTRY_VIEW_CONTACT)


def mask_phone(phone: str) -> str:
    """A phone number as people write it, with only its first two and last three digits:
    +84912345678 -> '09xx xxx 678'. Enough to recognise a number one already knows, not to
    call it."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone_display(phone) if ch.isdigit())
    if len(digits) <= 5:
        return "x" * len(digits)
    masked = digits[:2] + "x" * (len(digits) - 5) + digits[-3:]
    return f"{masked[:4]} {masked[4:7]} {masked[7:]}".strip()


def exportable(user, results):
    """`results` (a scoped queryset or registry.queries.RankedResults) limited to the areas
    where the user may export the list: a user who may only read an area's list (a village
    head, the commune police) takes none of it away as a file."""
    q = access.area_q(user, Cap.REGISTRY_EXPORT, path_field="area_path")
    return results if q is None else results.filter(q)
