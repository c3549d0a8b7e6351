from django.urls import path

from billing import apis

urlpatterns = [
    path("billing/packages", apis.CreditPackageListApi.as_view(), name="api-billing-packages"),
    path("billing/checkout", apis.CheckoutCreateApi.as_view(), name="api-billing-checkout"),
]
