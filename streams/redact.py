"""Mask personal data before it is scored or stored: e-mail addresses and payment card numbers.

Other digits stay: changed numbers are exactly what the faithfulness scorer must see.
"""

from __future__ import annotations

import re

from evalstream.producer import GenAIEvent

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CARD_CANDIDATE = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[CARD]" if _luhn_valid(digits) else match.group()


def redact_text(text: str) -> str:
    if "@" in text:
        text = EMAIL.sub("[EMAIL]", text)
    return CARD_CANDIDATE.sub(_mask_card, text)


def redact_event(event: GenAIEvent) -> GenAIEvent:
    context = [redact_text(p) for p in event.context] if event.context is not None else None
    return event.model_copy(
        update={"prompt": redact_text(event.prompt), "response": redact_text(event.response), "context": context}
    )
