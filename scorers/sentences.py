"""Split text into sentences: the unit a claim is checked in."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or a line break) followed by whitespace and an upper-case letter,
# digit or quote; common abbreviations and decimals do not end one.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9À-Ý])|\n+")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|Prof|Inc|Ltd|Co|No|approx|incl|St)\.$", re.IGNORECASE)


def split_sentences(text: str, *, min_chars: int = 3) -> list[str]:
    parts: list[str] = []
    carry = ""
    for piece in _BOUNDARY.split(text.strip()):
        piece = (carry + " " + piece).strip() if carry else piece.strip()
        if _ABBREVIATIONS.search(piece):
            carry = piece
            continue
        carry = ""
        if len(piece) >= min_chars:
            parts.append(piece)
    if carry:
        parts.append(carry)
    return parts
