"""Forms of the credits dashboard. They validate input only; the rules live in the services."""

from __future__ import annotations

import uuid

from django import forms

from credits.services import MAX_AMOUNT


def _fresh_key() -> str:
    return uuid.uuid4().hex


class _KeyedForm(forms.Form):
    """Carries a one-time key so a double-submitted form moves credits once."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=64, initial=_fresh_key)


class AllocateForm(_KeyedForm):
    user_id = forms.TypedChoiceField(coerce=int, label="Member")
    amount = forms.IntegerField(min_value=1, max_value=MAX_AMOUNT, label="Credits")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, prefix="allocate", **kwargs)
        self.fields["user_id"].choices = members


class ReassignForm(_KeyedForm):
    from_user_id = forms.TypedChoiceField(coerce=int, label="From")
    to_user_id = forms.TypedChoiceField(coerce=int, label="To")
    amount = forms.IntegerField(min_value=1, max_value=MAX_AMOUNT, label="Credits")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, prefix="reassign", **kwargs)
        self.fields["from_user_id"].choices = members
        self.fields["to_user_id"].choices = members
        if len(members) > 1:  # "from" and "to" must differ: start them on two people
            self.fields["to_user_id"].initial = members[1][0]

    def clean(self):
        data = super().clean()
        if data.get("from_user_id") and data.get("from_user_id") == data.get("to_user_id"):
            self.add_error("to_user_id", "Choose two different members.")
        return data


class DistributeForm(_KeyedForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="distribute", **kwargs)
