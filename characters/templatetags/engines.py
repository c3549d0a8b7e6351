from django import template

from generation.registry import engine_label as _engine_label

register = template.Library()


@register.filter
def engine_label(name: str) -> str:
    return _engine_label(name or "")
