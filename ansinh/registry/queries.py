"""Reads of the registry, already scoped to the user's areas."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import reduce
from itertools import islice

from django.db import connection
from django.db.models import CharField, F, Func, Q, QuerySet, Value, prefetch_related_objects
from django.db.models.functions import Collate
from django.utils import timezone

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.core.text import search_key
from ansinh.policy.models import Category

from .models import Beneficiary, Decision, DecisionKind, Representative, Status, StatusChange
from .rules import add_months, first_of_month

NEEDS_FLAGS = ("cannot_travel", "no_phone", "cannot_read_vietnamese", "frail")


def beneficiaries_for(user, cap: str = Cap.REGISTRY_VIEW) -> QuerySet[Beneficiary]:
    return access.scope(Beneficiary.objects.all(), user, cap, path_field="area_path")


def representatives_for(user, cap: str = Cap.REGISTRY_VIEW) -> QuerySet[Representative]:
    return access.scope(Representative.objects.all(), user, cap, path_field="area_path")


def incoming_moves_for(user, cap: str = Cap.REGISTRY_VIEW) -> QuerySet[Decision]:
    """Move decisions of other communes towards the user's communes that are not yet continued
    there: the new commune sees the person (name, masked CCCD, year of birth) only through this."""
    qs = pending_moves().select_related("beneficiary", "from_commune", "to_commune")
    return access.scope(qs, user, cap, path_field="to_commune__path").order_by("signed_on", "id")


def pending_moves() -> QuerySet[Decision]:
    """Move decisions whose new commune has not continued the allowance yet (unscoped)."""
    return Decision.objects.filter(kind=DecisionKind.MOVE, followed_by__isnull=True)


def sensitive_visible(user) -> Callable[[str], bool]:
    """Whether HIV-related (sensitive) categories may be shown, filtered on or exported for an
    area path: only to those who decide and pay under them (`registry.view_sensitive`)."""
    if access.everywhere(user, Cap.REGISTRY_VIEW_SENSITIVE):
        return lambda path: True
    paths = access.paths_with(user, Cap.REGISTRY_VIEW_SENSITIVE)
    return lambda path: any(path.startswith(p) for p in paths)


def visible_categories(user, categories, area_path: str) -> list:
    """The categories of one beneficiary that `user` may see (BeneficiaryCategory rows with
    their category)."""
    show = sensitive_visible(user)(area_path)
    return [c for c in categories if show or not c.category.sensitive]


def cccd_visible(user) -> Callable[[str], bool]:
    """Whether a full CCCD may be shown for an area path (one lookup for a whole page); elsewhere
    lists and pages show it masked."""
    if access.everywhere(user, Cap.REGISTRY_VIEW_CCCD):
        return lambda path: True
    paths = access.paths_with(user, Cap.REGISTRY_VIEW_CCCD)
    return lambda path: any(path.startswith(p) for p in paths)


def started_in(month: date) -> Q:
    """Beneficiaries whose allowance started with effect from `month`: a first start, a restart
    or a move received from another commune (status history to "receiving" from nothing or from
    "stopped"; a resumption after a suspension is not a start)."""
    started = StatusChange.objects.filter(
        effective_month=month, to_status=Status.ACTIVE, from_status__in=("", Status.STOPPED)
    )
    return Q(pk__in=started.values("beneficiary_id"))


def stopped_in(month: date) -> Q:
    """Beneficiaries stopped with effect from `month` (last paid month the one before) and still
    stopped."""
    return Q(status=Status.STOPPED, end_month=add_months(month, -1))


# SearchParams.change: the list of the month's changes (dashboard figures link to them)
CHANGES: dict[str, Callable[[date], Q]] = {"started": started_in, "stopped": stopped_in}


def this_month() -> date:
    return first_of_month(timezone.localdate())


@dataclass
class SearchParams:
    q: str = ""
    cccd: str = ""
    phone: str = ""
    area: int | None = None  # commune or village id (or any area in scope)
    category: str = ""
    status: str = ""
    needs: tuple[str, ...] = ()
    issues: bool = False
    change: str = ""  # "started" or "stopped" this month (CHANGES)


def search(user, params: SearchParams) -> QuerySet[Beneficiary] | RankedResults:
    """Name with or without diacritics (prefix of the full name or of any word), CCCD, phone
    (any format), area, category, status, needs flags, data-quality issues; in the order of the
    list screen and the API.

    A name search is ranked: the names that start with the key first, then the names where a
    later word does, each part in name order (name_key, id). Otherwise the rows are in the order
    of Vietnamese lists (sort_key, id: given name first, core.text.name_sort_key), read from the
    (sort_key, id) b-tree a page at a time. On PostgreSQL the first part of a name search is
    read in order from the (name_key, id) b-tree (C collation, registry migration 0004), so its
    page costs a page of index entries however many names match; the second part is found by
    the word-start indexes and sorted (`RankedResults`).
    """
    qs, key = _filtered(user, params)
    if not key:
        return qs.order_by("sort_key", "id")
    prefix = Q(name_key__startswith=key)
    return RankedResults(qs.filter(prefix), _later_word_starts(qs, key).exclude(prefix)).order_by("name_key", "id")


def _filtered(user, params: SearchParams) -> tuple[QuerySet[Beneficiary], str]:
    """The scoped queryset with every filter but the name, and the name's search key ("" when
    the text is not a name)."""
    qs = beneficiaries_for(user)
    key = ""
    text = params.q.strip()
    if text:
        digits = "".join(ch for ch in text if ch.isdigit())
        if digits and len(digits) == len(text.replace(" ", "")) and len(digits) in (9, 10, 11, 12):
            qs = _by_cccd(qs, user, digits) if len(digits) == 12 else qs.filter(phone=_e164(digits))
        else:
            key = search_key(text)
    if params.cccd:
        qs = _by_cccd(qs, user, params.cccd.strip())
    if params.phone:
        qs = qs.filter(phone=_e164("".join(ch for ch in params.phone if ch.isdigit())))
    if params.area:
        area = access.areas_for(user).filter(pk=params.area).first()
        qs = qs.filter(area_path__startswith=area.path) if area else qs.none()
        if area and area.level == Level.VILLAGE:
            # the same rows (a beneficiary's area_path is its village's path); lets PostgreSQL
            # the (village, name_key) index finds the village's rows (a few hundred: sorted by
            # sort_key in a millisecond) and reads a name search's page in name order
            qs = qs.filter(village_id=area.pk)
    if params.category:
        qs = qs.filter(categories__category__code=params.category, categories__to_month__isnull=True).distinct()
        if Category.objects.filter(code=params.category, sensitive=True).exists():
            # a list filtered by an HIV-related category discloses it: only where the user may see them
            qs = access.scope(qs, user, Cap.REGISTRY_VIEW_SENSITIVE, path_field="area_path")
    if params.status:
        qs = qs.filter(status=params.status)
    for flag in params.needs:
        if flag in NEEDS_FLAGS:
            qs = qs.filter(**{flag: True})
    if params.issues:
        qs = qs.filter(has_issues=True)
    if params.change in CHANGES:
        qs = qs.filter(CHANGES[params.change](this_month()))
    return qs, key


# --- ranked results and capped counts --------------------------------------------------------

COUNT_CAP = 10_000  # the list screen and the API count up to this many rows ("more than 10,000")


class RankedResults:
    """Rows of several querysets, one after the other (each in its own order), with what Django's
    Paginator, the API and the export need: `count()`, slicing `[a:b]`, iteration, and
    `select_related`, `prefetch_related`, `order_by`, `filter` applied to every part. The parts
    must not overlap.

    A slice reads each part with LIMIT/OFFSET, starting the next part only when the page goes
    past the end of the previous one. Prefetches run once on the rows of the page.

    On PostgreSQL the parts after the first are ordered by `name_key` in the "POSIX" collation:
    the same byte order as the column's "C" collation, but not the (name_key, id) index's. So
    PostgreSQL sorts the rows it finds through the word-start indexes (few, as a rule) instead
    of walking the whole index in name order in the hope of meeting 50 of them, a plan its
    estimates make it pick and which took 15 s at a million rows when the part was empty."""

    def __init__(self, *parts: QuerySet, prefetch: tuple = ()):
        self.parts = parts
        self._prefetch = prefetch
        self._sizes: dict[int, int] = {}  # exact sizes of parts, once known

    def _clone(self, parts=None, prefetch=None, same_rows=True) -> RankedResults:
        clone = RankedResults(
            *(self.parts if parts is None else parts), prefetch=self._prefetch if prefetch is None else prefetch
        )
        if same_rows:  # the sizes counted so far still hold
            clone._sizes = dict(self._sizes)
        return clone

    def select_related(self, *fields) -> RankedResults:
        return self._clone(parts=[p.select_related(*fields) for p in self.parts])

    def order_by(self, *fields) -> RankedResults:
        first, *rest = self.parts
        return self._clone(parts=[first.order_by(*fields), *(p.order_by(*_sorted(fields)) for p in rest)])

    def filter(self, *args, **kwargs) -> RankedResults:
        return self._clone(parts=[p.filter(*args, **kwargs) for p in self.parts], same_rows=False)

    def prefetch_related(self, *lookups) -> RankedResults:
        if lookups == (None,):
            return self._clone(prefetch=())
        return self._clone(prefetch=self._prefetch + lookups)

    @property
    def ordered(self) -> bool:
        return all(p.ordered for p in self.parts)

    @property
    def model(self):
        return self.parts[0].model

    def _size(self, i: int) -> int:
        if i not in self._sizes:
            self._sizes[i] = self.parts[i].count()
        return self._sizes[i]

    def count(self) -> int:
        return sum(self._size(i) for i in range(len(self.parts)))

    def count_upto(self, cap: int) -> int:
        """The number of rows, or cap + 1 when there are more than `cap`."""
        total = 0
        for i, part in enumerate(self.parts):
            if i in self._sizes:
                n = self._sizes[i]
            else:
                n = count_upto(part, cap - total)
                if n <= cap - total:
                    self._sizes[i] = n
            total += n
            if total > cap:
                return cap + 1
        return total

    def exists(self) -> bool:
        return any(p.exists() for p in self.parts)

    def __bool__(self) -> bool:
        return self.exists()

    def __iter__(self):
        """Every row, part after part, each read through one cursor (`QuerySet.iterator`) in
        chunks of 2,000 that get their prefetches: linear, and bounded in memory (the export)."""
        for part in self.parts:
            it = part.iterator(chunk_size=2000)
            while rows := list(islice(it, 2000)):
                if self._prefetch:
                    prefetch_related_objects(rows, *self._prefetch)
                yield from rows

    def __getitem__(self, k):
        if isinstance(k, int):
            if k < 0:
                raise ValueError("Negative indexing is not supported.")
            head = self[k : k + 1]
            if not head:
                raise IndexError(k)
            return head[0]
        if k.step is not None or k.stop is None or (k.start or 0) < 0 or k.stop < 0:
            raise ValueError("Only slices [a:b] with 0 <= a are supported.")
        start, stop = k.start or 0, k.stop
        rows: list = []
        base = 0  # rows in the parts before this one
        for i, part in enumerate(self.parts):
            if stop <= base:
                break
            lo, hi = max(0, start - base), stop - base
            got = [] if i in self._sizes and self._sizes[i] <= lo else list(part[lo:hi])
            rows += got
            if len(got) == hi - lo:
                break
            if got or lo == 0:  # the part ended within the slice
                self._sizes[i] = lo + len(got)
            base += self._size(i)
        if self._prefetch:
            prefetch_related_objects(rows, *self._prefetch)
        return rows


def _sorted(fields) -> list:
    """An ordering whose `name_key` no index serves (see RankedResults); the same order."""
    if connection.vendor != "postgresql":
        return list(fields)
    name, sort = Collate(F("name_key"), "POSIX"), Collate(F("sort_key"), "POSIX")
    mapped = {"name_key": name.asc(), "-name_key": name.desc(), "sort_key": sort.asc(), "-sort_key": sort.desc()}
    return [mapped.get(f, f) if isinstance(f, str) else f for f in fields]


def count_upto(results, cap: int) -> int:
    """How many rows a queryset (or RankedResults) holds, or cap + 1 when more than `cap`:
    `SELECT count(*) FROM (SELECT … LIMIT cap + 1)`, without the ordering, which a count does
    not need (an exact count of a million rows costs about 100 ms, this one a few ms)."""
    if isinstance(results, RankedResults):
        return results.count_upto(cap)
    if cap < 0:
        return 0
    return results.order_by()[: cap + 1].count()


class NameTail(Func):
    """`ansinh_name_tail(name_key, n)`: the name without its first n words, NULL when it has no
    more words (PostgreSQL function of migration registry 0003, with a b-tree per n)."""

    function = "ansinh_name_tail"
    output_field = CharField()


NAME_TAILS = 4  # the b-tree indexed tails (registry migration 0003)


def _later_word_starts(qs: QuerySet[Beneficiary], key: str) -> QuerySet[Beneficiary]:
    """Names where a word after the first starts with `key`: `name_key LIKE '% key%'`.

    On PostgreSQL this is spelt as prefix searches of the name without its first 1..4 words,
    each served by a b-tree range scan, plus the trigram search for the few names of six words
    or more; a trigram search over every name costs far more at a million rows (the common
    trigrams of "nguyen thi …" match most of them)."""
    words = Q(name_key__contains=" " + key)
    if connection.vendor != "postgresql":
        return qs.filter(words)
    tails = {f"name_tail{n}": NameTail(F("name_key"), Value(n)) for n in range(1, NAME_TAILS + 2)}
    starts = [Q(**{f"name_tail{n}__startswith": key}) for n in range(1, NAME_TAILS + 1)]
    starts.append(Q(**{f"name_tail{NAME_TAILS + 1}__isnull": False}) & words)
    return qs.alias(**tails).filter(reduce(operator.or_, starts))


def _by_cccd(qs: QuerySet[Beneficiary], user, cccd: str) -> QuerySet[Beneficiary]:
    """A search by CCCD finds people only where the user may see CCCDs: elsewhere a hit would
    confirm a number the list shows masked."""
    return access.scope(qs.filter(cccd=cccd), user, Cap.REGISTRY_VIEW_CCCD, path_field="area_path")


def _e164(digits: str) -> str:
    if digits.startswith("84"):
        return "+" + digits
    if digits.startswith("0"):
        return "+84" + digits[1:]
    return "+84" + digits
