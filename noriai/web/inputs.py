"""Text the API accepts: no lone surrogates anywhere, and names and labels without control or
bidirectional-override characters (which garble the operator's screen and the read-back, or hide what
a label really says).

``Text`` is for free text (a cancel reason: line breaks allowed); ``Label`` for names and labels.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Embedding, override and isolate controls (U+202A-202E, U+2066-2069) and the invisible marks that
# reorder text (U+200E, U+200F, U+061C).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def check_text(value: str, *, single_line: bool) -> str:
    for ch in value:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            raise ValueError("text contains a lone surrogate (not valid Unicode)")
        if ch in BIDI_CONTROLS:
            raise ValueError("text contains a bidirectional control character")
        if cat == "Cc" and (single_line or ch not in "\n\t"):
            raise ValueError("text contains a control character")
    return value


def _label(value: str) -> str:
    return check_text(value, single_line=True)


def _text(value: str) -> str:
    return check_text(value, single_line=False)


Label = Annotated[str, AfterValidator(_label)]
Text = Annotated[str, AfterValidator(_text)]
