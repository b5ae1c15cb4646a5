"""API URLs of the analytics app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
