"""Administrative-unit tree. Both the pre-2025 three-level tree (province → district → commune)
and the two-level tree in force since 2025-07-01 (province → commune) are held side by side;
villages (thôn/khóm/ấp) hang under a commune and are created by users.

Every area carries a materialised `path` of ancestor ids ("/12/340/5678/") so that
"this area and everything below it" is one indexed prefix query on any database.
"""

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ansinh.core.text import search_key


class Level(models.TextChoices):
    PROVINCE = "province", _("Province")
    DISTRICT = "district", _("District")
    COMMUNE = "commune", _("Commune")
    VILLAGE = "village", _("Village")


class Tree(models.TextChoices):
    LEGACY = "legacy", _("Before 2025-07-01 (three levels)")
    CURRENT = "current", _("From 2025-07-01 (two levels)")


LEGACY_END = date(2025, 6, 30)
CURRENT_START = date(2025, 7, 1)


class AreaQuerySet(models.QuerySet):
    def valid_on(self, day: date) -> "AreaQuerySet":
        return self.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=day)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def below(self, area: "Area", include_self: bool = True) -> "AreaQuerySet":
        qs = self.filter(path__startswith=area.path)
        return qs if include_self else qs.exclude(pk=area.pk)


class Area(models.Model):
    tree = models.CharField(_("tree"), max_length=10, choices=Tree.choices, db_index=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, db_index=True)
    code = models.CharField(_("official code"), max_length=20, blank=True)
    name = models.CharField(_("name"), max_length=200)
    division_type = models.CharField(_("type"), max_length=60, blank=True, help_text=_("e.g. Phường, Xã, Thị xã"))
    name_key = models.CharField(max_length=200, editable=False, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(max_length=255, editable=False, db_index=True)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=255, blank=True)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(fields=["tree", "code"], condition=~Q(code=""), name="area_unique_code_per_tree"),
            models.UniqueConstraint(
                fields=["parent", "name_key"], condition=Q(level="village"), name="area_unique_village_name"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
                name="area_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args, **kwargs):
        self.name_key = search_key(self.name)
        super().save(*args, **kwargs)
        new_path = (self.parent.path if self.parent is not None else "/") + f"{self.pk}/"
        if new_path != self.path:
            self.path = new_path
            self.depth = new_path.count("/") - 2
            type(self).objects.filter(pk=self.pk).update(path=self.path, depth=self.depth)

    @property
    def full_name(self) -> str:
        return f"{self.division_type} {self.name}".strip() if self.division_type else self.name

    @property
    def audit_area(self) -> "Area":
        return self

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def ancestors(self, include_self: bool = True) -> models.QuerySet:
        ids = self.ancestor_ids()
        if not include_self:
            ids = ids[:-1]
        return Area.objects.filter(pk__in=ids).order_by("depth")

    def is_within(self, other: "Area") -> bool:
        return self.path.startswith(other.path)

    @property
    def province(self) -> "Area":
        if self.level == Level.PROVINCE:
            return self
        return Area.objects.get(pk=self.ancestor_ids()[0])

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or self.valid_to >= day)


class Share(models.TextChoices):
    WHOLE = "whole", _("Whole")
    PART = "part", _("Part")


class AreaSuccession(models.Model):
    """A pre-2025 commune → a commune of the tree in force from 2025-07-01 (the 2025
    resolutions of the Standing Committee of the National Assembly). A commune split between
    successors has several rows, each a part; `seat` marks the one that received its seat, where
    its villages go until an officer assigns them."""

    legacy = models.ForeignKey(
        Area, verbose_name=_("pre-2025 commune"), on_delete=models.PROTECT, related_name="successions"
    )
    successor = models.ForeignKey(
        Area, verbose_name=_("successor commune"), on_delete=models.PROTECT, related_name="predecessions"
    )
    share = models.CharField(_("share"), max_length=5, choices=Share.choices)
    seat = models.BooleanField(_("received the seat"), default=False)
    resolution = models.CharField(_("resolution"), max_length=60, blank=True)
    resolution_date = models.DateField(_("resolution date"), null=True, blank=True)
    note = models.TextField(_("source note"), blank=True)
    source = models.CharField(_("source"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("commune succession")
        verbose_name_plural = _("commune successions")
        ordering = ["legacy__code", "-seat", "successor__code"]
        constraints = [models.UniqueConstraint(fields=["legacy", "successor"], name="succession_unique_pair")]

    def __str__(self) -> str:
        return f"{self.legacy} → {self.successor}"


class VillageAssignment(models.Model):
    """A village of a commune split by the reform: the successor an officer assigned it to. Until
    then (`successor` empty) the village stays with the successor that received the seat and is
    listed for assignment."""

    village = models.OneToOneField(
        Area, verbose_name=_("village"), on_delete=models.PROTECT, related_name="reform_assignment"
    )
    legacy_commune = models.ForeignKey(
        Area, verbose_name=_("pre-2025 commune"), on_delete=models.PROTECT, related_name="+"
    )
    successor = models.ForeignKey(
        Area, verbose_name=_("successor commune"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)

    class Meta:
        verbose_name = _("village assignment")
        verbose_name_plural = _("village assignments")

    def __str__(self) -> str:
        return f"{self.village} → {self.successor or '?'}"


class ReformRun(models.Model):
    """One run of the reform transition for a pre-2025 province, with what it did and could not
    place (the transition is re-runnable; each run that changed something is kept)."""

    province = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="+")
    ran_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey("accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    report = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("reform transition run")
        verbose_name_plural = _("reform transition runs")
        ordering = ["-ran_at"]

    def __str__(self) -> str:
        return f"{self.province} ({self.ran_at:%Y-%m-%d})"
