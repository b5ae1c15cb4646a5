"""API URLs of the bookings app."""

from django.urls import path

from bookings.apis import BookingPushApi, FunnelEventPushApi

urlpatterns = [
    path("bookings/", BookingPushApi.as_view(), name="bookings-bookings"),
    path("funnel-events/", FunnelEventPushApi.as_view(), name="bookings-funnel-events"),
]
