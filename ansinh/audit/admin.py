"""The audit log in the administration: read-only (no add, change or delete)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_repr", "area"]
    list_filter = ["action", "object_type"]
    search_fields = ["action", "actor_label", "object_repr", "object_id", "area_path"]
    list_select_related = ["area"]
    date_hierarchy = "at"
    show_full_result_count = False
    fields = (
        "at",
        "actor",
        "actor_label",
        "api_token",
        "area",
        "area_path",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "before",
        "after",
        "note",
        "changes",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("changes"))
    def changes(self, obj: AuditEvent) -> str:
        return "; ".join(f"{k}: {b!r} → {a!r}" for k, b, a in obj.changed_fields())
