"""Forms of the staff admin pages. They only collect input; staff.services decides."""

from __future__ import annotations

import uuid

from django import forms

from staff.services import REASON_MAX_LENGTH


class ReasonField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            max_length=REASON_MAX_LENGTH,
            widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
            help_text="Required. The member sees it in their credit history; "
            "it is kept in the ledger and the audit log.",
            **kwargs,
        )


class RefundForm(forms.Form):
    """Refund one generation: everything left, or only the images ticked."""

    reason = ReasonField()
    images = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to refund every image not refunded yet.",
    )

    def __init__(self, *args, image_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["images"].choices = image_choices

    def image_ids(self) -> list[int] | None:
        chosen = self.cleaned_data.get("images") or []
        return [int(pk) for pk in chosen] or None


class BulkRefundForm(forms.Form):
    """The admin action: refund every selected generation in full, with one reason."""

    reason = ReasonField()


class AdjustForm(forms.Form):
    amount = forms.IntegerField(
        min_value=-1_000_000,
        max_value=1_000_000,
        help_text="Credits to add; a negative number takes credits away.",
    )
    reason = ReasonField()
    # One key per rendered form: submitting the same form twice adjusts once.
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)

    def clean_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("The adjustment must not be zero.")
        return amount


class MetricsRangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
