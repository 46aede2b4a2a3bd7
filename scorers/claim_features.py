"""Features of one claim against its context that expose a changed fact.

Embedding similarity sees the topic; these look at what a one-fact change alters: numbers
(with their units), dates, names, negation, and words that appear nowhere in the context,
each measured against the whole context and against the context sentence the claim aligns
with best (and its neighbours).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# The claim's cosine to its best match is used only to find that match: as a feature it taught
# the model "a near-copy is suspicious" (true of the hard set, false of real answers that
# quote their source), so that a verbatim quote was flagged.
FEATURES = (
    "numbers_not_in_context",
    "numbers_not_near_match",
    "has_number",
    "number_units_not_in_context",
    "dates_not_in_context",
    "names_not_in_context",
    "new_words_share",
    "new_words_near_match_share",
    "claim_negated",
    "match_negated",
    "negation_differs_from_match",
    "negation_differs_from_window",
    "claim_words",
)

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "hundred": 100, "half": 50,
}
NEGATION = re.compile(
    r"\b(not|no|never|none|nor|cannot|without|excluded?|except|neither|unless|only)\b|n't\b", re.IGNORECASE
)
DATE_WORDS = (
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday"
).split()
STOPWORDS = set(
    "the a an and or of to in on for with by at from is are was were be been it its this that these those as "
    "you your we our they their he she his her i can may will would should could must do does did has have had "
    "not no".split()
)


NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b")
DIGITS = re.compile(r"\d+(?:\.\d+)?")
NUMBER_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(%|[a-z£$€]+)")
NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]+")


def numbers(text: str) -> frozenset[str]:
    lowered = text.lower().replace(",", "")
    return frozenset(DIGITS.findall(lowered)) | {str(NUMBER_WORDS[w]) for w in NUMBER_WORD.findall(lowered)}


def number_units(text: str) -> set[tuple[str, str]]:
    return set(NUMBER_UNIT.findall(text.lower().replace(",", "")))


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence."""
    return {w.lower() for w in NAME.findall(text)} - {"yes", "no", "the"}


def content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z]+", text.lower()) if w not in STOPWORDS and len(w) > 2)


def negated(text: str) -> bool:
    return bool(NEGATION.search(text))


# Retrieved passages repeat across events, so the same context sentences and windows come back
# again and again: their facts are cached (bounded); a claim's are computed once, uncached.
context_numbers = lru_cache(maxsize=8_192)(numbers)
context_words = lru_cache(maxsize=8_192)(content_words)
context_negated = lru_cache(maxsize=8_192)(negated)


@dataclass(frozen=True)
class ContextFacts:
    """What the claims of one response are checked against, computed once per event."""

    premises: list[str]  # the context's sentences, in order
    lowered: str
    numbers: set[str]
    number_units: set[tuple[str, str]]
    words: set[str]
    content_words: set[str]

    @classmethod
    def of(cls, premises: list[str]) -> ContextFacts:
        text = " ".join(premises)
        return cls(
            premises, text.lower(), numbers(text), number_units(text),
            {w.lower() for w in re.findall(r"[A-Za-z]+", text)}, content_words(text),
        )


def claim_features(claim: str, context: ContextFacts, similarities: np.ndarray) -> list[float]:
    """`similarities`: the claim's cosine to each of the context's sentences."""
    best = int(np.argmax(similarities))
    match = context.premises[best]
    window = " ".join(context.premises[max(0, best - 1) : best + 2])
    claim_numbers = numbers(claim)
    claim_words = content_words(claim)
    lowered = claim.lower()
    claim_dates = {d for d in DATE_WORDS if d in lowered}
    claim_negated = negated(claim)
    match_negated = context_negated(match)
    return [
        len(claim_numbers - context.numbers),
        len(claim_numbers - context_numbers(window)),
        float(bool(claim_numbers)),
        len(number_units(claim) - context.number_units),
        len({d for d in claim_dates if d not in context.lowered}),
        len(names(claim) - context.words),
        len(claim_words - context.content_words) / max(len(claim_words), 1),
        len(claim_words - context_words(window)) / max(len(claim_words), 1),
        float(claim_negated),
        float(match_negated),
        float(claim_negated != match_negated),
        float(claim_negated != context_negated(window)),
        float(len(claim_words)),
    ]
