"""API URLs of reporting: the caller's export jobs (the export itself is /api/analytics/export/)."""

from django.urls import path

from reporting import apis

urlpatterns: list = [
    path("exports/", apis.ExportJobListApi.as_view(), name="reporting-exports"),
    path("exports/<int:job_id>/", apis.ExportJobDetailApi.as_view(), name="reporting-export"),
    path("exports/<int:job_id>/download/", apis.ExportJobDownloadApi.as_view(), name="reporting-export-download"),
]
