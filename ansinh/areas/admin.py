"""Administration of the area tree: search and filters, audited edits.

The official trees are loaded by command; here an administrator corrects names, codes and
validity. A unit's place in the tree (tree, level, parent) is fixed once created, because the
materialised paths of everything below it depend on it."""

from django.contrib import admin
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ansinh.audit.services import record, snapshot
from ansinh.core.text import search_key

from .models import Area

AUDITED_FIELDS = [
    "tree",
    "level",
    "code",
    "name",
    "division_type",
    "parent",
    "valid_from",
    "valid_to",
    "source",
]


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


class ChildInline(admin.TabularInline):
    model = Area
    fk_name = "parent"
    fields = ["name", "division_type", "level", "code"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name = _("unit below")
    verbose_name_plural = _("units below")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("name_key")


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["__str__", "level", "code", "tree", "parent", "valid_from", "valid_to"]
    list_filter = ["tree", "level", "division_type"]
    search_fields = ["name", "name_key", "code"]
    list_select_related = ["parent"]
    ordering = ["path"]
    autocomplete_fields = ["parent"]
    list_per_page = 100
    show_full_result_count = False
    inlines = [ChildInline]

    def get_search_results(self, request, queryset, search_term):
        """Accent-free name search ("chau doc" finds "Châu Đốc") or an exact official code."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(Q(name_key__contains=search_key(term)) | Q(code=term)), False

    def get_readonly_fields(self, request, obj=None):
        fixed = ["path", "depth"]
        return [*fixed, "tree", "level", "parent"] if obj is not None else fixed

    def save_model(self, request, obj, form, change):
        before = snapshot(Area.objects.get(pk=obj.pk), AUDITED_FIELDS) if change else {}
        super().save_model(request, obj, form, change)
        old, new = _diff(before, snapshot(obj, AUDITED_FIELDS))
        if not change:
            record(actor=request.user, action="areas.area.created", obj=obj, area=obj, after=new)
        elif old or new:
            record(actor=request.user, action="areas.area.changed", obj=obj, area=obj, before=old, after=new)

    def delete_model(self, request, obj):
        with transaction.atomic():
            record(
                actor=request.user,
                action="areas.area.deleted",
                obj=obj,
                area=obj.parent,
                before=snapshot(obj, AUDITED_FIELDS),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for area in queryset.select_related("parent"):
                record(
                    actor=request.user,
                    action="areas.area.deleted",
                    obj=area,
                    area=area.parent,
                    before=snapshot(area, AUDITED_FIELDS),
                )
            super().delete_queryset(request, queryset)
