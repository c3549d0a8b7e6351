from django.urls import path

from accounts import apis

urlpatterns = [
    path("me", apis.MeApi.as_view(), name="api-me"),
    path("credits/history", apis.CreditHistoryApi.as_view(), name="api-credits-history"),
    path("credits/rewards", apis.CreditRewardApi.as_view(), name="api-credits-rewards"),
]
