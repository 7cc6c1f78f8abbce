"""Admin for policy data. Every save and delete goes through the audited services
(`policy.<model>.changed` with before/after); each change form shows the object's audit history.
Sources and confidence labels are shown in every list. Changing policy needs the Django model
permission and the `policy.manage` capability in the province of the row (national rows,
programmes and categories: global administrators), as `services.can_manage` decides."""

from django.contrib import admin
from django.db import transaction
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ansinh.accounts import access
from ansinh.accounts.roles import Cap
from ansinh.areas.models import Level
from ansinh.audit.services import history
from ansinh.core.money import format_vnd

from .models import Category, CoefficientRule, FixedAmount, Programme, StandardLevel
from .services import can_manage, delete_audited, province_of, save_audited

HISTORY_LIMIT = 50


class AuditedPolicyAdmin(admin.ModelAdmin):
    readonly_fields = ("history",)
    list_per_page = 100

    # -- permissions: the services' rule (`can_manage`), for the row's own province --
    national_only = True  # programmes and categories: no province, global administrators only

    def _may_manage(self, request, obj=None) -> bool:
        if obj is not None:
            return can_manage(request.user, province_of(obj))
        if self.national_only:
            return can_manage(request.user, None)
        return access.has_cap(request.user, Cap.POLICY_MANAGE)

    def has_add_permission(self, request):
        return super().has_add_permission(request) and self._may_manage(request)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)

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
    national_only = False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        """A user who is not a global administrator chooses among the provinces where they hold
        `policy.manage`, and must choose one (national values are not theirs)."""
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "province" and not access.is_global(request.user):
            field.queryset = access.areas_for(request.user, Cap.POLICY_MANAGE).filter(level=Level.PROVINCE)
            field.required = True
        return field

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
