"""Numbers and quantities in text, normalised so a restatement matches its source.

"two weeks" and "14 days", "$35" and "35 dollars", "48 hours" and "2 days", "half" and "50%"
are the same quantity; "30 days" and "30 hours" are not. Each quantity is a (dimension, value)
pair in base units; a bare number keeps the dimension "".
"""

from __future__ import annotations

import re
from functools import lru_cache

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    "once": 1, "twice": 2, "single": 1, "double": 2, "triple": 3, "half": 0.5, "quarter": 0.25,
}
_UNITS = {  # unit word -> (dimension, factor to the base unit)
    "second": ("time", 1 / 86400), "sec": ("time", 1 / 86400), "minute": ("time", 1 / 1440), "min": ("time", 1 / 1440),
    "hour": ("time", 1 / 24), "hr": ("time", 1 / 24), "h": ("time", 1 / 24), "day": ("time", 1), "night": ("time", 1),
    "week": ("time", 7), "fortnight": ("time", 14), "month": ("time", 30), "year": ("time", 360), "yr": ("time", 360),
    "dollar": ("usd", 1), "usd": ("usd", 1), "buck": ("usd", 1), "cent": ("usd", 0.01), "euro": ("eur", 1), "eur": ("eur", 1),
    "pound": ("gbp", 1), "gbp": ("gbp", 1), "percent": ("pct", 1), "per cent": ("pct", 1), "pct": ("pct", 1),
    "kb": ("bytes", 1e-3), "mb": ("bytes", 1), "gb": ("bytes", 1e3), "tb": ("bytes", 1e6),
    "km": ("m", 1000), "kilometre": ("m", 1000), "kilometer": ("m", 1000), "metre": ("m", 1), "meter": ("m", 1), "m": ("m", 1),
    "mile": ("m", 1609), "kg": ("g", 1000), "kilogram": ("g", 1000), "gram": ("g", 1), "g": ("g", 1),
}
_CURRENCY = {"$": "usd", "€": "eur", "£": "gbp"}
_WORD_NUMBER = r"(?:" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")(?:-(?:one|two|three|four|five|six|seven|eight|nine))?"
_UNIT = r"(?:" + "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True)) + r")"
# [currency] number [range end] [business/calendar] [unit]; "a week", "an hour" count as one.
_QUANTITY = re.compile(
    rf"(?P<cur>[$€£])?\s?(?P<num>(?<![\w.])\d+(?:\.\d+)?|\b{_WORD_NUMBER}\b|\ban?\b)(?:\s?(?:-|–|to)\s?(?P<end>\d+(?:\.\d+)?|{_WORD_NUMBER}))?"
    rf"(?:\s?(?P<pct>%)|[\s-]?(?:(?:business|working|calendar|full|consecutive|paid|extra|more)\s)?(?P<unit>{_UNIT})s?\b)?",
    re.IGNORECASE,
)


def _value(token: str) -> float | None:
    token = token.lower()
    if token[0].isdigit():
        return float(token)
    if token in ("a", "an"):
        return 1.0
    head, _, tail = token.partition("-")
    if head not in NUMBER_WORDS:
        return None
    return NUMBER_WORDS[head] + (NUMBER_WORDS.get(tail, 0) if tail else 0)


@lru_cache(maxsize=16_384)  # context sentences repeat across events
def quantities(text: str) -> tuple[tuple[float, tuple[str, float] | None], ...]:
    """Each number of the text: its value, and where it has a unit or currency, (dimension, value in base units)."""
    found: list[tuple[float, tuple[str, float] | None]] = []
    for m in _QUANTITY.finditer(text.replace(",", "")):
        unit = m["unit"].lower() if m["unit"] else None
        word = m["num"].lower()
        if word in ("a", "an") and not unit:
            continue  # the article, not a number
        if m["pct"]:
            dimension, factor = "pct", 1.0
        elif m["cur"]:
            dimension, factor = _CURRENCY[m["cur"]], 1.0
        else:
            dimension, factor = _UNITS.get(unit or "", ("", 1.0))
        for token in (m["num"], m["end"]):
            value = _value(token) if token else None
            if value is None:
                continue
            if dimension:
                found.append((round(value, 6), (dimension, round(value * factor, 6))))
            elif word == "half":
                found.append((0.5, ("pct", 50.0)))
            else:
                found.append((round(value, 6), None))
    return tuple(found)


@lru_cache(maxsize=16_384)
def context_quantities(text: str) -> tuple[frozenset[float], frozenset[tuple[str, float]]]:
    """The numbers a context gives, and its quantities in base units."""
    found = quantities(text)
    return frozenset(v for v, _ in found), frozenset(q for _, q in found if q)


def same_quantity(q: tuple[str, float], pool: frozenset[tuple[str, float]]) -> bool:
    """Equal, or for spans of a month or more within 2% (a month is 30 days, a year 360: "12 months"
    is "1 year", and so is "365 days"); "99.5%" is not "99.95%"."""
    dimension, value = q
    if (dimension, value) in pool:
        return True
    return dimension == "time" and value >= 28 and any(d == "time" and abs(v - value) <= 0.02 * max(v, value) for d, v in pool)


def number_checks(claim: str, context: tuple[frozenset[float], frozenset[tuple[str, float]]]) -> tuple[int, int, int]:
    """(numbers in the claim, numbers the context does not give (a quantity: not as the same quantity),
    of those the ones whose number the context has in another unit: "30 hours" where it says "30 days")."""
    values, measured = context
    unmatched = mismatched = 0
    found = quantities(claim)
    for value, quantity in found:
        if quantity is None:
            unmatched += value not in values
        elif not same_quantity(quantity, measured):
            unmatched += 1  # "7 days" is not supported by "7 years"
            mismatched += value in values
    return len(found), unmatched, mismatched



# --- numbers computed from the context's numbers ------------------------------------------------
# "Two singles cost £28, so a return saves you £4" states numbers the context never gives, but each
# is a sum, difference, multiple, share or ratio of numbers it does give. The caller decides where
# this applies: a changed number in an otherwise copied sentence is a changed fact, not a computation
# ("within 7 days" where the context says 14 is not "half of 14").
_RATIO_WORDS = {"twice": 2.0, "double": 2.0, "triple": 3.0, "half": 0.5, "third": 1 / 3, "quarter": 0.25}
_MAX_OPERANDS = 16  # bounds the pairs: a context rarely computes with more
_TOLERANCE = 0.01  # relative: "about £79" for two thirds of £119


def _close(value: float, pool: set[float]) -> bool:
    return any(abs(value - p) <= _TOLERANCE * max(abs(value), abs(p)) + 1e-9 for p in pool)


def _pairs(values: list[float]) -> set[float]:
    out: set[float] = set()
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            out |= {a + b, abs(a - b)}
    return out


def computed_numbers(claim: str, context: tuple[frozenset[float], frozenset[tuple[str, float]]]) -> int:
    """How many of the claim's numbers the context does not give but computes: a sum or difference of two
    of its quantities of one dimension (or of two bare numbers, or years apart), one of them times or divided
    by a count ("two tickets", "ten hours", "twice"), a percentage of one, or a ratio ("twice as many";
    70% = 350 g of 500 g). The claim's own numbers are operands too: "£28 for two, so a return saves £4"."""
    values, measured = context
    found = quantities(claim)
    counts = {v for v, _ in found if 0 < v <= 12 and v == int(v)}
    counts |= {r for w, r in _RATIO_WORDS.items() if re.search(rf"\b{w}\b", claim, re.IGNORECASE)}
    by_dimension: dict[str, list[float]] = {}
    for dimension, value in sorted(measured):
        by_dimension.setdefault(dimension, []).append(value)
    for _, quantity in found:
        if quantity and quantity[1] not in by_dimension.get(quantity[0], []):
            by_dimension.setdefault(quantity[0], []).append(quantity[1])
    shares = [p / 100 for p in by_dimension.get("pct", [])]
    bare = sorted(v for v in values if v > 0)[:_MAX_OPERANDS]
    ratios = {a / b for a in bare for b in bare if a != b}
    computed = 0
    for value, quantity in found:
        if quantity is None:
            if value in values:
                continue
            pool = _pairs(bare) | ratios | {k * a for k in counts for a in bare}
        else:
            dimension, value = quantity
            if same_quantity(quantity, measured):
                continue
            operands = [v for v in by_dimension.get(dimension, []) if v != value][:_MAX_OPERANDS]
            pool = _pairs(operands) | {k * a for k in counts for a in operands} | {a / k for k in counts for a in operands}
            pool |= {s * a for s in shares for a in operands}
            if dimension == "pct":
                pool |= {100 * r for r in ratios}
            if dimension == "time":  # years between two dates: "234 years" from 1773 and 2007
                pool |= {d * 360 for d in _pairs([v for v in bare if 1000 <= v <= 2200])}
        computed += _close(value, pool)
    return computed
