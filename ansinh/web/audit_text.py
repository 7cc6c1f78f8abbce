"""The audit log as sentences a commune officer reads: who did what to whom, in Vietnamese, with
names instead of ids and codes, dates as dd/mm/yyyy, phones as 0912 345 678, yes/no as Có/Không
and choice values by their labels.

`render(events, user)` turns a page of events into `Entry` rows with a few batched look-ups
(areas, categories, people, import jobs, roles of the actors: one query each, only when the page
needs them), whatever the page's size. One renderer per action family (`RENDERERS`, by action
name or by its family prefix); an action without one still reads as a Vietnamese sentence
(`_fallback`). Privacy holds here too: HIV-related categories are `***` unless the reader may see
them where the event happened, phones are masked where the reader may not see them in full, and
CCCDs stay as the log stored them (masked)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils import formats
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from ansinh.accounts.roles import Role
from ansinh.audit.models import AuditEvent
from ansinh.core.text import phone_display

from . import labels

# --- what the page needs ------------------------------------------------------------------------


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class Entry:
    event: AuditEvent
    title: str  # the action's short name (the filter's label)
    text: str  # the sentence
    changes: list[Change] = field(default_factory=list)  # when several fields changed
    note: str = ""
    outcome: str = ""  # an import's status today


EMPTY = "—"

# Short names of the roles in a sentence: "Nguyễn Văn A (cán bộ xã) đã …".
ROLE_SHORT = {
    Role.COMMUNE_OFFICER: pgettext_lazy("audit actor", "commune officer"),
    Role.VILLAGE_HEAD: pgettext_lazy("audit actor", "village head"),
    Role.COMMUNE_POLICE: pgettext_lazy("audit actor", "commune police"),
    Role.OFFICE_OFFICER: pgettext_lazy("audit actor", "office officer"),
    Role.APPROVER: pgettext_lazy("audit actor", "approver"),
    Role.PROVIDER_STAFF: pgettext_lazy("audit actor", "payment provider staff"),
    Role.TREASURY_VIEWER: pgettext_lazy("audit actor", "treasury or finance"),
    Role.PROVINCE_MONITOR: pgettext_lazy("audit actor", "province officer"),
    Role.SYSADMIN: pgettext_lazy("audit actor", "system administrator"),
}
_ROLE_ORDER = list(ROLE_SHORT)

# Keys of before/after that are not model fields, and model fields whose verbose name does not
# read well in a sentence.
FIELD_LABELS = {
    "categories": gettext_lazy("categories of allowance"),
    "payee": gettext_lazy("person who receives the money"),
    "representative": pgettext_lazy("audit", "representative"),
    "login_enabled": gettext_lazy("login with a password"),
    "user": pgettext_lazy("audit", "user"),
    "groups": pgettext_lazy("audit", "groups"),
    "user_permissions": pgettext_lazy("audit", "permissions"),
    "permissions": pgettext_lazy("audit", "permissions"),
    "file": pgettext_lazy("audit", "file"),
    "retention_days": gettext_lazy("days kept"),
    "rows": pgettext_lazy("audit", "rows"),
    "status": gettext_lazy("status"),
    "message": pgettext_lazy("audit", "message"),
    "is_payee": gettext_lazy("receives the money"),
    "is_active": pgettext_lazy("audit", "active"),
    "is_staff": gettext_lazy("may open the administration"),
    "is_superuser": gettext_lazy("national administrator"),
    "username": pgettext_lazy("audit", "user name"),
    "email": pgettext_lazy("audit", "email"),
    "expires_at": pgettext_lazy("audit", "valid until"),
    "name": pgettext_lazy("audit", "name"),
    "org_unit": pgettext_lazy("audit", "organisation unit"),
    "area": pgettext_lazy("audit", "area"),
    "role": pgettext_lazy("audit", "role"),
    "valid_from": pgettext_lazy("audit", "valid from"),
    "valid_to": pgettext_lazy("audit", "valid until"),
}
# Keys never shown: fingerprints and internal bookkeeping.
HIDDEN_KEYS = frozenset({"sha256", "name_key", "area_path", "has_issues", "progress", "source", "seed"})
AREA_KEYS = frozenset({"commune", "village", "area", "parent", "province", "from_commune", "to_commune"})
MONTH_KEYS = frozenset({"start_month", "end_month", "from_month", "to_month", "effective_month"})
PHONE_KEYS = frozenset({"phone"})
MONEY_KEYS = frozenset({"amount", "supplement"})

# Notes written by programs (not by officers), as a person reads them.
MACHINE_NOTES = {
    "deleted": gettext_lazy("Deleted."),
    "retention": gettext_lazy("The retention period of uploaded files ended."),
    "synthetic data": gettext_lazy("Demo data, no real person."),
    "synthetic demo data: no real person": gettext_lazy("Demo data, no real person."),
    "synthetic benchmark data: no real person": gettext_lazy("Test data, no real person."),
    "migration accounts 0002": gettext_lazy("Set when the system was updated."),
}
_CLI_IMPORT = re.compile(r"^CLI import (?P<file>.+)$")
_DECISION_NOTE = re.compile(r"^(?P<number>.*\S) \((?P<month>\d{2}/\d{4})\)$")
_CATEGORY = re.compile(r"^(?P<code>[^:]+):(?P<condition>.*):(?P<units>\d+)$")


# --- batched look-ups ---------------------------------------------------------------------------


class Lookups:
    """Everything a page of events refers to by id or code, read once for the page."""

    def __init__(self, events: list[AuditEvent], user):
        from ansinh.registry.privacy import contact_visible
        from ansinh.registry.queries import sensitive_visible

        self.user = user
        self.sensitive_visible = sensitive_visible(user)
        self.contact_visible = contact_visible(user)
        area_ids: set[int] = set()
        codes: set[str] = set()
        ids: dict[str, set[int]] = {}
        usernames: set[str] = set()
        for e in events:
            if e.area_id:
                area_ids.add(e.area_id)
            if e.object_id.isdigit():
                ids.setdefault(e.object_type, set()).add(int(e.object_id))
            for data in (e.before or {}, e.after or {}):
                if not isinstance(data, dict):
                    continue
                for key in AREA_KEYS:
                    if isinstance(data.get(key), int):
                        area_ids.add(data[key])
                for c in data.get("categories") or []:
                    m = _CATEGORY.match(str(c))
                    if m:
                        codes.add(m["code"])
                for key, kind in (("category", "policy.category"), ("programme", "policy.programme")):
                    if isinstance(data.get(key), int):
                        ids.setdefault(kind, set()).add(data[key])
                if isinstance(data.get("org_unit"), int):
                    ids.setdefault("accounts.orgunit", set()).add(data["org_unit"])
                if e.action.startswith("accounts.") and isinstance(data.get("user"), str):
                    usernames.add(data["user"])
                for move in data.get("moves") or []:
                    if isinstance(move, dict) and isinstance(move.get("area"), int):
                        area_ids.add(move["area"])
        self.areas = self._areas(area_ids)
        self.categories = self._categories(codes, ids.get("policy.category", set()))
        self.programmes = self._by_id("policy", "Programme", ids.get("policy.programme", set()))
        self.org_units = self._by_id("accounts", "OrgUnit", ids.get("accounts.orgunit", set()))
        self.beneficiaries = self._by_id("registry", "Beneficiary", ids.get("registry.beneficiary", set()))
        self.links = self._links(ids.get("registry.representation", set()))
        self.jobs = self._by_id("registry", "ImportJob", ids.get("registry.importjob", set()))
        self.roles = self._roles({e.actor_id for e in events if e.actor_id})
        self.user_names = self._user_names(usernames)

    @staticmethod
    def _areas(area_ids: set[int]) -> dict:
        if not area_ids:
            return {}
        from ansinh.areas.models import Area

        areas = {a.pk: a for a in Area.objects.filter(pk__in=area_ids).select_related("parent")}
        return areas

    @staticmethod
    def _by_id(app: str, model: str, pks: set[int]) -> dict:
        if not pks:
            return {}
        from django.apps import apps

        return apps.get_model(app, model).objects.in_bulk(list(pks))

    @staticmethod
    def _categories(codes: set[str], pks: set[int]) -> dict:
        """Categories by code and by id (one query)."""
        codes = codes - {"***"}
        if not codes and not pks:
            return {}
        from django.db.models import Q

        from ansinh.policy.models import Category

        found = {}
        for c in Category.objects.filter(Q(code__in=codes) | Q(pk__in=pks)):
            found[c.code] = found[c.pk] = c
        return found

    @staticmethod
    def _links(pks: set[int]) -> dict:
        if not pks:
            return {}
        from ansinh.registry.models import Representation

        return Representation.objects.select_related("beneficiary", "representative").in_bulk(list(pks))

    @staticmethod
    def _roles(actor_ids: set[int]) -> dict[int, str]:
        if not actor_ids:
            return {}
        from ansinh.accounts.models import RoleAssignment

        roles: dict[int, str] = {}
        rows = RoleAssignment.objects.filter(user_id__in=actor_ids).values_list("user_id", "role", "revoked_at")
        # an active role first, then the highest in ROLE_SHORT's order
        for user_id, role, _revoked in sorted(
            rows, key=lambda r: (r[2] is not None, _ROLE_ORDER.index(r[1]) if r[1] in _ROLE_ORDER else 99)
        ):
            roles.setdefault(user_id, role)
        return roles

    @staticmethod
    def _user_names(usernames: set[str]) -> dict[str, str]:
        if not usernames:
            return {}
        from ansinh.accounts.models import User

        return {u: n or u for u, n in User.objects.filter(username__in=usernames).values_list("username", "full_name")}

    # names ---------------------------------------------------------------------------------------

    def area_name(self, pk) -> str:
        area = self.areas.get(pk) if isinstance(pk, int) else None
        if area is None:
            return _("an area no longer in the register") if pk else EMPTY
        return area.full_name

    def area_with_parent(self, pk) -> str:
        area = self.areas.get(pk) if isinstance(pk, int) else None
        if area is None:
            return self.area_name(pk)
        if area.parent is not None and area.level in ("village", "commune"):
            return _("%(area)s, %(parent)s") % {"area": area.full_name, "parent": area.parent.full_name}
        return area.full_name

    def category_name(self, key, event: AuditEvent) -> str:
        category = self.categories.get(key)
        if key == "***" or (
            category is not None and category.sensitive and not self.sensitive_visible(event.area_path)
        ):
            return "***"
        if category is None:
            return _("a category no longer in the policy") if key else EMPTY
        return category.name

    def categories_text(self, values, event: AuditEvent) -> str:
        from ansinh.web.forms_registry import condition_label

        parts = []
        for raw in values or []:
            m = _CATEGORY.match(str(raw))
            if not m:
                parts.append(_("a category no longer in the policy"))
                continue
            name = self.category_name(m["code"], event)
            extra = []
            if m["condition"] and name != "***":
                extra.append(condition_label(m["condition"]))
            if int(m["units"]) > 1:
                extra.append(_("%(n)s units") % {"n": m["units"]})
            parts.append(f"{name} ({', '.join(extra)})" if extra else name)
        return "; ".join(parts) if parts else _("none")

    def actor(self, event: AuditEvent) -> str:
        if event.actor_id is None:
            label = event.actor_label
            if not label or label == "system":
                return _("The system")
            return label  # a user since deleted: the name the log kept
        user = event.actor
        name = (user.get_full_name() or user.username) if user is not None else event.actor_label
        role = self.roles.get(event.actor_id)
        if role in ROLE_SHORT:
            name = f"{name} ({ROLE_SHORT[role]})"
        elif user is not None and user.is_superuser:
            name = f"{name} ({ROLE_SHORT[Role.SYSADMIN]})"
        if event.api_token_id:
            name = _("%(name)s, through the API") % {"name": name}
        return name

    def person(self, event: AuditEvent, data: dict | None = None) -> str:
        """The beneficiary of an event: 'bà Trần Thị B (sinh 1950)'."""
        b = self.beneficiaries.get(int(event.object_id)) if event.object_id.isdigit() else None
        if b is not None:
            return person_phrase(b.full_name, b.gender, b.birth_date, event.at)
        name, year = _split_repr(event.object_repr)
        data = data or {}
        return person_phrase(name or _("a beneficiary"), data.get("gender", ""), year, event.at)

    # values --------------------------------------------------------------------------------------

    def value(self, key: str, value: Any, event: AuditEvent) -> str:
        """A before/after value as a person reads it."""
        if value is None or value == "" or value == []:
            return EMPTY
        if key in AREA_KEYS and isinstance(value, int):
            return self.area_with_parent(value)
        if key == "area" and isinstance(value, str) and event.area_id:
            return self.area_name(event.area_id)  # role assignments keep the area's code
        if key == "categories" and isinstance(value, list):
            return self.categories_text(value, event)
        if key == "category" and isinstance(value, int):
            return self.category_name(value, event)
        if key == "programme" and isinstance(value, int):
            p = self.programmes.get(value)
            return p.name if p is not None else EMPTY
        if key == "org_unit" and isinstance(value, int):
            unit = self.org_units.get(value)
            return unit.name if unit is not None else EMPTY
        if key == "user" and isinstance(value, str):
            return self.user_names.get(value, value)
        if key in PHONE_KEYS and isinstance(value, str):
            if self.contact_visible(event.area_path):
                return phone_display(value)
            from ansinh.registry.privacy import mask_phone

            return mask_phone(value)
        if key in MONEY_KEYS and isinstance(value, int):
            return _("%(amount)s đồng") % {"amount": number(value)}
        if key in MONTH_KEYS and isinstance(value, str):
            return month_text(value)
        choice = choice_label(key, value, event.object_type)
        if choice is not None:
            return choice
        return plain(value)

    def changes(self, event: AuditEvent, skip: Iterable[str] = ()) -> list[Change]:
        skipped = HIDDEN_KEYS | set(skip)
        out = []
        for key, before, after in event.changed_fields():
            if key in skipped:
                continue
            out.append(
                Change(
                    capfirst(field_name(event.object_type, key)),
                    self.value(key, before, event),
                    self.value(key, after, event),
                )
            )
        return out


# --- values -------------------------------------------------------------------------------------


def capfirst(text: str) -> str:
    return text[:1].upper() + text[1:]


def number(value: int) -> str:
    """9670 -> '9.670' (Vietnamese separators)."""
    return f"{value:,}".replace(",", ".")


def date_text(value: str) -> str:
    moment = parse_datetime(value) if "T" in value else None
    if moment is not None:
        if timezone_aware(moment):
            from django.utils import timezone

            moment = timezone.localtime(moment)
        return moment.strftime("%d/%m/%Y %H:%M")
    day = parse_date(value[:10]) if len(value) >= 10 else None
    return day.strftime("%d/%m/%Y") if day is not None else value


def timezone_aware(moment: dt.datetime) -> bool:
    return moment.tzinfo is not None


def month_text(value: str) -> str:
    day = parse_date(value[:10]) if len(value) >= 10 else None
    return day.strftime("%m/%Y") if day is not None else value


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.+\-Z]+)?$")


def plain(value: Any) -> str:
    if value is True:
        return pgettext("audit", "Yes")
    if value is False:
        return pgettext("audit", "No")
    if isinstance(value, list):
        return ", ".join(plain(v) for v in value) if value else EMPTY
    if isinstance(value, dict):
        return "; ".join(f"{plain(v)}" for v in value.values()) if value else EMPTY
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float):
        return formats.number_format(value)
    text = str(value)
    if _ISO_DATE.match(text):
        return date_text(text)
    if re.fullmatch(r"-?\d+\.\d+", text):  # a Decimal as the log stores it: 1.500 -> 1,5
        return text.rstrip("0").rstrip(".").replace(".", ",")
    return text


def _choices() -> dict[str, dict[str, Any]]:
    from ansinh.accounts.models import Function, OrgKind
    from ansinh.areas.models import Level, Tree
    from ansinh.policy.models import Basis, Confidence, Kind
    from ansinh.registry.models import Gender, ImportStatus, RepresentationKind, Status, StopReason

    return {
        "gender": dict(Gender.choices),
        "status": {**dict(ImportStatus.choices), **dict(Status.choices)},
        "from_status": dict(Status.choices),
        "to_status": dict(Status.choices),
        "stop_reason": dict(StopReason.choices),
        "reason": dict(StopReason.choices),
        "role": dict(Role.choices),
        "function": dict(Function.choices),
        "tree": dict(Tree.choices),
        "level": dict(Level.choices),
        "basis": dict(Basis.choices),
        "confidence": dict(Confidence.choices),
        "kind": {**dict(Kind.choices), **dict(OrgKind.choices), **dict(RepresentationKind.choices)},
    }


def choice_label(key: str, value: Any, object_type: str) -> str | None:
    if not isinstance(value, str):
        return None
    if key == "status" and object_type == "registry.importjob":
        from ansinh.registry.models import ImportStatus

        label = dict(ImportStatus.choices).get(value)
    else:
        label = _choices().get(key, {}).get(value)
    return str(label) if label is not None else None


def field_name(object_type: str, key: str) -> str:
    if key in FIELD_LABELS:
        return str(FIELD_LABELS[key])
    label = labels.field_label(object_type, key)
    return label if label != key else key.replace("_", " ")


def _split_repr(text: str) -> tuple[str, int | None]:
    m = re.match(r"^(?P<name>.*?) \((?P<year>\d{4})\)$", text or "")
    return (m["name"], int(m["year"])) if m else (text, None)


def person_phrase(name: str, gender: str, born: dt.date | int | None, when: dt.datetime | None) -> str:
    """'bà Trần Thị B (sinh 1950)': ông/bà for adults, the name alone for a child or when the
    gender is unknown."""
    year = born.year if isinstance(born, dt.date) else born
    adult = year is not None and when is not None and when.year - year >= 18
    if adult and gender == "female":
        phrase = _("Mrs %(name)s") % {"name": name}
    elif adult and gender == "male":
        phrase = _("Mr %(name)s") % {"name": name}
    else:
        phrase = name
    return _("%(person)s (born %(year)s)") % {"person": phrase, "year": year} if year else phrase


def note_text(note: str) -> str:
    if not note:
        return ""
    if note in MACHINE_NOTES:
        return str(MACHINE_NOTES[note])
    m = _CLI_IMPORT.match(note)
    if m:
        return _("Imported from the command line: %(file)s") % {"file": m["file"]}
    return note


# --- sentences ----------------------------------------------------------------------------------

Renderer = Callable[[AuditEvent, Lookups], Entry]


def _entry(event: AuditEvent, text: str, **kwargs) -> Entry:
    return Entry(event=event, title=labels.action_label(event.action), text=text, **kwargs)


def _change_sentence(event: AuditEvent, look: Lookups, whose: str, *, skip: Iterable[str] = ()) -> Entry:
    """'A đã sửa số điện thoại của bà B từ X thành Y', or with several fields 'A đã sửa thông tin
    của bà B:' and the list."""
    actor = look.actor(event)
    changes = look.changes(event, skip)
    if len(changes) == 1:
        c = changes[0]
        args = {"actor": actor, "field": c.label[:1].lower() + c.label[1:], "whose": whose}
        if c.before == EMPTY:
            text = _("%(actor)s added the %(field)s of %(whose)s: %(after)s.") % {**args, "after": c.after}
        elif c.after == EMPTY:
            text = _("%(actor)s removed the %(field)s of %(whose)s (was %(before)s).") % {**args, "before": c.before}
        else:
            text = _("%(actor)s changed the %(field)s of %(whose)s from %(before)s to %(after)s.") % {
                **args,
                "before": c.before,
                "after": c.after,
            }
        return _entry(event, text, note=note_text(event.note))
    text = _("%(actor)s corrected the record of %(whose)s:") % {"actor": actor, "whose": whose}
    if not changes:
        text = _("%(actor)s saved the record of %(whose)s without changes.") % {"actor": actor, "whose": whose}
    return _entry(event, text, changes=changes, note=note_text(event.note))


def _beneficiary_created(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}
    place = look.area_with_parent(after.get("village") or after.get("commune") or event.area_id)
    text = _("%(actor)s registered %(person)s in %(place)s, under %(categories)s, receiving from %(month)s.") % {
        "actor": look.actor(event),
        "person": look.person(event, after),
        "place": place,
        "categories": look.categories_text(after.get("categories"), event),
        "month": month_text(str(after.get("start_month") or "")) or EMPTY,
    }
    return _entry(event, text, note=note_text(event.note))


def _beneficiary_updated(event: AuditEvent, look: Lookups) -> Entry:
    return _change_sentence(event, look, look.person(event, event.after))


DECISIONS = {
    "registry.decision.start": gettext_lazy("the decision to start the allowance"),
    "registry.decision.adjust": gettext_lazy("the decision to adjust the allowance"),
    "registry.decision.suspend": gettext_lazy("the decision to suspend the allowance"),
    "registry.decision.resume": gettext_lazy("the decision to resume the allowance"),
    "registry.decision.stop": gettext_lazy("the decision to stop the allowance"),
    "registry.decision.move": gettext_lazy("the decision of a move to another commune"),
    "registry.decision.move_received": gettext_lazy("the decision receiving a person moved from another commune"),
}


def _decision(event: AuditEvent, look: Lookups) -> Entry:
    m = _DECISION_NOTE.match(event.note or "")
    args = {
        "actor": look.actor(event),
        "decision": DECISIONS.get(event.action, gettext_lazy("a decision")),
        "person": look.person(event, event.after),
    }
    if m:
        text = _("%(actor)s recorded %(decision)s no. %(number)s for %(person)s, effective from %(month)s.") % {
            **args,
            "number": m["number"],
            "month": m["month"],
        }
        note = ""
    else:
        text = _("%(actor)s recorded %(decision)s for %(person)s.") % args
        note = note_text(event.note)
    return _entry(event, text, changes=look.changes(event), note=note)


def _representative(event: AuditEvent, look: Lookups) -> Entry:
    data = event.after or {}
    name = event.object_repr or str(data.get("full_name") or "")
    whose = _("the representative %(name)s") % {"name": name}
    if event.action.endswith(".created"):
        text = _("%(actor)s registered %(whose)s.") % {"actor": look.actor(event), "whose": whose}
        return _entry(event, text, note=note_text(event.note))
    return _change_sentence(event, look, whose)


def _link_names(event: AuditEvent, look: Lookups) -> tuple[str, str]:
    link = look.links.get(int(event.object_id)) if event.object_id.isdigit() else None
    data = event.after or event.before or {}
    rep = str(data.get("representative") or (link.representative.full_name if link else "")) or _("a representative")
    if link is not None:
        b = link.beneficiary
        person = person_phrase(b.full_name, b.gender, b.birth_date, event.at)
    else:
        person = _("a beneficiary")
    return rep, person


def _representation(event: AuditEvent, look: Lookups) -> Entry:
    rep, person = _link_names(event, look)
    actor = look.actor(event)
    if event.action.endswith(".ended"):
        text = _("%(actor)s ended %(rep)s acting for %(person)s.") % {"actor": actor, "rep": rep, "person": person}
        return _entry(event, text, note=note_text(event.note))
    after = event.after or {}
    if not event.before:
        kind = choice_label("kind", after.get("kind"), event.object_type) or _("representative")
        text = _("%(actor)s recorded %(rep)s as %(kind)s of %(person)s.") % {
            "actor": actor,
            "rep": rep,
            "kind": kind.lower(),
            "person": person,
        }
        if after.get("is_payee"):
            text += " " + _("The money is paid to this person.")
        return _entry(event, text, note=note_text(event.note))
    return _change_sentence(
        event,
        look,
        _("%(rep)s, representative of %(person)s") % {"rep": rep, "person": person},
        skip=("representative", "cccd"),
    )


def _payee(event: AuditEvent, look: Lookups) -> Entry:
    text = _("%(actor)s changed who receives the money of %(person)s from %(before)s to %(after)s.") % {
        "actor": look.actor(event),
        "person": look.person(event),
        "before": (event.before or {}).get("payee") or EMPTY,
        "after": (event.after or {}).get("payee") or EMPTY,
    }
    return _entry(event, text, note=note_text(event.note))


def _payments(event: AuditEvent, look: Lookups) -> Entry:
    """Payment methods, payees and receiving accounts (account numbers are only ever masked)."""
    from ansinh.payments.models import Method

    before, after = event.before or {}, event.after or {}
    values = {
        "actor": look.actor(event),
        "month": month_text(str(after.get("from_month") or "")) or EMPTY,
        "holder": after.get("holder_name") or EMPTY,
    }
    if event.action == "payments.method.changed":
        method = after.get("method") or ""
        values |= {"person": look.person(event), "method": Method(method).label if method in Method.values else EMPTY}
        text = _("%(actor)s set the payment method of %(person)s from %(month)s: %(method)s.") % values
    elif event.action == "payments.payee.designated":
        values |= {"person": look.person(event), "before": before.get("payee") or EMPTY}
        values["after"] = after.get("payee") or EMPTY
        text = (
            _("%(actor)s: from %(month)s %(after)s receives the money of %(person)s (until then %(before)s).") % values
        )
    elif event.action == "payments.account.registered":
        values |= {"number": after.get("number") or EMPTY, "bank": after.get("institution") or EMPTY}
        values["score"] = after.get("name_score", EMPTY)
        text = (
            _("%(actor)s recorded the account %(bank)s %(number)s of %(holder)s (name match %(score)s/100).") % values
        )
    elif event.action == "payments.account.name_confirmed":
        text = _("%(actor)s confirmed that the account holder %(holder)s is the right person.") % values
    elif event.action == "payments.account.activated":
        text = _("%(actor)s activated a receiving account.") % values
    elif event.action.startswith("payments.account_change."):
        values |= {"number": after.get("number") or EMPTY, "bank": after.get("institution") or EMPTY}
        values["requester"] = after.get("requested_by") or EMPTY
        sentences = {
            "payments.account_change.requested": _(
                "%(actor)s asked that the account %(bank)s %(number)s of %(holder)s receive the money from "
                "%(month)s; the change awaits a second person's approval."
            ),
            "payments.account_change.approved": _(
                "%(actor)s approved, with a second-factor code, that the account %(bank)s %(number)s of %(holder)s "
                "receives the money from %(month)s (asked by %(requester)s)."
            ),
            "payments.account_change.rejected": _(
                "%(actor)s rejected the change to the account %(bank)s %(number)s of %(holder)s."
            ),
        }
        fallback = _("%(actor)s withdrew the change to the account %(bank)s %(number)s of %(holder)s.")
        text = sentences.get(event.action, fallback) % values
    elif event.action in ("payments.account.closed", "payments.account.rejected"):
        values |= {"number": after.get("number") or EMPTY, "bank": after.get("institution") or EMPTY}
        if event.action == "payments.account.closed":
            text = _("%(actor)s closed the receiving account %(bank)s %(number)s.") % values
        else:
            text = _("%(actor)s rejected the receiving account %(bank)s %(number)s.") % values
    elif event.action == "payments.institutions.loaded":
        values |= {"created": after.get("created", 0), "updated": after.get("updated", 0)}
        text = _("%(actor)s loaded the list of banks and wallets (%(created)s new, %(updated)s changed).") % values
    else:  # payments.account_keys.rotated
        values["count"] = number(int(after.get("accounts") or 0))
        text = _("%(actor)s re-encrypted %(count)s account numbers with the current key.") % values
    return _entry(event, text, note=note_text(event.note))


def _opening(event: AuditEvent, look: Lookups) -> Entry:
    """Account opening with the provider: requests, batches sent, results imported."""
    after = event.after or {}
    values = {
        "actor": look.actor(event),
        "code": after.get("code") or event.object_repr or EMPTY,
        "person": after.get("person") or EMPTY,
        "count": number(int(after.get("count") or 0)),
        "file": after.get("file") or EMPTY,
        "reason": after.get("reason") or EMPTY,
        "account": after.get("account") or EMPTY,
        "holder": after.get("holder_name") or EMPTY,
        "opened": number(int(after.get("opened") or 0)),
        "rejected": number(int(after.get("rejected") or 0)),
    }
    if event.action == "openings.request.created":
        text = _("%(actor)s requested an account for %(person)s (request %(code)s).") % values
    elif event.action == "openings.request.confirmed":
        text = _("%(actor)s confirmed the account-opening request %(code)s.") % values
    elif event.action == "openings.request.cancelled":
        text = _("%(actor)s cancelled the account-opening request %(code)s.") % values
    elif event.action == "openings.request.opened":
        text = _("The bank opened the account %(account)s of %(holder)s (request %(code)s).") % values
    elif event.action == "openings.request.rejected":
        text = _("The bank refused the request %(code)s: %(reason)s.") % values
    elif event.action == "openings.batch.exported":
        text = _("%(actor)s made the file %(file)s of %(count)s account-opening requests for the bank.") % values
    elif event.action == "openings.batch.downloaded":
        text = _("%(actor)s downloaded the file %(file)s for the bank (full CCCD numbers).") % values
    else:  # openings.results.imported
        text = (
            _("%(actor)s imported the bank's results %(file)s: %(opened)s accounts opened, %(rejected)s rejected.")
            % values
        )
    return _entry(event, text, note=note_text(event.note))


def _notification(event: AuditEvent, look: Lookups) -> Entry:
    """A message queued in the notification outbox (its text is in the outbox, not here); a
    notice of the village head's list read out to the person, or the list printed."""
    from ansinh.notifications.models import Channel, MessageStatus

    after = event.after or {}
    channel, status = after.get("channel") or "", after.get("status") or ""
    values = {
        "actor": look.actor(event),
        "channel": Channel(channel).label if channel in Channel.values else EMPTY,
        "status": MessageStatus(status).label if status in MessageStatus.values else EMPTY,
        "area": look.area_name(event.area_id) if event.area_id else _("all their areas"),
        "rows": number(int(after.get("rows") or 0)),
    }
    if event.action == "notifications.village.delivered":
        text = _("%(actor)s told the person of a notice on the village head's list of %(area)s.") % values
    elif event.action == "notifications.village.printed":
        text = _("%(actor)s printed the village head's list of notices of %(area)s (%(rows)s notices).") % values
    else:
        text = _("%(actor)s queued a notification (%(channel)s): %(status)s.") % values
    return _entry(event, text, note=note_text(event.note))


def _statutory_report(event: AuditEvent, look: Lookups) -> Entry:
    """A statutory table (Biểu 01/02/03) downloaded: which, where, which months, which format."""
    after = event.after or {}
    where = look.area_name(event.area_id) if event.area_id else EMPTY
    fmt = {"xlsx": _("an Excel file"), "json": "JSON"}.get(after.get("format", ""), after.get("format") or EMPTY)
    text = _("%(actor)s downloaded %(label)s of %(area)s for %(first)s to %(last)s as %(format)s.") % {
        "actor": look.actor(event),
        "label": after.get("label") or EMPTY,
        "area": where,
        "first": after.get("from") or EMPTY,
        "last": after.get("to") or EMPTY,
        "format": fmt,
    }
    return _entry(event, text, note=note_text(event.note))


def _registration_list(event: AuditEvent, look: Lookups) -> Entry:
    """A registration list of the Hoằng Phong plan taken away as a file or on paper."""
    from ansinh.payments.registration_lists import KINDS

    after = event.after or {}
    kind = KINDS.get(after.get("list") or "")
    values = {
        "actor": look.actor(event),
        "list": str(kind.label) if kind else EMPTY,
        "area": look.area_name(event.area_id) if event.area_id else _("all their areas"),
        "rows": number(int(after.get("rows") or 0)),
    }
    if event.action == "payments.registration_list.printed":
        text = _("%(actor)s printed the registration list “%(list)s” of %(area)s (%(rows)s rows).") % values
    else:
        text = (
            _("%(actor)s took the registration list “%(list)s” of %(area)s away as an Excel file (%(rows)s rows).")
            % values
        )
    return _entry(event, text, note=note_text(event.note))


def _exported(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}
    where = look.area_name(event.area_id) if event.area_id else _("the whole country")
    if event.action == "registry.printed":
        template = _("%(actor)s printed the list of beneficiaries of %(area)s (%(rows)s people).")
    else:
        template = _("%(actor)s took the list of beneficiaries of %(area)s away as an Excel file (%(rows)s people).")
    text = template % {
        "actor": look.actor(event),
        "area": where,
        "rows": number(int(after.get("rows") or 0)),
    }
    return _entry(event, text, note=note_text(event.note))


def _monitoring_export(event: AuditEvent, look: Lookups) -> Entry:
    """A list of people behind a figure of the monitoring dashboard, asked for and written."""
    from ansinh.reports.exports import kind_titles

    after = event.after or {}
    values = {
        "actor": look.actor(event),
        "list": kind_titles().get(after.get("list") or "", EMPTY),
        "area": look.area_name(event.area_id) if event.area_id else EMPTY,
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "rows": number(int(after.get("rows") or 0)),
    }
    if event.action == "monitoring.exported":
        template = _(
            "%(actor)s took the list “%(list)s” of %(area)s for %(month)s away as an Excel file (%(rows)s people)."
        )
    elif event.action == "monitoring.export.purged":
        values["days"] = number(int(after.get("retention_days") or 0))
        template = _(
            "%(actor)s deleted the Excel file of the list “%(list)s” of %(area)s for %(month)s after %(days)s days "
            "(retention period)."
        )
    else:
        template = _("%(actor)s asked for the list “%(list)s” of %(area)s for %(month)s as an Excel file.")
    return _entry(event, template % values, note=note_text(event.note))


IMPORT_STEPS = {
    "registry.import.uploaded": gettext_lazy("%(actor)s uploaded the file %(file)s to import into %(commune)s."),
    "registry.import.checking": gettext_lazy("%(actor)s started checking the file %(file)s."),
    "registry.import.checked": gettext_lazy(
        "%(actor)s checked the file %(file)s: %(total)s rows, %(errors)s with errors, %(new)s new people, "
        "%(changed)s to correct."
    ),
    "registry.import.confirmed": gettext_lazy("%(actor)s confirmed the import of the file %(file)s."),
    "registry.import.done": gettext_lazy(
        "%(actor)s finished the import of the file %(file)s: %(created)s people registered, %(updated)s corrected."
    ),
    "registry.import.failed": gettext_lazy("The import of the file %(file)s failed: %(message)s"),
    "registry.import.cancelled": gettext_lazy("%(actor)s cancelled the import of the file %(file)s."),
    "registry.import.file_purged": gettext_lazy(
        "%(actor)s deleted the uploaded file %(file)s after %(days)s days (retention period)."
    ),
}


def _import(event: AuditEvent, look: Lookups) -> Entry:
    after, before = event.after or {}, event.before or {}
    job = look.jobs.get(int(event.object_id)) if event.object_id.isdigit() else None
    file = after.get("file") or before.get("file") or (job.original_name if job else "") or event.object_repr
    template = IMPORT_STEPS.get(event.action, gettext_lazy("%(actor)s: %(step)s (file %(file)s)."))
    text = str(template) % {
        "actor": look.actor(event),
        "step": labels.action_label(event.action).lower(),
        "file": file or EMPTY,
        "commune": look.area_name(event.area_id),
        "total": number(int(after.get("total_rows") or 0)),
        "errors": number(int(after.get("error_rows") or 0)),
        "new": number(int(after.get("to_create") or 0)),
        "changed": number(int(after.get("to_update") or 0)),
        "created": number(int(after.get("created") or 0)),
        "updated": number(int(after.get("updated") or 0)),
        "message": after.get("message") or _("no reason given"),
        "days": number(int(after.get("retention_days") or 0)),
    }
    outcome = ""
    if job is not None:
        outcome = _("This import today: %(status)s.") % {"status": str(job.get_status_display()).lower()}
        if job.status == "done":
            outcome = _("This import today: imported, %(created)s registered and %(updated)s corrected.") % {
                "created": number(job.created),
                "updated": number(job.updated),
            }
    return _entry(event, text, note=note_text(event.note), outcome=outcome)


def _village(event: AuditEvent, look: Lookups) -> Entry:
    after, before = event.after or {}, event.before or {}
    area = look.areas.get(event.area_id) if event.area_id else None
    kind = after.get("division_type") or (area.division_type if area else "")
    # the commune at the time (a village may have moved since, e.g. in the 2025 reform)
    if isinstance(after.get("parent"), int):
        commune = look.area_name(after["parent"])
    elif area is not None and area.parent is not None:
        commune = area.parent.full_name
    else:
        commune = EMPTY
    actor = look.actor(event)
    if event.action.endswith(".renamed"):
        text = _("%(actor)s renamed %(old)s to %(new)s (%(commune)s).") % {
            "actor": actor,
            "old": f"{kind} {before.get('name', '')}".strip(),
            "new": f"{kind} {after.get('name', '')}".strip(),
            "commune": commune,
        }
    else:
        text = _("%(actor)s added %(village)s to %(commune)s.") % {
            "actor": actor,
            "village": f"{kind} {after.get('name', '')}".strip(),
            "commune": commune,
        }
    return _entry(event, text, note=note_text(event.note))


def _area(event: AuditEvent, look: Lookups) -> Entry:
    data = event.after or event.before or {}
    name = f"{data.get('division_type', '')} {data.get('name', '')}".strip() or event.object_repr
    actor = look.actor(event)
    if event.action.endswith(".created"):
        text = _("%(actor)s added the administrative unit %(area)s.") % {"actor": actor, "area": name}
    elif event.action.endswith(".deleted"):
        text = _("%(actor)s deleted the administrative unit %(area)s.") % {"actor": actor, "area": name}
    else:
        return _change_sentence(event, look, look.area_name(event.area_id) if event.area_id else name)
    return _entry(event, text, note=note_text(event.note))


def _tree_loaded(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}
    counts = after.get("counts") or {}
    created = sum(int(c.get("created", 0)) for c in counts.values() if isinstance(c, dict))
    updated = sum(int(c.get("updated", 0)) for c in counts.values() if isinstance(c, dict))
    text = _("%(actor)s loaded the administrative units (%(tree)s): %(created)s added, %(updated)s updated.") % {
        "actor": look.actor(event),
        "tree": choice_label("tree", after.get("tree"), "") or EMPTY,
        "created": number(created),
        "updated": number(updated),
    }
    return _entry(event, text, note=note_text(event.note))


def _succession(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}
    text = _(
        "%(actor)s loaded which communes replaced which in the 2025 reform: %(created)s added, %(updated)s "
        "updated, %(unmatched)s not matched."
    ) % {
        "actor": look.actor(event),
        "created": number(int(after.get("created") or 0)),
        "updated": number(int(after.get("updated") or 0)),
        "unmatched": number(int(after.get("unmatched") or 0)),
    }
    return _entry(event, text, note=note_text(event.note))


def _paths_updated(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}
    rows = after.get("rows") or {}
    total = sum(int(v) for v in rows.values()) if isinstance(rows, dict) else 0
    moved = [look.area_name(m.get("area")) for m in after.get("moves") or [] if isinstance(m, dict)]
    text = _("%(actor)s moved %(rows)s records with their administrative units (%(areas)s).") % {
        "actor": look.actor(event),
        "rows": number(total),
        "areas": ", ".join(moved) or EMPTY,
    }
    return _entry(event, text, note=note_text(event.note))


def _reform_transition(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}

    def n(key: str) -> str:
        value = after.get(key) or 0
        return number(len(value) if isinstance(value, list) else int(value))

    text = _(
        "%(actor)s moved the records of %(area)s to the communes of the 2025 reform: %(villages)s villages, "
        "%(people)s beneficiaries and %(reps)s representatives moved; %(carried)s roles carried over and "
        "%(ended)s ended; %(waiting)s villages wait for an officer to choose their new commune."
    ) % {
        "actor": look.actor(event),
        "area": look.area_name(event.area_id) if event.area_id else _("the whole country"),
        "villages": n("villages_moved"),
        "people": n("beneficiaries_moved"),
        "reps": n("representatives_moved"),
        "carried": n("assignments_carried"),
        "ended": n("assignments_ended"),
        "waiting": n("villages_to_assign"),
    }
    return _entry(event, text, note=note_text(event.note))


def _reform_village(event: AuditEvent, look: Lookups) -> Entry:
    after, before = event.after or {}, event.before or {}
    text = _("%(actor)s placed %(village)s, formerly of %(old)s, in %(new)s (2025 reform).") % {
        "actor": look.actor(event),
        "village": look.area_name(event.area_id),
        "old": look.area_name(before.get("commune")),
        "new": look.area_name(after.get("commune")),
    }
    return _entry(event, text, note=note_text(event.note))


def _demo(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}
    total = after.get("total")
    people = total.get("beneficiaries") if isinstance(total, dict) else after.get("beneficiaries")
    text = _("%(actor)s loaded demo data into %(area)s (%(people)s beneficiaries, no real person).") % {
        "actor": look.actor(event),
        "area": look.area_name(event.area_id) if event.area_id else _("the whole country"),
        "people": number(int(people or 0)),
    }
    return _entry(event, text)


def _demo_payments(event: AuditEvent, look: Lookups) -> Entry:
    after = event.after or {}
    text = _(
        "%(actor)s loaded demo payment methods into %(area)s (%(methods)s payment methods, "
        "%(accounts)s receiving accounts, no real person)."
    ) % {
        "actor": look.actor(event),
        "area": look.area_name(event.area_id) if event.area_id else _("the whole country"),
        "methods": number(int(after.get("methods") or 0)),
        "accounts": number(int(after.get("accounts") or 0)),
    }
    return _entry(event, text)


# accounts ---------------------------------------------------------------------------------------


def _user_whose(event: AuditEvent, look: Lookups) -> str:
    data = event.after or event.before or {}
    name = data.get("full_name") or event.object_repr
    return _("the user %(name)s") % {"name": name}


def _user(event: AuditEvent, look: Lookups) -> Entry:
    actor = look.actor(event)
    whose = _user_whose(event, look)
    if event.action.endswith(".created"):
        text = _("%(actor)s created %(whose)s.") % {"actor": actor, "whose": whose}
    elif event.action.endswith(".deleted"):
        text = _("%(actor)s deleted %(whose)s.") % {"actor": actor, "whose": whose}
    elif event.action.endswith(".password_changed"):
        if (event.after or {}).get("login_enabled"):
            text = _("%(actor)s set a new password for %(whose)s.") % {"actor": actor, "whose": whose}
        else:
            text = _("%(actor)s turned off password login for %(whose)s.") % {"actor": actor, "whose": whose}
    else:
        return _change_sentence(event, look, whose)
    return _entry(event, text, note=note_text(event.note))


def _role(event: AuditEvent, look: Lookups) -> Entry:
    data = event.after or event.before or {}
    args = {
        "actor": look.actor(event),
        "user": look.user_names.get(str(data.get("user", "")), str(data.get("user", ""))) or EMPTY,
        "role": choice_label("role", data.get("role"), "") or EMPTY,
        "area": look.area_name(event.area_id) if event.area_id else _("the whole country"),
    }
    if event.action.endswith(".assigned"):
        text = _("%(actor)s gave %(user)s the role %(role)s in %(area)s.") % args
    elif event.action.endswith(".revoked"):
        text = _("%(actor)s withdrew the role %(role)s of %(user)s in %(area)s.") % args
    else:
        return _change_sentence(
            event, look, _("the role of %(user)s in %(area)s") % {"user": args["user"], "area": args["area"]}
        )
    return _entry(event, text, note=note_text(event.note))


def _named_object(event: AuditEvent, look: Lookups, noun: str) -> Entry:
    """Organisation units, responsibilities, groups, API tokens: created / changed / deleted /
    ended / revoked, with the object named by its noun."""
    data = event.after or event.before or {}
    name = data.get("name") or event.object_repr
    if event.object_type == "accounts.responsibility":
        unit = look.org_units.get(data.get("org_unit")) if isinstance(data.get("org_unit"), int) else None
        function = choice_label("function", data.get("function"), "")
        name = ", ".join(x for x in ((unit.name if unit else ""), (function or "").lower()) if x)
    if event.object_type == "accounts.apitoken":
        name = look.user_names.get(str(data.get("user", "")), str(data.get("user", "")))
    whose = f"{noun} {name}".strip()
    actor = look.actor(event)
    verb = event.action.rsplit(".", 1)[-1]
    texts = {
        "created": _("%(actor)s created %(what)s."),
        "assigned": _("%(actor)s created %(what)s."),
        "deleted": _("%(actor)s deleted %(what)s."),
        "revoked": _("%(actor)s revoked %(what)s."),
    }
    if verb in texts:
        return _entry(event, texts[verb] % {"actor": actor, "what": whose}, note=note_text(event.note))
    return _change_sentence(event, look, whose)


def _orgunit(event, look):
    return _named_object(event, look, _("the unit"))


def _responsibility(event, look):
    return _named_object(event, look, _("the responsibility"))


def _group(event, look):
    return _named_object(event, look, _("the group"))


def _otp(event: AuditEvent, look: Lookups) -> Entry:
    """The second factor (authenticator app) of a user: enrolled or removed."""
    values = {"actor": look.actor(event), "user": event.object_repr or EMPTY}
    if event.action.endswith(".removed"):
        text = _("%(actor)s removed the authenticator app (second factor) of %(user)s.") % values
    else:
        text = _("%(actor)s enrolled an authenticator app (second factor) for %(user)s.") % values
    return _entry(event, text, note=note_text(event.note))


def _api_token(event: AuditEvent, look: Lookups) -> Entry:
    if event.action.endswith(".expiry_set"):
        text = _("%(actor)s gave the API tokens without an end date one.") % {"actor": look.actor(event)}
        return _entry(event, text, note=note_text(event.note))
    return _named_object(event, look, _("the API token of"))


# policy -----------------------------------------------------------------------------------------

POLICY_NOUNS = {
    "policy.programme": gettext_lazy("the programme"),
    "policy.category": gettext_lazy("the category"),
    "policy.standardlevel": gettext_lazy("the standard level"),
    "policy.coefficientrule": gettext_lazy("the coefficient"),
    "policy.fixedamount": gettext_lazy("the fixed amount"),
}


def _policy_object(event: AuditEvent, look: Lookups) -> str:
    data = event.after or event.before or {}
    noun = str(POLICY_NOUNS.get(event.object_type, gettext_lazy("the policy")))
    if isinstance(data.get("category"), int):
        name = look.category_name(data["category"], event)
    elif isinstance(data.get("programme"), int):
        p = look.programmes.get(data["programme"])
        name = p.name if p else ""
    elif event.object_type in ("policy.category", "policy.programme"):
        name = str(data.get("name_vi") or "")
        if event.object_type == "policy.category":
            name = look.category_name(int(event.object_id), event) if event.object_id.isdigit() else name
    else:
        name = ""
    where = look.area_name(data.get("province")) if isinstance(data.get("province"), int) else ""
    parts = [noun, name] + ([f"({where})"] if where else [])
    return " ".join(p for p in parts if p)


def _policy(event: AuditEvent, look: Lookups) -> Entry:
    actor = look.actor(event)
    if event.action == "policy.loaded":
        after = event.after or {}
        counts = after.get("counts") or {}
        changed = sum(
            int(v) for c in counts.values() if isinstance(c, dict) for k, v in c.items() if k in ("created", "updated")
        )
        text = _(
            "%(actor)s loaded the policy file (%(changed)s programmes, categories and levels added or changed)."
        ) % {
            "actor": actor,
            "changed": number(changed),
        }
        return _entry(event, text)
    what = _policy_object(event, look)
    if event.note == "deleted":
        return _entry(event, _("%(actor)s deleted %(what)s.") % {"actor": actor, "what": what})
    if event.action.endswith(".set"):
        after = event.after or {}
        value = look.value("amount", after["amount"], event) if "amount" in after else plain(after.get("value", ""))
        text = _("%(actor)s set %(what)s to %(value)s from %(day)s.") % {
            "actor": actor,
            "what": what,
            "value": value,
            "day": date_text(str(after.get("effective_from") or "")) or EMPTY,
        }
        return _entry(event, text, note=note_text(event.note))
    if event.action.endswith(".closed"):
        after = event.after or {}
        text = _("%(actor)s ended %(what)s on %(day)s.") % {
            "actor": actor,
            "what": what,
            "day": date_text(str(after.get("effective_to") or "")) or EMPTY,
        }
        return _entry(event, text, note=note_text(event.note))
    return _change_sentence(event, look, what, skip=("name_en", "note", "legal_basis"))


def _fallback(event: AuditEvent, look: Lookups) -> Entry:
    """An action without its own sentence: who, what (its label, or 'made a change'), on what."""
    label = labels.ACTION_LABELS.get(event.action)
    what = str(label).lower() if label is not None else _("made a change")
    text = _("%(actor)s: %(what)s.") % {"actor": look.actor(event), "what": what}
    if event.area_id:
        text = _("%(actor)s: %(what)s (%(area)s).") % {
            "actor": look.actor(event),
            "what": what,
            "area": look.area_name(event.area_id),
        }
    return _entry(event, text, changes=look.changes(event), note=note_text(event.note))


def _verified(event: AuditEvent, look: Lookups) -> Entry:
    """A verification run of a commune against the population database (ansinh.verification)."""
    after = event.after or {}
    values = {
        "actor": look.actor(event),
        "commune": look.area_name(event.area_id),
        "checked": number(int(after.get("checked") or 0)),
        "mismatch": number(int(after.get("mismatch") or 0)),
        "not_found": number(int(after.get("not_found") or 0)),
        "deceased": number(int(after.get("deceased") or 0)),
    }
    text = (
        _(
            "%(actor)s verified the identities of %(checked)s people of %(commune)s: %(mismatch)s mismatches, "
            "%(not_found)s not found, %(deceased)s reported deceased."
        )
        % values
    )
    return _entry(event, text, note=note_text(event.note))


def _worklists_refreshed(event: AuditEvent, look: Lookups) -> Entry:
    """A refresh of the data-quality worklists (ansinh.quality): items found and resolved."""
    after = event.after or {}
    values = {
        "actor": look.actor(event),
        "area": look.area_name(event.area_id) if event.area_id else _("all areas"),
        "opened": number(sum(int(v) for v in (after.get("opened") or {}).values())),
        "closed": number(sum(int(v) for v in (after.get("closed") or {}).values())),
    }
    text = (
        _("%(actor)s refreshed the data-quality worklists of %(area)s: %(opened)s new problems, %(closed)s resolved.")
        % values
    )
    return _entry(event, text)


def _payroll(event: AuditEvent, look: Lookups) -> Entry:
    """The payment cycle (ansinh.payroll): cycles opened, a step taken, a calendar, a contract."""
    from ansinh.payroll.models import CycleState, FeeKind

    before, after = event.before or {}, event.after or {}
    values = {"actor": look.actor(event)}
    if event.action == "payroll.cycles.opened":
        values |= {
            "count": number(int(after.get("cycles_created") or 0)),
            "month": month_text(f"{after.get('month') or ''}-01"),
            "units": number(int(after.get("approving_units") or 0)),
        }
        text = _("%(actor)s opened %(count)s payment cycles for %(month)s (%(units)s approving units).") % values
    elif event.action == "payroll.cycle.transitioned":

        def state(value) -> str:
            return str(CycleState(value).label) if value in CycleState.values else EMPTY

        values |= {
            "unit": after.get("unit") or EMPTY,
            "month": month_text(str(after.get("month") or "")) or EMPTY,
            "before": state(before.get("state")),
            "after": state(after.get("state")),
        }
        text = (
            _("%(actor)s moved the payment cycle of %(unit)s for %(month)s from “%(before)s” to “%(after)s”.") % values
        )
    elif event.action == "payroll.payroll.generated":
        values |= {
            "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
            "lines": number(int(after.get("lines") or 0)),
            "amount": number(int(after.get("total_amount") or 0)),
        }
        text = _("%(actor)s generated the payroll for %(month)s: %(lines)s lines, %(amount)s đồng.") % values
    elif event.action == "payroll.calendar.changed":
        values |= {"area": look.area_name(event.area_id), "moved": number(int(after.get("deadlines_moved") or 0))}
        text = _("%(actor)s changed the payment calendar of %(area)s (%(moved)s due dates moved).") % values
    else:  # payroll.contract.created
        flat = after.get("fee_kind") == FeeKind.FLAT
        values |= {
            "number": after.get("number") or EMPTY,
            "provider": after.get("provider_name") or EMPTY,
            "payer": after.get("paying_unit_name") or EMPTY,
            "start": date_text(str(after.get("valid_from") or "")),
            "end": date_text(str(after.get("valid_to") or "")),
            "fee": (
                _("%(amount)s đồng per beneficiary paid per month")
                % {"amount": number(int(after.get("fee_flat") or 0))}
                if flat
                else _("%(bp)s basis points of the amount paid")
                % {"bp": number(int(after.get("fee_basis_points") or 0))}
            ),
        }
        text = (
            _(
                "%(actor)s recorded contract %(number)s between %(payer)s and %(provider)s, from %(start)s to "
                "%(end)s, fee %(fee)s."
            )
            % values
        )
    return _entry(event, text, note=note_text(event.note))


def _change_list(event: AuditEvent, look: Lookups) -> Entry:
    """A commune's monthly change list (ansinh.payroll.changelists)."""
    before, after = event.before or {}, event.after or {}
    data = after or before
    values = {
        "actor": look.actor(event),
        "month": month_text(str(data.get("month") or "")) or EMPTY,
        "commune": data.get("commune") or EMPTY,
        "name": data.get("name") or EMPTY,
        "amount": number(int(data.get("amount") or 0)),
        "items": number(int(data.get("items") or 0)),
        "lists": number(int(data.get("rebuilt") or 0)),
    }
    texts = {
        "payroll.changelists.built": _(
            "%(actor)s built the change lists for %(month)s: %(lists)s lists, %(items)s automatic changes."
        ),
        "payroll.changelist.item_added": _(
            "%(actor)s added a manual adjustment of %(amount)s đồng for %(name)s to the change list of "
            "%(commune)s for %(month)s."
        ),
        "payroll.changelist.item_removed": _(
            "%(actor)s removed the manual adjustment of %(amount)s đồng for %(name)s from the change list of "
            "%(commune)s for %(month)s."
        ),
        "payroll.changelist.submitted": _(
            "%(actor)s submitted the change list of %(commune)s for %(month)s (%(items)s changes)."
        ),
        "payroll.changelist.accepted": _("%(actor)s accepted the change list of %(commune)s for %(month)s."),
        "payroll.changelist.returned": _(
            "%(actor)s returned the change list of %(commune)s for %(month)s with comments."
        ),
        "payroll.changelist.used_previous": _(
            "%(actor)s used the last accepted list of %(commune)s for %(month)s: the commune missed its deadline."
        ),
    }
    template = texts.get(event.action, texts["payroll.changelist.accepted"])
    return _entry(event, str(template) % values, note=note_text(event.note))


def _payroll_approval(event: AuditEvent, look: Lookups) -> Entry:
    """Approval of a payroll, a withdrawn draft, same-month payment fixes, provider lists."""
    from ansinh.payroll.models import FixKind

    before, after = event.before or {}, event.after or {}
    values = {
        "actor": look.actor(event),
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "lines": number(int(after.get("lines") or 0)),
        "amount": number(int(after.get("total_amount") or 0)),
    }
    if event.action == "payroll.payroll.approved":
        values |= {"hash": str(after.get("content_hash") or "")[:16] or EMPTY}
        text = (
            _(
                "%(actor)s approved the payroll for %(month)s: %(lines)s lines, %(amount)s đồng "
                "(content check code %(hash)s…)."
            )
            % values
        )
    elif event.action == "payroll.payroll.withdrawn":
        values |= {"lines": number(int(before.get("lines") or 0))}
        text = _("%(actor)s withdrew the draft payroll for %(month)s (%(lines)s lines deleted).") % values
    elif event.action == "payroll.provider_list.exported":
        values |= {"rows": number(int(after.get("rows") or 0)), "commune": after.get("commune") or EMPTY}
        text = (
            _("%(actor)s downloaded the provider lists for %(month)s (%(commune)s): %(rows)s rows, %(amount)s đồng.")
            % values
        )
    else:  # payroll.fix.requested / approved / rejected
        kind = after.get("kind")
        values |= {
            "name": after.get("beneficiary") or EMPTY,
            "fix": str(FixKind(kind).label) if kind in FixKind.values else EMPTY,
        }
        texts = {
            "payroll.fix.requested": _("%(actor)s asked for a payment fix for %(name)s (%(month)s): %(fix)s."),
            "payroll.fix.approved": _("%(actor)s approved the payment fix for %(name)s (%(month)s): %(fix)s."),
            "payroll.fix.rejected": _("%(actor)s rejected the payment fix for %(name)s (%(month)s): %(fix)s."),
        }
        text = texts.get(event.action, texts["payroll.fix.requested"]) % values
    return _entry(event, text, note=note_text(event.note))


def _payroll_funding(event: AuditEvent, look: Lookups) -> Entry:
    """Funding of a payroll (request, its XLSX, advances) and the budget estimate's XLSX."""
    after = event.after or {}
    values = {
        "actor": look.actor(event),
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "total": number(int(after.get("total") or 0)),
    }
    if event.action == "payroll.funding.requested":
        values |= {"fee": number(int(after.get("fee_total") or 0))}
        text = (
            _("%(actor)s made the funding request for %(month)s: %(total)s đồng, of which fee %(fee)s đồng.") % values
        )
    elif event.action == "payroll.funding.exported":
        text = _("%(actor)s downloaded the funding request for %(month)s (%(total)s đồng).") % values
    elif event.action == "payroll.advance.recorded":
        values |= {
            "amount": number(int(after.get("amount") or 0)),
            "reference": after.get("reference") or EMPTY,
            "day": date_text(str(after.get("received_on") or "")),
        }
        text = _("%(actor)s recorded an advance of %(amount)s đồng for %(month)s (%(reference)s, %(day)s).") % values
    else:  # payroll.budget.exported
        values |= {"year": after.get("year") or EMPTY, "area": after.get("area") or EMPTY}
        text = _("%(actor)s downloaded the budget estimate for %(year)s of %(area)s (%(total)s đồng).") % values
    return _entry(event, text, note=note_text(event.note))


def _payroll_receivable(event: AuditEvent, look: Lookups) -> Entry:
    """Receivables (overpayments to recover), recoveries applied by a payroll, funeral support."""
    before, after = event.before or {}, event.after or {}
    data = after or before
    values = {
        "actor": look.actor(event),
        "name": data.get("name") or EMPTY,
        "debtor": data.get("debtor") or EMPTY,
        "amount": number(int(data.get("amount") or 0)),
        "outstanding": number(int(data.get("outstanding") or 0)),
        "reference": data.get("reference") or EMPTY,
        "day": date_text(str(data.get("date") or data.get("death_date") or "")),
        "organiser": data.get("organiser") or EMPTY,
        "recovered": number(int(data.get("recovered") or 0)),
        "month": month_text(f"{data.get('month') or ''}-01") or EMPTY,
    }
    texts = {
        "payroll.receivable.detected": _(
            "The payroll found an overpayment of %(amount)s đồng for %(name)s, to recover from %(debtor)s."
        ),
        "payroll.receivable.withdrawn": _(
            "A regenerated payroll withdrew the overpayment of %(amount)s đồng it had found for %(name)s."
        ),
        "payroll.receivable.recorded": _(
            "%(actor)s recorded an overpayment of %(amount)s đồng for %(name)s, to recover from %(debtor)s."
        ),
        "payroll.receivable.recovered_from_payee": _(
            "%(actor)s recorded %(amount)s đồng recovered from %(debtor)s for %(name)s (%(reference)s, %(day)s)."
        ),
        "payroll.receivable.write_off_requested": _(
            "%(actor)s asked to write off %(outstanding)s đồng owed by %(debtor)s for %(name)s."
        ),
        "payroll.receivable.written_off": _(
            "%(actor)s approved writing off %(outstanding)s đồng owed by %(debtor)s for %(name)s."
        ),
        "payroll.receivable.write_off_rejected": _("%(actor)s refused to write off what %(debtor)s owes for %(name)s."),
        "payroll.recoveries.applied": _(
            "The approved payroll for %(month)s recovered %(recovered)s đồng of overpayments."
        ),
        "payroll.funeral.recorded": _(
            "%(actor)s recorded funeral support of %(amount)s đồng for %(name)s (died %(day)s), paid to %(organiser)s."
        ),
    }
    template = texts.get(event.action, texts["payroll.receivable.recorded"])
    return _entry(event, str(template) % values, note=note_text(event.note))


def _disbursement(event: AuditEvent, look: Lookups) -> Entry:
    """The transfer leg: batches built, files written, sent to the bank, answers imported or
    refused, exceptions handled."""
    from ansinh.disbursement.models import FileFormat, Resolution

    after = event.after or {}
    fmt = after.get("format")
    resolution = after.get("resolution")
    values = {
        "actor": look.actor(event),
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "batch": after.get("batch") or ", ".join(after.get("batches") or []) or EMPTY,
        "count": number(int(after.get("instructions") or after.get("rows") or 0)),
        "held": number(int(after.get("held") or 0)),
        "total": number(int(after.get("total") or after.get("credited") or after.get("amount") or 0)),
        "format": str(FileFormat(fmt).label) if fmt in FileFormat.values else EMPTY,
        "file": after.get("file") or EMPTY,
        "reason": after.get("reason") or after.get("error") or EMPTY,
        "transfer": after.get("transfer") or EMPTY,
        "resolution": str(Resolution(resolution).label) if resolution in Resolution.values else EMPTY,
    }
    texts = {
        "disbursement.batch.built": _(
            "%(actor)s made the transfers for %(month)s: %(count)s transfers (%(held)s held), batch %(batch)s."
        ),
        "disbursement.file.exported": _(
            "%(actor)s wrote the file of batch %(batch)s (%(format)s): %(count)s transfers, %(total)s đồng."
        ),
        "disbursement.batch.submitted": _("%(actor)s sent batch %(batch)s to the bank."),
        "disbursement.batch.no_answer": _(
            "The bank did not answer when batch %(batch)s was sent (%(reason)s): its status is to be asked."
        ),
        "disbursement.status.imported": _(
            "%(actor)s imported the answer %(file)s for batch %(batch)s: %(count)s statuses, %(total)s đồng credited."
        ),
        "disbursement.status.refused": _("%(actor)s's status file %(file)s was refused: %(reason)s"),
        "disbursement.exception.fix_asked": _(
            "%(actor)s asked to fix the rejected transfer %(transfer)s of batch %(batch)s."
        ),
        "disbursement.exception.resolved": _(
            "%(actor)s resolved the exception of transfer %(transfer)s (batch %(batch)s): %(resolution)s."
        ),
    }
    template = texts.get(event.action, texts["disbursement.batch.submitted"])
    return _entry(event, str(template) % values, note=note_text(event.note))


def _complaint(event: AuditEvent, look: Lookups) -> Entry:
    """Complaints (ansinh.complaints): received online or by staff, assigned or routed, linked,
    closed; the register exported."""
    from ansinh.complaints.models import Channel, Kind, RoutedTo, State, Topic

    after, before = event.after or {}, event.before or {}

    def label(choices, value) -> str:
        return str(choices(value).label) if value in choices.values else EMPTY

    values = {
        "actor": look.actor(event),
        "reference": after.get("reference") or event.object_repr or EMPTY,
        "name": after.get("name") or EMPTY,
        "kind": label(Kind, after.get("kind")).lower(),
        "topic": label(Topic, after.get("topic")),
        "channel": label(Channel, after.get("channel")).lower(),
        "routed": label(RoutedTo, after.get("routed_to")),
        "assignee": after.get("assignee") or EMPTY,
        "due": date_text(str(after.get("due_on") or "")) or EMPTY,
        "lines": number(len(after.get("lines") or [])),
        "exceptions": number(len(after.get("exceptions") or [])),
        "state": label(State, before.get("state")),
        "rows": number(int(after.get("rows") or 0)),
    }
    if event.action == "complaints.complaint.lodged":
        if event.actor_id is None:
            template = _("%(name)s sent %(kind)s %(reference)s online (%(topic)s), to %(routed)s, due %(due)s.")
        else:
            template = _(
                "%(actor)s received %(kind)s %(reference)s from %(name)s %(channel)s (%(topic)s), to %(routed)s, "
                "due %(due)s."
            )
    elif event.action == "complaints.complaint.assigned":
        if "assignee" in after and "routed_to" in after:
            template = _("%(actor)s gave complaint %(reference)s to %(assignee)s and routed it to %(routed)s.")
        elif "assignee" in after:
            template = _("%(actor)s gave complaint %(reference)s to %(assignee)s.")
        else:
            template = _("%(actor)s routed complaint %(reference)s to %(routed)s.")
    else:
        template = {
            "complaints.complaint.identified": _("%(actor)s linked complaint %(reference)s to %(name)s."),
            "complaints.complaint.linked": _(
                "%(actor)s linked complaint %(reference)s to %(lines)s payroll lines and %(exceptions)s "
                "transfer exceptions."
            ),
            "complaints.complaint.resolved": _("%(actor)s resolved complaint %(reference)s."),
            "complaints.complaint.rejected": _("%(actor)s did not accept complaint %(reference)s."),
            "complaints.complaint.withdrawn": _("%(actor)s recorded that complaint %(reference)s was withdrawn."),
            "complaints.register.exported": _("%(actor)s exported the complaint register (%(rows)s rows)."),
        }.get(event.action, _("%(actor)s changed complaint %(reference)s."))
    return _entry(event, str(template) % values, note=note_text(event.note))


def _applications(event: AuditEvent, look: Lookups) -> Entry:
    """Applications for the monthly allowance: received, documents, review, posting, decision."""
    from ansinh.applications.models import AttachmentKind, Channel

    after = event.after or {}
    channel, kind = after.get("channel"), after.get("kind")
    values = {
        "actor": look.actor(event),
        "reference": after.get("reference") or event.object_repr or EMPTY,
        "channel": str(Channel(channel).label).lower() if channel in Channel.values else EMPTY,
        "count": number(int(after.get("documents") or 0)),
        "starts": date_text(after.get("posting_starts") or "") or EMPTY,
        "ends": date_text(after.get("posting_ends") or "") or EMPTY,
        "month": month_text(after.get("start_month") or "") or EMPTY,
        "number": after.get("decision_number") or EMPTY,
        "kind": str(AttachmentKind(kind).label).lower() if kind in AttachmentKind.values else EMPTY,
    }
    texts = {
        "applications.submitted": _("Application %(reference)s was received (%(channel)s) with %(count)s documents."),
        "applications.documents_added": _("%(count)s documents were added to application %(reference)s."),
        "applications.accepted": _("%(actor)s accepted application %(reference)s for public posting."),
        "applications.returned": _("%(actor)s returned application %(reference)s for more documents."),
        "applications.posted": _("%(actor)s posted application %(reference)s publicly from %(starts)s to %(ends)s."),
        "applications.approved": _(
            "%(actor)s recorded decision %(number)s approving application %(reference)s: paid from %(month)s."
        ),
        "applications.rejected": _("%(actor)s recorded that application %(reference)s is not approved."),
        "applications.withdrawn": _("%(actor)s recorded that application %(reference)s is withdrawn."),
        "applications.document_opened": _("%(actor)s opened a document (%(kind)s) of application %(reference)s."),
    }
    template = texts.get(event.action, texts["applications.submitted"])
    return _entry(event, str(template) % values, note=note_text(event.note))


def _cash_recording(event: AuditEvent, look: Lookups) -> Entry:
    """Recording on the cash lists (issue 12 parts 3 and 4): receipts, conflicts, closing a list,
    withdrawals at a pay point, account follow-ups closed."""
    from ansinh.cashout.models import (
        CannotWithdrawReason,
        NotPaidReason,
        ReceiptResult,
        WithdrawalMeans,
    )

    after = event.after or {}
    reason = after.get("reason") or ""
    result = after.get("result") or ""
    means = after.get("means") or ""
    if reason in NotPaidReason.values and event.action.startswith("cashout.receipt."):
        reason_text = str(NotPaidReason(reason).label)
    elif reason in CannotWithdrawReason.values:
        reason_text = str(CannotWithdrawReason(reason).label)
    else:
        reason_text = EMPTY
    values = {
        "actor": look.actor(event),
        "name": after.get("name") or EMPTY,
        "list": after.get("list") or after.get("pay_point") or EMPTY,
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "amount": number(int(after.get("amount") or after.get("credited") or 0)),
        "receiver": after.get("receiver") or after.get("name") or EMPTY,
        "reason": reason_text,
        "result": str(ReceiptResult(result).label) if result in ReceiptResult.values else EMPTY,
        "means": str(WithdrawalMeans(means).label) if means in WithdrawalMeans.values else EMPTY,
        "returned": number(int(after.get("returned") or 0)),
        "owed": number(int(after.get("owed") or 0)),
    }
    if event.action == "cashout.receipt.recorded":
        if after.get("outcome") == "paid":
            template = _("%(actor)s recorded %(amount)s đồng paid in cash to %(receiver)s for %(name)s (%(list)s).")
        else:
            template = _("%(actor)s recorded that %(name)s was not paid in cash (%(list)s): %(reason)s.")
    elif event.action == "cashout.receipt.conflict":
        template = _("%(actor)s sent a cash payment for %(name)s (%(list)s) that was not recorded: %(result)s.")
    elif event.action == "cashout.list.closed":
        template = _(
            "%(actor)s closed the cash list %(list)s for %(month)s: %(returned)s people not paid, "
            "%(amount)s đồng returned, %(owed)s owed next month."
        )
    elif event.action == "cashout.withdrawal.recorded":
        if after.get("outcome") == "served":
            template = _("%(actor)s recorded that %(name)s withdrew the allowance at %(list)s (%(means)s).")
        else:
            template = _(
                "%(actor)s recorded that %(name)s could not withdraw at %(list)s (%(reason)s): paid in cash this month."
            )
    else:
        template = _("%(actor)s closed the follow-up of the account of %(name)s.")
    return _entry(event, str(template) % values, note=note_text(event.note))


def _cash_places(event: AuditEvent, look: Lookups) -> Entry:
    """Pay points, home-delivery routes, their pay days and the month's cash lists (issue 12
    parts 1 and 2)."""
    after = event.after or {}
    days = after.get("days") or []
    values = {
        "actor": look.actor(event),
        "name": after.get("name") or after.get("place") or event.object_repr or EMPTY,
        "commune": after.get("commune") or EMPTY,
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "days": ", ".join(date_text(str(d)[:10]) + str(d)[10:] for d in days) or EMPTY,
        "lists": number(int(after.get("lists") or 0)),
        "created": number(int(after.get("created") or 0)),
        "cancelled": number(int(after.get("cancelled") or 0)),
    }
    texts = {
        "cashout.pay_point.created": _("%(actor)s added the pay point %(name)s (%(commune)s)."),
        "cashout.pay_point.updated": _("%(actor)s changed the pay point %(name)s."),
        "cashout.pay_point.deactivated": _("%(actor)s took the pay point %(name)s out of use."),
        "cashout.pay_point.activated": _("%(actor)s put the pay point %(name)s back into use."),
        "cashout.route.created": _("%(actor)s added the home-delivery route %(name)s (%(commune)s)."),
        "cashout.route.updated": _("%(actor)s changed the home-delivery route %(name)s."),
        "cashout.route.deactivated": _("%(actor)s took the home-delivery route %(name)s out of use."),
        "cashout.route.activated": _("%(actor)s put the home-delivery route %(name)s back into use."),
        "cashout.days.set": _("%(actor)s set the pay days of %(month)s at %(name)s: %(days)s."),
        "cashout.lists.built": _(
            "%(actor)s made the cash lists of %(month)s: %(lists)s lists, %(created)s people added, "
            "%(cancelled)s taken off."
        ),
    }
    template = texts.get(event.action, texts["cashout.pay_point.updated"])
    return _entry(event, str(template) % values, note=note_text(event.note))


def _settlement(event: AuditEvent, look: Lookups) -> Entry:
    """The provider's settlement (submitted, returned, accepted, downloaded), the office's
    settlement with the finance office (sent, files downloaded) and the monthly lists' exports."""
    after = event.after or {}
    values = {
        "actor": look.actor(event),
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "fee": number(int(after.get("fee") or 0)),
        "paid": number(int(after.get("amount_paid") or 0)),
        "served": number(int(after.get("served") or 0)),
        "returned": number(int(after.get("returned") or 0)),
        "rows": number(int(after.get("rows") or 0)),
        "scope": after.get("scope") or after.get("period") or EMPTY,
        "reference": after.get("reference") or EMPTY,
    }
    texts = {
        "reconciliation.settlement.submitted": _(
            "%(actor)s submitted the provider's settlement for %(month)s: %(served)s people paid, %(paid)s đồng, "
            "%(returned)s đồng returned, fee %(fee)s đồng."
        ),
        "reconciliation.settlement.returned": _("%(actor)s returned the provider's settlement for %(month)s."),
        "reconciliation.settlement.accepted": _(
            "%(actor)s accepted the provider's settlement for %(month)s: fee %(fee)s đồng."
        ),
        "reconciliation.settlement.exported": _("%(actor)s downloaded the provider's settlement for %(month)s."),
        "reconciliation.office_settlement.sent": _(
            "%(actor)s recorded the settlement for %(month)s as sent to the finance office (%(reference)s)."
        ),
        "reconciliation.office_settlement.exported": _(
            "%(actor)s downloaded the settlement with the finance office (%(scope)s)."
        ),
        "reconciliation.list.exported": _("%(actor)s exported a monthly list (%(scope)s): %(rows)s rows."),
    }
    template = texts.get(event.action, texts["reconciliation.settlement.exported"])
    return _entry(event, str(template) % values, note=note_text(event.note))


def _reconciliation(event: AuditEvent, look: Lookups) -> Entry:
    """Bank statements imported or refused, the reconciliation checks run, and what was done with
    a reconciliation exception (issue 13 part 2)."""
    from ansinh.reconciliation.models import ReconKind

    after = event.after or {}
    kind = after.get("kind") or ""
    fix = after.get("fix") or ""
    values = {
        "actor": look.actor(event),
        "file": after.get("file") or EMPTY,
        "reason": after.get("reason") or EMPTY,
        "entries": number(int(after.get("entries") or 0)),
        "matched": number(int(after.get("matched") or 0)),
        "differs": number(int(after.get("differs") or 0)),
        "unknown": number(int(after.get("unknown") or 0)),
        "missing": number(int(after.get("missing") or 0)),
        "opened": number(int(after.get("opened") or 0)),
        "closed": number(int(after.get("closed") or 0)),
        "cycle": after.get("cycle") or EMPTY,
        "kind": str(ReconKind(kind).label) if kind in ReconKind.values else EMPTY,
        "name": after.get("name") or EMPTY,
        "owner": after.get("owner") or EMPTY,
        "fix": str(_("Resend to a corrected account")) if fix == "resend" else str(_("Pay in cash this month")),
    }
    texts = {
        "reconciliation.statement.imported": _(
            "%(actor)s imported the bank statement %(file)s: %(entries)s entries, %(matched)s matched, "
            "%(differs)s with another amount, %(unknown)s unknown; %(missing)s credited transfers missing."
        ),
        "reconciliation.statement.refused": _("%(actor)s's bank statement %(file)s was refused: %(reason)s"),
        "reconciliation.checks.run": _(
            "%(actor)s ran the reconciliation checks of %(cycle)s: %(opened)s new exceptions, %(closed)s no longer "
            "found."
        ),
        "reconciliation.exception.fix_asked": _("%(actor)s asked for a payment fix (%(fix)s): %(kind)s, %(name)s."),
        "reconciliation.exception.recovered": _("%(actor)s recorded the money to recover: %(kind)s, %(name)s."),
        "reconciliation.exception.write_off_requested": _(
            "%(actor)s asked to write off the money: %(kind)s, %(name)s."
        ),
        "reconciliation.exception.write_off_approved": _(
            "%(actor)s approved writing off the money: %(kind)s, %(name)s."
        ),
        "reconciliation.exception.write_off_rejected": _(
            "%(actor)s refused writing off the money: %(kind)s, %(name)s."
        ),
        "reconciliation.exception.noted": _("%(actor)s closed the exception after checking: %(kind)s, %(name)s."),
        "reconciliation.exception.assigned": _("%(actor)s made %(owner)s responsible: %(kind)s, %(name)s."),
    }
    template = texts.get(event.action, texts["reconciliation.exception.noted"])
    return _entry(event, str(template) % values, note=note_text(event.note))


def _ledger(event: AuditEvent, look: Lookups) -> Entry:
    """A cycle's ledger closed, a fee posted, entries posted by the catch-up (issue 13 part 1)."""
    after = event.after or {}
    values = {
        "actor": look.actor(event),
        "month": month_text(f"{after.get('month') or ''}-01") or EMPTY,
        "amount": number(int(after.get("amount") or 0)),
        "entries": number(int(after.get("entries") or 0)),
        "outstanding": number(int(after.get("outstanding") or 0)),
    }
    texts = {
        "reconciliation.ledger.closed": _(
            "%(actor)s closed the ledger of %(month)s: %(outstanding)s đồng outstanding."
        ),
        "reconciliation.ledger.fee_posted": _("%(actor)s posted a service fee of %(amount)s đồng for %(month)s."),
        "reconciliation.ledger.posted": _("%(actor)s posted %(entries)s missing ledger entries for %(month)s."),
    }
    template = texts.get(event.action, texts["reconciliation.ledger.posted"])
    return _entry(event, str(template) % values, note=note_text(event.note))


# One renderer per action family: the action itself first, then its prefixes, longest first.
RENDERERS: dict[str, Renderer] = {
    "reconciliation.ledger.": _ledger,
    "reconciliation.statement.": _reconciliation,
    "reconciliation.checks.run": _reconciliation,
    "reconciliation.exception.": _reconciliation,
    "reconciliation.settlement.": _settlement,
    "reconciliation.office_settlement.": _settlement,
    "reconciliation.list.exported": _settlement,
    "cashout.receipt.": _cash_recording,
    "cashout.list.closed": _cash_recording,
    "cashout.withdrawal.": _cash_recording,
    "cashout.follow_up.": _cash_recording,
    "cashout.pay_point.": _cash_places,
    "cashout.route.": _cash_places,
    "cashout.days.set": _cash_places,
    "cashout.lists.built": _cash_places,
    "disbursement.": _disbursement,
    "applications.": _applications,
    "complaints.": _complaint,
    "payroll.receivable.": _payroll_receivable,
    "payroll.recoveries.applied": _payroll_receivable,
    "payroll.funeral.recorded": _payroll_receivable,
    "payroll.funding.": _payroll_funding,
    "payroll.advance.recorded": _payroll_funding,
    "payroll.budget.exported": _payroll_funding,
    "payroll.payroll.approved": _payroll_approval,
    "payroll.payroll.withdrawn": _payroll_approval,
    "payroll.provider_list.exported": _payroll_approval,
    "payroll.fix.": _payroll_approval,
    "registry.beneficiary.created": _beneficiary_created,
    "registry.beneficiary.updated": _beneficiary_updated,
    "registry.decision.": _decision,
    "registry.representative.": _representative,
    "registry.representation.": _representation,
    "registry.payee.changed": _payee,
    "payments.": _payments,
    "payroll.cycles.opened": _payroll,
    "payroll.cycle.transitioned": _payroll,
    "payroll.calendar.changed": _payroll,
    "payroll.payroll.generated": _payroll,
    "payroll.changelists.built": _change_list,
    "payroll.changelist.": _change_list,
    "payroll.contract.created": _payroll,
    "notifications.": _notification,
    "openings.": _opening,
    "registry.exported": _exported,
    "monitoring.export.requested": _monitoring_export,
    "monitoring.exported": _monitoring_export,
    "monitoring.export.purged": _monitoring_export,
    "registry.printed": _exported,
    "payments.registration_list.exported": _registration_list,
    "payments.registration_list.printed": _registration_list,
    "registry.import.": _import,
    "areas.village.": _village,
    "areas.area.": _area,
    "areas.tree.loaded": _tree_loaded,
    "areas.succession.": _succession,
    "areas.paths.updated": _paths_updated,
    "demo.registry.": _demo,
    "demo.payments.": _demo_payments,
    "accounts.user.": _user,
    "accounts.role.": _role,
    "accounts.orgunit.": _orgunit,
    "accounts.responsibility.": _responsibility,
    "accounts.group.": _group,
    "accounts.api_token.": _api_token,
    "accounts.otp.": _otp,
    "policy.": _policy,
    "identity.verified": _verified,
    "quality.refreshed": _worklists_refreshed,
    "reform.transition.": _reform_transition,
    "reform.village.": _reform_village,
    "reports.bieu.exported": _statutory_report,
}


def renderer_for(action: str) -> Renderer:
    if action in RENDERERS:
        return RENDERERS[action]
    parts = action.split(".")
    for n in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:n]) + "."
        if prefix in RENDERERS:
            return RENDERERS[prefix]
    return _fallback


def render(events: Iterable[AuditEvent], user) -> list[Entry]:
    """The events as entries, in their order. Events should come with `select_related("actor")`."""
    events = list(events)
    look = Lookups(events, user)
    out = []
    for event in events:
        try:
            out.append(renderer_for(event.action)(event, look))
        except (KeyError, TypeError, ValueError, AttributeError):
            # an event of an older shape than its renderer expects: still a sentence
            out.append(_fallback(event, look))
    return out
