"""Administration of the area tree: search and filters; every write through the area services
(audited with before/after, the administrator as actor).

The official trees are loaded by command; here an administrator corrects names, codes and
validity. A unit's place in the tree (tree, level, parent) is fixed once created, because the
materialised paths of everything below it depend on it; a unit anything refers to is not
deleted (its validity is ended instead)."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ansinh.core.admin import ServiceWritesMixin, adopt
from ansinh.core.text import search_key

from . import services
from .models import Area


class AreaForm(forms.ModelForm):
    class Meta:
        model = Area
        fields = services.AREA_FIELDS

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.instance.pk is None and data.get("tree") and data.get("level"):
            try:
                services.check_place(data["tree"], data["level"], data.get("parent"))
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


class ChildInline(admin.TabularInline):
    model = Area
    fk_name = "parent"
    fields = ("name", "division_type", "level", "code")
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
class AreaAdmin(ServiceWritesMixin, admin.ModelAdmin):
    form = AreaForm
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
        values = {
            "name": obj.name,
            "code": obj.code,
            "division_type": obj.division_type,
            "valid_from": obj.valid_from,
            "valid_to": obj.valid_to,
            "source": obj.source,
        }
        if change:
            services.change_area(actor=request.user, area=obj, **values)
        else:
            area = services.create_area(actor=request.user, tree=obj.tree, level=obj.level, parent=obj.parent, **values)
            adopt(obj, area)

    def delete_model(self, request, obj):
        services.delete_area(actor=request.user, area=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for area in queryset.select_related("parent"):
                services.delete_area(actor=request.user, area=area)
