"""API URLs of reporting: the caller's export jobs (the export itself is /api/analytics/export/)."""

from django.urls import path

from reporting import apis
from reporting.subscriptions import apis as subscriptions

urlpatterns: list = [
    path("exports/", apis.ExportJobListApi.as_view(), name="reporting-exports"),
    path("exports/<int:job_id>/", apis.ExportJobDetailApi.as_view(), name="reporting-export"),
    path("exports/<int:job_id>/download/", apis.ExportJobDownloadApi.as_view(), name="reporting-export-download"),
    path("subscriptions/", subscriptions.SubscriptionListApi.as_view(), name="reporting-subscriptions"),
    path("subscriptions/<int:subscription_id>/", subscriptions.SubscriptionDetailApi.as_view(), name="reporting-subscription"),
    path("subscriptions/<int:subscription_id>/pause/", subscriptions.SubscriptionPauseApi.as_view()),
    path("subscriptions/<int:subscription_id>/resume/", subscriptions.SubscriptionResumeApi.as_view()),
    path("subscriptions/<int:subscription_id>/send/", subscriptions.SubscriptionSendApi.as_view()),
    path("subscriptions/<int:subscription_id>/deliveries/", subscriptions.SubscriptionDeliveriesApi.as_view()),
    path("subscriptions/<int:subscription_id>/deliveries/<int:delivery_id>/download/",
         subscriptions.DeliveryDownloadApi.as_view()),
]
