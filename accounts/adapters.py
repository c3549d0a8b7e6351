from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Lower-cases e-mail addresses so invitations match however a user types them."""

    def clean_email(self, email: str) -> str:
        return super().clean_email(email).strip().lower()
