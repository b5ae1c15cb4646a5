"""The platform admin (public schema): chains and their domains, and platform users."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from chains.models import Chain, Domain


class PlatformAdminSite(admin.AdminSite):
    site_header = "CVD platform"
    site_title = "CVD platform"
    index_title = "Chains"


platform_site = PlatformAdminSite(name="platform")


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 1


@admin.register(Chain, site=platform_site)
class ChainAdmin(admin.ModelAdmin):
    list_display = ["name", "schema_name", "time_zone", "currency", "created_at"]
    search_fields = ["name", "schema_name"]
    list_filter = ["time_zone", "currency"]
    inlines = [DomainInline]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Renaming a schema would orphan its data.
        return ["schema_name"] if obj else []


@admin.register(Domain, site=platform_site)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "tenant", "is_primary"]
    search_fields = ["domain", "tenant__name"]
    autocomplete_fields = ["tenant"]


platform_site.register(User, UserAdmin)
platform_site.register(Group, GroupAdmin)
