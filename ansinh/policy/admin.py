"""Admin for policy data. Every save and delete goes through the audited services
(`policy.<model>.changed` with before/after); each change form shows the object's audit history.
Sources and confidence labels are shown in every list. Changing policy needs the Django model
permission and the `policy.manage` capability."""

from django.contrib import admin
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.audit.services import history
from ansinh.core.money import format_vnd

from .models import Category, CoefficientRule, FixedAmount, Programme, StandardLevel
from .services import delete_audited, save_audited

HISTORY_LIMIT = 50


class AuditedPolicyAdmin(admin.ModelAdmin):
    readonly_fields = ("history",)
    list_per_page = 100

    # -- permissions --
    def _may_manage(self, request) -> bool:
        return access.has_cap(request.user, Cap.POLICY_MANAGE)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request)

    # -- audited writes --
    def save_model(self, request, obj, form, change):
        save_audited(actor=request.user, obj=obj)

    def delete_model(self, request, obj):
        delete_audited(actor=request.user, obj=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                delete_audited(actor=request.user, obj=obj)

    # -- layout --
    def get_fieldsets(self, request, obj=None):
        fields = [f for f in self.get_fields(request, obj) if f != "history"]
        fieldsets = [(None, {"fields": fields})]
        if obj is not None:
            fieldsets.append((_("History"), {"fields": ["history"], "classes": ["collapse"]}))
        return fieldsets

    @admin.display(description=_("history"))
    def history(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        events = list(history(obj)[:HISTORY_LIMIT])
        if not events:
            return _("No recorded changes.")
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{event.at:%Y-%m-%d %H:%M}",
                    event.actor_label,
                    event.action,
                    "; ".join(f"{key}: {before!s} → {after!s}" for key, before, after in event.changed_fields()),
                )
                for event in events
            ),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("time"),
            _("actor"),
            _("action"),
            _("changes"),
            rows,
        )

    @admin.display(description=_("source"), ordering="source")
    def source_link(self, obj):
        source = obj.source or ""
        if source.startswith(("http://", "https://")):
            return format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', source, _("link"))
        return source or "—"


@admin.register(Programme)
class ProgrammeAdmin(AuditedPolicyAdmin):
    list_display = ("code", "name_vi", "name_en", "legal_basis", "owner_note")
    search_fields = ("code", "name_vi", "name_en")


@admin.register(Category)
class CategoryAdmin(AuditedPolicyAdmin):
    list_display = (
        "code",
        "programme",
        "clause",
        "name_vi",
        "basis",
        "kind",
        "sensitive",
        "legal_basis",
        "source_link",
        "confidence",
    )
    list_filter = ("programme", "basis", "kind", "sensitive", "confidence")
    list_select_related = ("programme",)
    search_fields = ("code", "name_vi", "name_en", "clause")


class EffectiveDatedAdmin(AuditedPolicyAdmin):
    date_hierarchy = "effective_from"

    @admin.display(description=_("province"), ordering="province__name")
    def province_or_national(self, obj):
        return obj.province.full_name if obj.province_id else _("national")


@admin.register(StandardLevel)
class StandardLevelAdmin(EffectiveDatedAdmin):
    list_display = (
        "programme",
        "amount_vnd",
        "effective_from",
        "effective_to",
        "province_or_national",
        "legal_basis",
        "source_link",
        "confidence",
    )
    list_filter = ("programme", "confidence", ("province", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("programme", "province")
    search_fields = ("legal_basis", "source", "note")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_vnd(self, obj):
        return format_vnd(obj.amount)


@admin.register(CoefficientRule)
class CoefficientRuleAdmin(EffectiveDatedAdmin):
    list_display = (
        "category",
        "value",
        "condition",
        "age_from",
        "age_to",
        "per_unit",
        "effective_from",
        "effective_to",
        "province_or_national",
        "legal_basis",
        "source_link",
        "confidence",
    )
    list_filter = ("category__programme", "confidence", ("province", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("category", "category__programme", "province")
    search_fields = ("category__code", "condition", "legal_basis")


@admin.register(FixedAmount)
class FixedAmountAdmin(EffectiveDatedAdmin):
    list_display = (
        "category",
        "key",
        "amount_vnd",
        "supplement_vnd",
        "effective_from",
        "effective_to",
        "province_or_national",
        "legal_basis",
        "source_link",
        "confidence",
    )
    list_filter = ("category__programme", "confidence", ("province", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("category", "category__programme", "province")
    search_fields = ("category__code", "key", "legal_basis")

    @admin.display(description=_("amount"), ordering="amount")
    def amount_vnd(self, obj):
        return format_vnd(obj.amount)

    @admin.display(description=_("supplement"), ordering="supplement")
    def supplement_vnd(self, obj):
        return format_vnd(obj.supplement) if obj.supplement else "—"
