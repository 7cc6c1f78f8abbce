from django.contrib import admin

from .models import Institution


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    """The maintained list of banks and wallets (loaded by `load_institutions`)."""

    list_display = ("name", "code", "bin", "kind", "number_min_length", "number_max_length", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "code", "bin")
