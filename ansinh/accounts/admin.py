"""Administration of users, groups, role assignments, organisation units and API tokens.

Every write made here calls a service of `ansinh.accounts.services` with the administrator as
the actor, so it is audited as every other write is (`accounts.user.changed` with before and
after, …) and obeys the same rules: role assignments are revoked, never rewritten or deleted; a
responsibility in force is ended, not deleted; a user or unit anything refers to is not deleted;
privileges are changed only by a superuser. API tokens are created by their owner (web page or
command) and only revoked here."""

from contextvars import ContextVar

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ansinh.core.admin import ServiceWritesMixin, adopt

from . import services
from .models import ApiToken, OrgUnit, Responsibility, RoleAssignment, User

admin.site.site_header = _("Ansinh administration")
admin.site.site_title = _("Ansinh administration")
admin.site.index_title = _("System administration")

PRIVILEGE_FIELDS = ["is_staff", "is_superuser", "groups", "user_permissions"]

# The administrator changing a password: the admin builds the password form with the user alone.
_password_actor: ContextVar = ContextVar("password_actor")


def _set_results(formset, new=(), changed=(), deleted=()) -> None:
    """What `formset.save()` would have left for the admin's change message."""
    formset.new_objects, formset.changed_objects, formset.deleted_objects = list(new), list(changed), list(deleted)


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    def save(self, commit=True):
        password = self.cleaned_data["password1"] if self.cleaned_data.get("set_usable_password", True) else None
        return services.set_user_password(actor=_password_actor.get(), user=self.user, password=password)


class RoleAssignmentForm(forms.ModelForm):
    revoke = forms.BooleanField(
        label=_("Revoke"), required=False, help_text=_("Ends this role now; it stays in the history.")
    )

    class Meta:
        model = RoleAssignment
        fields = ["role", "area", "org_unit", "valid_from", "valid_to"]

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.instance.pk and not data.get("revoke") and "role" in data and "area" in data:
            try:
                services.check_assignment_change(self.instance, role=data["role"], area=data["area"])
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


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
class UserAdmin(ServiceWritesMixin, DjangoUserAdmin):
    change_password_form = AuditedPasswordChangeForm
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

    # Privileges, and superusers, are a superuser's to change (the service refuses the rest);
    # the dates are the system's.
    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "last_login", "date_joined"]
        return fields if request.user.is_superuser else fields + PRIVILEGE_FIELDS

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    # --- writes, through the services ------------------------------------------------------

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            password = data.get("password1") if data.get("set_usable_password", True) else None
            user = services.create_user(
                actor=request.user,
                username=obj.username,
                full_name=obj.full_name,
                email=obj.email,
                phone=obj.phone,
                password=password,
            )
            adopt(obj, user)
            return
        services.update_user(
            actor=request.user,
            user=obj,
            changes={name: getattr(obj, name) for name in services.USER_FIELDS if name in form.fields},
            groups=data["groups"] if "groups" in form.fields else None,
            user_permissions=data["user_permissions"] if "user_permissions" in form.fields else None,
        )

    def save_related(self, request, form, formsets, change):
        # Groups and permissions were saved by update_user with the rest of the user.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        actor, user = request.user, form.instance
        new, changed = [], []
        for inline in formset.forms:
            data = getattr(inline, "cleaned_data", None)
            if not data:
                continue
            assignment = inline.instance
            if assignment.pk is None:
                if inline.has_changed():
                    new.append(
                        services.assign_role(
                            actor=actor,
                            user=user,
                            role=data["role"],
                            area=data["area"],
                            org_unit=data.get("org_unit"),
                            valid_from=data.get("valid_from"),
                            valid_to=data.get("valid_to"),
                        )
                    )
            elif data.get("revoke"):
                services.revoke_role(actor=actor, assignment=assignment)
                changed.append((assignment, ["revoked_at"]))
            elif inline.has_changed():
                services.change_role_assignment(
                    actor=actor,
                    assignment=assignment,
                    role=data["role"],
                    area=data["area"],
                    org_unit=data.get("org_unit"),
                    valid_from=data.get("valid_from"),
                    valid_to=data.get("valid_to"),
                )
                changed.append((assignment, inline.changed_data))
        _set_results(formset, new=new, changed=changed)

    def delete_model(self, request, obj):
        services.delete_user(actor=request.user, user=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for user in queryset:
                services.delete_user(actor=request.user, user=user)

    def user_change_password(self, request, id, form_url=""):
        token = _password_actor.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _password_actor.reset(token)


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ServiceWritesMixin, DjangoGroupAdmin):
    """Groups carry permissions for this administration: a superuser's to change."""

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        services.save_group(actor=request.user, group=obj, permissions=form.cleaned_data.get("permissions", []))

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request, obj):
        services.delete_group(actor=request.user, group=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for group in queryset:
                services.delete_group(actor=request.user, group=group)


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
    """Deleting a responsibility that has been in force ends it (its last day is yesterday);
    one that has not started yet is removed."""

    model = Responsibility
    fields = ["function", "area", "valid_from", "valid_to"]
    autocomplete_fields = ["area"]
    extra = 0


@admin.register(OrgUnit)
class OrgUnitAdmin(ServiceWritesMixin, admin.ModelAdmin):
    list_display = ["name", "short_name", "kind", "area", "active"]
    list_filter = ["kind", "active", "area__tree"]
    search_fields = ["name", "short_name", "area__name", "area__code"]
    list_select_related = ["area"]
    autocomplete_fields = ["area"]
    inlines = [ResponsibilityInline]

    def save_model(self, request, obj, form, change):
        values = {
            "kind": obj.kind,
            "name": obj.name,
            "short_name": obj.short_name,
            "area": obj.area,
            "active": obj.active,
        }
        if change:
            services.change_org_unit(actor=request.user, unit=obj, **values)
        else:
            adopt(obj, services.create_org_unit(actor=request.user, **values))

    def save_formset(self, request, form, formset, change):
        actor, unit = request.user, form.instance
        new, changed, deleted = [], [], []
        for inline in formset.forms:
            data = getattr(inline, "cleaned_data", None)
            if not data:
                continue
            resp = inline.instance
            if resp.pk is not None and data.get("DELETE"):
                if services.end_responsibility(actor=actor, responsibility=resp) is None:
                    deleted.append(resp)
                else:
                    changed.append((resp, ["valid_to"]))
            elif resp.pk is None:
                if inline.has_changed() and not data.get("DELETE"):
                    new.append(
                        services.assign_responsibility(
                            actor=actor,
                            org_unit=unit,
                            area=data["area"],
                            function=data["function"],
                            valid_from=data.get("valid_from"),
                            valid_to=data.get("valid_to"),
                        )
                    )
            elif inline.has_changed():
                services.change_responsibility(
                    actor=actor,
                    responsibility=resp,
                    area=data["area"],
                    function=data["function"],
                    valid_from=data.get("valid_from"),
                    valid_to=data.get("valid_to"),
                )
                changed.append((resp, inline.changed_data))
        _set_results(formset, new=new, changed=changed, deleted=deleted)

    def delete_model(self, request, obj):
        services.delete_org_unit(actor=request.user, unit=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for unit in queryset.select_related("area"):
                services.delete_org_unit(actor=request.user, unit=unit)


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
