"""Administration of users, role assignments, organisation units and API tokens.

Every write made here is audited inside the admin's transaction, with the same action names
the services use (`accounts.user.created`, `accounts.role.assigned`, …). Role assignments are
revoked, never deleted; API tokens are created by their owner (web page or command) and only
revoked here."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ansinh.audit.services import record, snapshot

from . import access, services
from .models import ApiToken, OrgUnit, Responsibility, RoleAssignment, User

admin.site.site_header = _("Ansinh administration")
admin.site.site_title = _("Ansinh administration")
admin.site.index_title = _("System administration")

USER_FIELDS = ["username", "full_name", "email", "phone", "is_active", "is_staff", "is_superuser"]


def _diff(before: dict, after: dict) -> tuple[dict, dict]:
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _user_state(user: User) -> dict:
    state = snapshot(user, USER_FIELDS)
    state["groups"] = sorted(user.groups.values_list("name", flat=True))
    state["user_permissions"] = sorted(user.user_permissions.values_list("codename", flat=True))
    return state


def _assignment_state(assignment: RoleAssignment) -> dict:
    return {
        "user": assignment.user.username,
        "role": assignment.role,
        "area": assignment.area.code or assignment.area.name,
        "org_unit": assignment.org_unit_id,
        "valid_from": assignment.valid_from,
        "valid_to": assignment.valid_to,
    }


class RoleAssignmentForm(forms.ModelForm):
    revoke = forms.BooleanField(
        label=_("Revoke"), required=False, help_text=_("Ends this role now; it stays in the history.")
    )

    class Meta:
        model = RoleAssignment
        fields = ["role", "area", "org_unit", "valid_from", "valid_to"]


class RoleAssignmentInline(admin.TabularInline):
    """Active assignments of a user. Revoked ones are listed under Role assignments."""

    model = RoleAssignment
    form = RoleAssignmentForm
    fields = ["role", "area", "org_unit", "valid_from", "valid_to", "revoke"]
    autocomplete_fields = ["area", "org_unit"]
    extra = 0
    can_delete = False
    verbose_name = _("active role")
    verbose_name_plural = _("active roles")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(revoked_at__isnull=True).select_related("area", "org_unit")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (
            _("Permissions"),
            {
                "fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions"),
                "description": _(
                    "What a user sees and does in the application comes from their roles below. "
                    "“Staff status” only opens this administration; give it to system administrators."
                ),
            },
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "phone",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    list_display = ["username", "full_name", "phone", "roles", "is_active", "is_staff", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "assignments__role"]
    search_fields = ["username", "full_name", "email", "phone"]
    ordering = ["username"]
    inlines = [RoleAssignmentInline]

    def get_queryset(self, request):
        active = RoleAssignment.objects.active().select_related("area")
        return super().get_queryset(request).prefetch_related(Prefetch("assignments", queryset=active))

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return "; ".join(f"{a.get_role_display()} — {a.area}" for a in obj.assignments.all())

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    # --- audited writes -------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        request._audit_user_before = _user_state(User.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        before = getattr(request, "_audit_user_before", None)
        if not change:
            record(actor=request.user, action="accounts.user.created", obj=user, after=_user_state(user))
            return
        old, new = _diff(before or {}, _user_state(user))
        if new or old:
            record(actor=request.user, action="accounts.user.changed", obj=user, before=old, after=new)

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        originals = RoleAssignment.objects.select_related("user", "area").in_bulk(
            [f.instance.pk for f in formset.initial_forms if f.instance.pk]
        )
        instances = formset.save(commit=False)
        for assignment in instances:
            is_new = assignment.pk is None
            assignment.save()
            if is_new:
                record(
                    actor=request.user,
                    action="accounts.role.assigned",
                    obj=assignment,
                    area=assignment.area,
                    after=_assignment_state(assignment),
                )
                continue
            old, new = _diff(_assignment_state(originals[assignment.pk]), _assignment_state(assignment))
            if old or new:
                record(
                    actor=request.user,
                    action="accounts.role.changed",
                    obj=assignment,
                    area=assignment.area,
                    before=old,
                    after=new,
                )
        for inline_form in formset.initial_forms:
            if getattr(inline_form, "cleaned_data", {}).get("revoke") and inline_form.instance.pk:
                services.revoke_role(actor=request.user, assignment=inline_form.instance)
        access.forget(form.instance)

    def delete_model(self, request, obj):
        with transaction.atomic():
            record(actor=request.user, action="accounts.user.deleted", obj=obj, before=_user_state(obj))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for user in queryset:
                record(actor=request.user, action="accounts.user.deleted", obj=user, before=_user_state(user))
            super().delete_queryset(request, queryset)

    def user_change_password(self, request, id, form_url=""):
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            changed = request.method == "POST" and response.status_code == 302
            if changed and response.url != request.get_full_path():
                user = User.objects.get(pk=unquote(id))
                record(
                    actor=request.user,
                    action="accounts.user.password_changed",
                    obj=user,
                    after={"login_enabled": user.has_usable_password()},
                )
        return response


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    """Every assignment, revoked ones included. Assign roles on the user's page; revoke here or there."""

    list_display = ["user", "role", "area", "org_unit", "valid_from", "valid_to", "revoked_at", "created_at"]
    list_filter = ["role", ("revoked_at", admin.EmptyFieldListFilter), "area__tree", "area__level"]
    search_fields = ["user__username", "user__full_name", "area__name", "area__code"]
    list_select_related = ["user", "area", "org_unit"]
    readonly_fields = [
        "user",
        "role",
        "area",
        "org_unit",
        "valid_from",
        "valid_to",
        "revoked_at",
        "created_at",
    ]
    actions = ["revoke"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected role assignments"))
    def revoke(self, request, queryset):
        count = 0
        with transaction.atomic():
            for assignment in queryset.filter(revoked_at__isnull=True).select_related("user", "area"):
                services.revoke_role(actor=request.user, assignment=assignment)
                count += 1
        self.message_user(
            request,
            ngettext("%(count)d role assignment revoked.", "%(count)d role assignments revoked.", count)
            % {"count": count},
            messages.SUCCESS,
        )


class ResponsibilityInline(admin.TabularInline):
    model = Responsibility
    fields = ["function", "area", "valid_from", "valid_to"]
    autocomplete_fields = ["area"]
    extra = 0


@admin.register(OrgUnit)
class OrgUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "area", "active"]
    list_filter = ["kind", "active", "area__tree"]
    search_fields = ["name", "short_name", "area__name", "area__code"]
    list_select_related = ["area"]
    autocomplete_fields = ["area"]
    inlines = [ResponsibilityInline]

    def save_model(self, request, obj, form, change):
        before = snapshot(OrgUnit.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        old, new = _diff(before, snapshot(obj))
        if not change:
            record(actor=request.user, action="accounts.orgunit.created", obj=obj, area=obj.area, after=new)
        elif new or old:
            record(
                actor=request.user,
                action="accounts.orgunit.changed",
                obj=obj,
                area=obj.area,
                before=old,
                after=new,
            )

    def save_formset(self, request, form, formset, change):
        originals = Responsibility.objects.in_bulk([f.instance.pk for f in formset.initial_forms if f.instance.pk])
        instances = formset.save(commit=False)
        for resp in formset.deleted_objects:
            record(
                actor=request.user,
                action="accounts.responsibility.deleted",
                obj=resp,
                area=resp.area,
                before=snapshot(resp),
            )
            resp.delete()
        for resp in instances:
            is_new = resp.pk is None
            resp.save()
            if is_new:
                action, (old, new) = "accounts.responsibility.assigned", ({}, snapshot(resp))
            else:
                action, (old, new) = (
                    "accounts.responsibility.changed",
                    _diff(snapshot(originals[resp.pk]), snapshot(resp)),
                )
                if not (old or new):
                    continue
            record(actor=request.user, action=action, obj=resp, area=resp.area, before=old or None, after=new)

    def delete_model(self, request, obj):
        with transaction.atomic():
            record(
                actor=request.user,
                action="accounts.orgunit.deleted",
                obj=obj,
                area=obj.area,
                before=snapshot(obj),
            )
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for unit in queryset.select_related("area"):
                record(
                    actor=request.user,
                    action="accounts.orgunit.deleted",
                    obj=unit,
                    area=unit.area,
                    before=snapshot(unit),
                )
            super().delete_queryset(request, queryset)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: only the hash is stored. Tokens are revoked through the service."""

    list_display = ["key_prefix", "user", "name", "created_at", "last_used_at", "expires_at", "status"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["key_prefix", "user__username", "user__full_name", "name"]
    list_select_related = ["user"]
    readonly_fields = [
        "user",
        "name",
        "key_prefix",
        "key_hash",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("status"))
    def status(self, obj: ApiToken) -> str:
        if obj.revoked_at:
            return str(_("revoked"))
        if obj.expires_at and obj.expires_at <= timezone.now():
            return str(_("expired"))
        return str(_("active"))

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset):
        count = 0
        with transaction.atomic():
            for token in queryset.filter(revoked_at__isnull=True).select_related("user"):
                services.revoke_api_token(actor=request.user, token=token)
                count += 1
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
