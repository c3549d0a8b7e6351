from django import template

from billing.selectors import format_money

register = template.Library()


@register.filter
def money(cents: int, currency: str = "usd") -> str:
    """Cents as a price: `{{ payment.amount_cents|money:payment.currency }}` -> $29.00."""
    return format_money(int(cents or 0), currency or "usd")
