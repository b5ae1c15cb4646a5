"""The platform admin (public schema): chains, domains, platform users; and the chain admin's users and tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db import connection, router
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.text import capfirst
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

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


class _ThisSchemaCollector(NestedObjects):
    """Collects what a deletion takes along, skipping models whose table this schema has not got.

    A platform user lives in the public schema, where the chains' tables (export jobs, subscriptions,
    alert rules …) do not exist; Django's collector would query them and fail. Nothing in the public
    schema can point at those tables, so there is nothing to collect there.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tables = set(connection.introspection.table_names())

    def related_objects(self, related_model: type[Model], related_fields: Any, objs: Any) -> QuerySet[Any]:
        if related_model._meta.db_table not in self._tables:
            return related_model._base_manager.none()
        return super().related_objects(related_model, related_fields, objs)


class PlatformUserAdmin(UserAdmin):
    """Platform users are deleted with the public schema's tables only (see _ThisSchemaCollector)."""

    def _collector(self, objs: Any) -> _ThisSchemaCollector:
        collector = _ThisSchemaCollector(using=router.db_for_write(User), origin=objs)
        collector.collect(objs)
        return collector

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        collector = self._collector(list(objs))
        deleted = collector.nested(lambda obj: f"{capfirst(obj._meta.verbose_name)}: {obj}")
        models: dict[Any, Any] = collector.model_objs  # keyed by model classes
        counts = {str(model._meta.verbose_name_plural): len(items) for model, items in models.items()}
        protected = [str(obj) for obj in collector.protected]
        return deleted, counts, set(), protected

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self._collector([obj]).delete()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        self._collector(list(queryset)).delete()


platform_site.register(User, PlatformUserAdmin)
platform_site.register(Group, GroupAdmin)


# --- The chain admin (admin.site, on a chain's domain): its users and their API tokens ----------------
# rest_framework.authtoken.admin and django.contrib.auth.admin (imported above, so their registrations
# have happened) registered TokenProxy and User on admin.site; these replace them.


class ChainUserAdmin(UserAdmin):
    """A chain Admin manages the chain's users, but cannot make or touch a superuser (the platform operator's)."""

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list[str]:  # type: ignore[override]
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_superuser")
        return fields

    def _guards_superuser(self, request: HttpRequest, obj: User | None) -> bool:
        return obj is not None and obj.is_superuser and not request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Changing a superuser's password or e-mail would be taking over the account.
        return not self._guards_superuser(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        return not self._guards_superuser(request, obj) and super().has_delete_permission(request, obj)


class ChainTokenAdmin(TokenAdmin):
    """Who has an API token and until when. Tokens are made by their owner only (/account/token/);
    an Admin may revoke (delete) one, never read (only digests are stored) or make one."""

    list_display = ("user", "created", "expires")
    fields = ("user", "created", "expires")
    readonly_fields = ("user", "created", "expires")
    list_filter = ()
    actions = None

    @admin.display(description="expires")
    def expires(self, obj: TokenProxy) -> Any:
        from chains.tokens import token_expires_at

        return token_expires_at(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TokenProxy | None = None) -> bool:
        return False


for _model, _admin in ((User, ChainUserAdmin), (TokenProxy, ChainTokenAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
