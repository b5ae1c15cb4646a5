"""django.contrib.admin whose default site is the chain admin site (chains.admin_site)."""

from django.contrib.admin.apps import AdminConfig


class ChainAdminConfig(AdminConfig):
    default_site = "chains.admin_site.ChainAdminSite"
