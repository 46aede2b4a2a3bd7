"""Numbers and quantities in text, normalised so a restatement matches its source.

"two weeks" and "14 days", "$35" and "35 dollars", "48 hours" and "2 days", "half" and "50%",
"$2.1 million" and "$2,100,000", "2 hours 15 minutes" and "135 minutes", "7:05 pm" and "19:05"
are the same quantity; "30 days" and "30 hours" are not. Each quantity is a (dimension, value)
pair in base units; a bare number keeps the dimension "". A clock time is ("clock", minutes after
midnight), or ("clock12", minutes after midnight or noon) where the text does not say which; a
date is ("date", 100 x month + day): "02 November" is ("date", 1102.0); a rate ("per week",
"daily", "four days a week") is ("per time", 7.0).
"""

from __future__ import annotations

import re
from functools import lru_cache

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
    "twice": 2, "single": 1, "double": 2, "triple": 3, "half": 0.5, "quarter": 0.25,
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
_MAGNITUDES = {"hundred": 1e2, "thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_ONCE = r"\bonce(?=\s+(?:a|an|per|more|again|every|hourly|daily|nightly|weekly|monthly|yearly|annually)\b)"  # not "once it is in"
# [currency] number [range end] [magnitude] [business/calendar] [unit]; "a week", "an hour" count as one.
# A one-letter magnitude follows the digits directly ("$12k", "$2.1m"); "5 m" is five metres.
_QUANTITY = re.compile(
    rf"(?P<cur>[$€£])?\s?(?P<num>(?<![\w.])\d+(?:\.\d+)?|\b{_WORD_NUMBER}\b|\ban?\b|{_ONCE})(?:\s?(?:-|–|to)\s?(?P<end>\d+(?:\.\d+)?|{_WORD_NUMBER}))?"
    rf"(?:\s?(?P<mag>hundred|thousand|million|mn|billion|bn|trillion)\b|(?<=\d)(?P<short>[km])\b)?"
    rf"(?:\s?(?P<pct>%)|[\s-]?(?:(?:business|working|calendar|full|consecutive|paid|extra|more)\s)?(?P<unit>{_UNIT})s?\b)?",
    re.IGNORECASE,
)
_DIGIT_GROUPS = re.compile(r"(?<=\d),(?=\d{3}\b)")
# Fractions of a unit, rewritten as numbers: "half an hour" -> "0.5 hour", "a year and a half" -> "1.5 year".
_FRACTION_OF = re.compile(rf"\b(?:(?P<half>half)|(?:a\s+)?quarter(?:\s+of)?)\s+an?\s+(?P<unit>{_UNIT})\b", re.IGNORECASE)
_AND_A_HALF = re.compile(rf"\b(?P<num>\d+(?:\.\d+)?|{_WORD_NUMBER}|an?)(?P<unit>\s+{_UNIT}s?)?\s+and\s+a\s+half\b", re.IGNORECASE)
# Clock times: "19:05", "7:05 pm", "9.30am", "3pm", "8 o'clock", "half past nine", "quarter to ten".
_HOUR = r"(?:1[0-2]|0?[1-9]|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_CLOCK = re.compile(
    r"(?<![\d:.$€£])(?:(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?![\d:])(?:\s?(?P<ap>[ap])\.?m\b\.?)?"
    r"|(?P<h12>1[0-2]|0?[1-9])(?:\.(?P<m12>[0-5]\d))?\s?(?P<ap12>[ap])\.?m\b\.?"
    rf"|(?P<oclock>{_HOUR})\s+o'clock"
    rf"|(?P<part>half|quarter)\s+(?P<way>past|to)\s+(?P<of>{_HOUR})\b)",
    re.IGNORECASE,
)
_CLOCKS = ("clock", "clock12")
# Rates: "per week", "every month", "/night", "daily"; and "a week" right after a count ("four days a week", "£8 a
# night"). A rate is ("per time", days): a claimed rate is also given by a span of its length ("a fortnight" by
# "every two weeks", parsed as a span), but a claimed span is not given by a rate ("24 hours" by "£25 a day").
_RATE_ADVERBS = {"hourly": "hour", "daily": "day", "nightly": "night", "weekly": "week", "fortnightly": "fortnight",
                 "monthly": "month", "yearly": "year", "annually": "year", "annual": "year"}
_RATE = re.compile(rf"(?:\b(?:per|every)\s+|/\s?)(?!cents?\b)(?P<unit>{_UNIT})s?\b|\b(?P<adverb>{'|'.join(_RATE_ADVERBS)})\b", re.IGNORECASE)
_RATE_GAP = re.compile(r"\s*(?:(?!and\b|or\b|to\b|than\b)[a-z]+\s+){0,2}", re.IGNORECASE)  # "four days a week", "3 times a day", "two sailings a day"
_COMPOUND_GAP = re.compile(r"\s*(?:,\s*|and\s+)?")  # "2 hours 15 minutes", "1 hour and 30 minutes"


def _value(token: str) -> float | None:
    token = token.lower()
    if token[0].isdigit():
        return float(token)
    if token in ("a", "an", "once"):
        return 1.0
    head, _, tail = token.partition("-")
    if head not in NUMBER_WORDS:
        return None
    return NUMBER_WORDS[head] + (NUMBER_WORDS.get(tail, 0) if tail else 0)


def _rate(unit: str) -> tuple[str, float]:
    dimension, factor = _UNITS[unit.lower()]
    return f"per {dimension}", factor


def _clock(m: re.Match) -> tuple[float, tuple[str, float]]:
    """(hour.minutes as written, ("clock", minutes after midnight)); ("clock12", minutes after midnight or noon)
    where the text does not say which half of the day ("9:30", "half past nine"; "09:30" and "19:05" do)."""
    if m["part"]:
        hours = _value(m["of"]) or 0
        minutes = 30 if m["part"].lower() == "half" else 15 if m["way"].lower() == "past" else -15
    else:
        hours = _value(m["h"] or m["h12"] or m["oclock"]) or 0
        minutes = int(m["m"] or m["m12"] or 0)
    half = (m["ap"] or m["ap12"] or "").lower()
    if half == "p" and hours < 12:
        hours += 12
    elif half == "a" and hours == 12:
        hours = 0
    total = hours * 60 + minutes
    as_written = round(total // 60 + (total % 60) / 100, 2)
    if not half and hours <= 12 and not (m["h"] or "").startswith("0"):
        return as_written, ("clock12", float(total % 720))
    return as_written, ("clock", float(total))


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")
_MONTH = r"(?P<{}>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
# A day of the month is a date, not a number to count with: "02 November", "November 2nd", "the 3rd of May".
_DATE = re.compile(
    r"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH.format("month") + r"\b"
    r"|\b" + _MONTH.format("month2") + r"\s+(?P<day2>[0-3]?\d)(?:st|nd|rd|th)?\b(?![:.]\d)"
)  # months capitalised, as written: "you may 3D-print it" has no date


def _date(m: re.Match) -> tuple[float, tuple[str, float]]:
    day, month = int(m["day"] or m["day2"]), (m["month"] or m["month2"]).lower()[:3]
    return float(day), ("date", float(100 * (1 + [name[:3] for name in _MONTHS].index(month)) + day))


_CLOCK_HINT = re.compile(r":\d|o'clock|past|quarter to|\d\s?[ap]\.?m\b", re.IGNORECASE)
_RATE_HINTS = ("per ", "every ", "/", *_RATE_ADVERBS)


def _blanked(matches: list[re.Match], text: str) -> str:
    """The text with the matches' characters replaced by spaces: their digits are not numbers of their own."""
    for m in matches:
        text = text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]
    return text


Found = list[tuple[int, float, tuple[str, float] | None]]  # (position, value, quantity)


def _clocks_dates_and_rates(text: str) -> tuple[str, Found]:
    """Fractions rewritten as numbers, then clock times, dates and rates taken out of the text (their digits blanked)."""
    lowered = text.lower()  # cheap tests first: most sentences have no fraction, clock or rate
    if "half" in lowered or "quarter" in lowered:
        text = _FRACTION_OF.sub(lambda m: f"{0.5 if m['half'] else 0.25} {m['unit']}", text)
        text = _AND_A_HALF.sub(lambda m: f"{(_value(m['num']) or 0) + 0.5}{m['unit'] or ''}", text)
    clocks = list(_CLOCK.finditer(text)) if _CLOCK_HINT.search(text) else []
    found: Found = [(m.start(), *_clock(m)) for m in clocks]
    text = _blanked(clocks, text)
    dates = list(_DATE.finditer(text)) if any(month[:3].title() in text for month in _MONTHS) else []
    found += [(m.start(), *_date(m)) for m in dates]
    text = _blanked(dates, text)
    rates = list(_RATE.finditer(text)) if any(hint in lowered for hint in _RATE_HINTS) else []
    found += [(m.start(), 1.0, _rate(m["unit"] or _RATE_ADVERBS[m["adverb"].lower()])) for m in rates]
    return _blanked(rates, text), found


@lru_cache(maxsize=16_384)  # context sentences repeat across events
def quantities(text: str) -> tuple[tuple[float, tuple[str, float] | None], ...]:
    """Each number of the text: its value, and where it has a unit, currency, clock, date or rate, (dimension, value in
    base units), in the order written."""
    text, found = _clocks_dates_and_rates(_DIGIT_GROUPS.sub("", text))
    last_end, last_unit = -1, None  # where the previous quantity ended; its unit in days if it was a span of time
    for m in _QUANTITY.finditer(text):
        unit = m["unit"].lower() if m["unit"] else None
        magnitude = (m["mag"] or m["short"] or "").lower()
        if magnitude == "m" and not m["cur"]:
            magnitude, unit = "", "m"  # "5m" without a currency is five metres
        word = m["num"].lower()
        if word in ("a", "an") and not (unit or magnitude):
            continue  # the article, not a number
        if word in ("a", "an") and unit and last_end >= 0 and _RATE_GAP.fullmatch(text, last_end, m.start("num")):
            found.append((m.start(), 1.0, _rate(unit)))  # "four days a week"
            last_end, last_unit = m.end(), None
            continue
        if m["pct"]:
            dimension, factor = "pct", 1.0
        elif m["cur"]:
            dimension, factor = _CURRENCY[m["cur"]], 1.0
        else:
            dimension, factor = _UNITS.get(unit or "", ("", 1.0))
        scale = _MAGNITUDES.get(magnitude, 1.0)
        for token in (m["num"], m["end"]):
            value = _value(token) if token else None
            if value is None:
                continue
            value *= scale
            if dimension == "time" and last_unit is not None and factor < last_unit and _COMPOUND_GAP.fullmatch(text, last_end, m.start("num")):
                position, first, span = found.pop()  # "2 hours 15 minutes" is one span; "14 days, 9 days" two
                found.append((position, first, ("time", round(span[1] + value * factor, 6))))
            elif dimension:
                found.append((m.start(), round(value, 6), (dimension, round(value * factor, 6))))
            elif word == "half":
                found.append((m.start(), 0.5, ("pct", 50.0)))
            else:
                found.append((m.start(), round(value, 6), None))
        last_end, last_unit = m.end(), factor if dimension == "time" else None
    return tuple((value, quantity) for _, value, quantity in sorted(found, key=lambda f: f[0]))


@lru_cache(maxsize=16_384)
def context_quantities(text: str) -> tuple[frozenset[float], frozenset[tuple[str, float]]]:
    """The numbers a context gives, and its quantities in base units."""
    found = quantities(text)
    return frozenset(v for v, _ in found), frozenset(q for _, q in found if q)


def same_quantity(q: tuple[str, float], pool: frozenset[tuple[str, float]]) -> bool:
    """Equal, or for spans of a month or more within 2% (a month is 30 days, a year 360: "12 months"
    is "1 year", and so is "365 days"); "99.5%" is not "99.95%"; a clock time that does not say its half of the
    day equals both."""
    dimension, value = q
    if (dimension, value) in pool:
        return True
    if dimension.startswith("per ") and (dimension[4:], value) in pool:
        return True
    if dimension in _CLOCKS:  # "9:30" may be morning or evening; "7 pm" is not "7 am"
        return any(d in _CLOCKS and (v - value) % (720 if "clock12" in (d, dimension) else 1440) == 0 for d, v in pool)
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


def computed_numbers(claim: str, context: tuple[frozenset[float], frozenset[tuple[str, float]]], *, own_operands: bool = True) -> int:
    """How many of the claim's numbers the context does not give but computes: a sum or difference of two
    of its quantities of one dimension (or of two bare numbers, or years apart), one of them times or divided
    by a count ("two tickets", "ten hours", "twice"), a percentage of one, or a ratio ("twice as many";
    70% = 350 g of 500 g). The claim's own numbers are operands too ("£28 for two, so a return saves £4"),
    unless `own_operands` is False."""
    values, measured = context
    found = quantities(claim)
    # counts multiply or divide an operand: the claim's small whole numbers ("two tickets", "ten hours"; in a copy,
    # only those the context gives; not "3%", "02 November" or "9:00") and ratio words; 1 is not one (6 is not 6 x 1)
    counts = {v for v, q in found if 1 < v <= 12 and v == int(v) and (own_operands or v in values) and not (q and q[0] in ("pct", "date", *_CLOCKS))}
    counts |= {r for w, r in _RATIO_WORDS.items() if own_operands and re.search(rf"\b{w}\b", claim, re.IGNORECASE)}
    by_dimension: dict[str, list[float]] = {}
    for dimension, value in sorted(measured):
        by_dimension.setdefault(dimension, []).append(value)
    for _, quantity in found if own_operands else ():
        if quantity and quantity[1] not in by_dimension.get(quantity[0], []):
            by_dimension.setdefault(quantity[0], []).append(quantity[1])
    shares = [p / 100 for p in by_dimension.get("pct", [])]
    bare = sorted(v for v in values if v > 0)[:_MAX_OPERANDS]
    ratios = {a / b for a in bare for b in bare if a != b}
    clocks = [c for d in _CLOCKS for c in by_dimension.get(d, [])][:_MAX_OPERANDS]
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
            if dimension in _CLOCKS:  # a clock time plus or minus a span: "shuts three hours after the 8 o'clock start"
                pool = {(c + sign * t * 1440) % 720 for c in clocks for t in by_dimension.get("time", [])[:_MAX_OPERANDS] for sign in (1, -1)}
                value %= 720
            if dimension == "pct":
                pool |= {100 * r for r in ratios}
            if dimension == "time":  # years between two dates ("234 years" from 1773 and 2007), time between two clock
                # times (either may be on the other half of a 12-hour dial)
                pool |= {d * 360 for d in _pairs([v for v in bare if 1000 <= v <= 2200])}
                between = _pairs(clocks)
                pool |= {d / 1440 for d in between | {abs(720 - d) for d in between} | {1440 - d for d in between}}  # 23:40 to 02:15
                rates = by_dimension.get("per time", [])  # 20 lessons, two a week: 10 weeks
                pool |= {k * a for k in counts for a in rates} | {r * a for r in ratios for a in rates}
        computed += _close(value, pool)
    return computed
