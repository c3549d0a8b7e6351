from allauth.account.signals import user_signed_up
from django.dispatch import receiver

from accounts.services import user_onboard


@receiver(user_signed_up, dispatch_uid="accounts.onboard")
def _onboard_new_user(sender, request, user, **kwargs) -> None:
    user_onboard(user=user)
