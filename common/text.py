"""Names and descriptions people type: one rule for every app that stores them."""

from __future__ import annotations

import unicodedata

from common.errors import ApplicationError

# Bidirectional embeddings, overrides and isolates make text display as something other
# than what it is (a name that reads backwards, a file name that hides its extension).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\t")


def _has_hidden_characters(text: str, *, multiline: bool) -> bool:
    for char in text:
        if char in _BIDI_CONTROLS:
            return True
        if unicodedata.category(char) == "Cc" and not (multiline and char in _LINE_BREAKS):
            return True
    return False


def clean_text(
    value: object,
    *,
    label: str,
    limit: int,
    required_message: str | None = None,
    multiline: bool = False,
) -> str:
    """`value` stripped, or a 400 naming `label`: text only (not a number or a list), within
    `limit` characters, without control or direction-override characters (line breaks are
    allowed when `multiline`), and not blank when `required_message` is given. The error
    codes start with the label's last word: "name_required", "description_too_long"."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApplicationError(f"The {label} must be text.", code="invalid")
    text = value.strip()
    noun = label.split()[-1]
    if not text and required_message:
        raise ApplicationError(required_message, code=f"{noun}_required")
    if len(text) > limit:
        raise ApplicationError(
            f"The {label} is at most {limit} characters.", code=f"{noun}_too_long"
        )
    if _has_hidden_characters(text, multiline=multiline):
        raise ApplicationError(
            f"The {label} contains control or text-direction characters.", code="invalid"
        )
    return text
