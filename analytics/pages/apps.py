from django.apps import AppConfig


class PagesConfig(AppConfig):
    """CVD's own pages on a chain's domain: sign-in and the dashboards every role works in."""

    name = "analytics.pages"
    label = "pages"
    verbose_name = "Pages"
