"""Evidence about one claim against its context, each piece with a known direction.

`AGAINST` features can only be evidence that the claim is unsupported: a number, unit, date or
name the context does not give, words it never uses, a polarity or qualifier that differs from
the context sentence the claim matches, anchors in the other order (swapped entities).
`FOR` features can only be evidence of support: how close the best-matching context sentence
is, and how much of the claim is the context's own wording. The model (factcheck.py) is held to
these directions, so it cannot learn "more new words = more supported" or "a negation = more
supported" from how its training set happened to be written. The "..._in_copy" features weigh
a difference by how much of the claim is the matched context's own wording: one number, word
or negation changed in an otherwise copied sentence is a changed fact; the same difference in
a free paraphrase is weaker evidence, and a faithful copy has none at all. Nothing else is a feature: the
claim's length, or whether it has a number or a negation at all, says nothing about support.

Quantities are compared after normalisation (quantities.py), so "two weeks" restates "14 days";
a number computed from the context's numbers (a sum, difference, share) counts as given; in an
otherwise copied sentence, a number standing where the source has another is a changed fact,
and only a number the copy adds ("rise by $450, from $4,200 to $4,650") may be computed. A "the
documents do not say X" sentence is checked only for whether the context does give X
(`silence_contradicted`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Sequence

import numpy as np

from evalstream.scorers.quantities import NUMBER_WORDS, computed_numbers, context_quantities, number_checks
from evalstream.scorers.sentences import is_silence, silence_topic

AGAINST = (
    "numbers_not_in_context",
    "numbers_not_near_match",
    "units_not_in_context",
    "dates_not_in_context",
    "names_not_in_context",
    "new_words_share",
    "new_words_near_match_share",
    "polarity_differs_from_match",
    "negation_not_in_window",
    "qualifiers_not_near_match",
    "anchors_reordered",
    "number_changed_in_copy",
    "polarity_flipped_in_copy",
    "word_changed_in_copy",
    "silence_contradicted",
    "new_words_far_from_context",
)
FOR = ("best_match_cosine", "context_bigram_share", "numbers_found_in_context")
FEATURES = AGAINST + FOR
COPY = 0.5  # share of a claim's word pairs from the matched window above which it is a copy (a changed number: a changed fact)
MAX_COUNT = 3.0  # counts saturate: a fourth invented number is no more damning than a third

NEGATION = re.compile(r"\b(?:not|no|never|none|nor|cannot|neither|no longer|nothing|nobody|nowhere)\b|n't\b", re.IGNORECASE)
QUALIFIERS = frozenset(
    "only all every any some most always before after within over under more less least fewer minimum maximum until "
    "first last except unless excluding including included excluded free paid full partial each per same next previous "
    "earlier later higher lower immediately daily weekly monthly annual annually yearly both either".split()
)
DATE_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday weekend weekends weekday weekdays".split()
)
STOPWORDS = frozenset(
    "the a an and or of to in on for with by at from is are was were be been it its this that these those as "
    "you your we our they their he she his her i can may will would should could must do does did has have had "
    "not no also there which who what when where how than then so if but about into up out just".split()
)
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-Z][a-zA-Z0-9]+")


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace(",", ""))


def content_stems(text: str) -> frozenset[str]:
    return frozenset(_stem(w) for w in tokens(text) if w not in STOPWORDS and w not in QUALIFIERS and len(w) > 2 and not w[0].isdigit())


def names(text: str) -> set[str]:
    """Capitalised words that do not start a sentence."""
    return {w.lower() for w in _NAME.findall(text)} - {"yes", "no", "the", "i"}


_ANSWER_WORD = re.compile(r"^\s*(?:no|yes)\b[,.!:;]?", re.IGNORECASE)


def negations(text: str) -> int:
    """Negations of the statement; a leading "No," answers the question and is not one."""
    return len(NEGATION.findall(_ANSWER_WORD.sub("", text, count=1)))


def dates(words) -> set[str]:
    """Month and day names, singular ("Wednesdays" is "wednesday")."""
    return {w.removesuffix("s") if w.removesuffix("s") in DATE_WORDS else w for w in words if w in DATE_WORDS or w.removesuffix("s") in DATE_WORDS}


def bigrams(words: list[str]) -> set[tuple[str, str]]:
    return set(zip(words, words[1:]))


@dataclass(frozen=True)
class Span:
    """What is known of a piece of context (a sentence window, or the whole context); cached, as passages repeat."""

    text: str
    words: frozenset[str]
    stems: frozenset[str]
    bigrams: frozenset[tuple[str, str]]
    quantities: tuple[frozenset[float], frozenset[tuple[str, float]]]
    negations: int
    positions: dict[str, int]  # first position of each token, for the order of anchors
    length: int  # tokens


@lru_cache(maxsize=16_384)
def span(text: str) -> Span:
    words = tokens(text)
    positions: dict[str, int] = {}
    for i, w in enumerate(words):
        positions.setdefault(w, i)
    return Span(text, frozenset(words), content_stems(text), frozenset(bigrams(words)),
                context_quantities(text), negations(text), positions, len(words))


def joined(parts: Sequence[Span]) -> Span:
    """Several sentences' spans as one, from their cached parts: a window is never parsed again (each claim
    picks its own window, so windows rarely repeat). No word pair spans two sentences."""
    if len(parts) == 1:
        return parts[0]
    positions: dict[str, int] = {}
    offset = 0
    for part in parts:
        for word, i in part.positions.items():
            positions.setdefault(word, offset + i)
        offset += part.length
    text = " ".join(p.text for p in parts)
    return Span(text, frozenset().union(*(p.words for p in parts)), frozenset().union(*(p.stems for p in parts)),
                frozenset().union(*(p.bigrams for p in parts)),
                (frozenset().union(*(p.quantities[0] for p in parts)), frozenset().union(*(p.quantities[1] for p in parts))),
                sum(p.negations for p in parts), positions, offset)


@dataclass(frozen=True)
class ContextFacts:
    """What the claims of one response are checked against, computed once per context."""

    premises: tuple[str, ...]  # the context's sentences, in order
    whole: Span
    asked: Span | None = None  # the user's prompt: its numbers, names and dates are the user's own facts

    @classmethod
    def of(cls, premises: list[str] | tuple[str, ...], prompt: str = "") -> ContextFacts:
        facts = _context_facts(tuple(premises))
        return ContextFacts(facts.premises, facts.whole, span(prompt)) if prompt.strip() else facts

    def given(self, part: Span) -> tuple[frozenset[float], frozenset[tuple[str, float]]]:
        """The quantities of a piece of context and of the user's own question ("I paid 12 days late"): an answer
        may restate the user's facts ("a payment 12 days late ...") without the context giving them."""
        if self.asked is None:
            return part.quantities
        return part.quantities[0] | self.asked.quantities[0], part.quantities[1] | self.asked.quantities[1]

    @cached_property
    def words(self) -> frozenset[str]:
        """The context's words and the user's own."""
        return self.whole.words | self.asked.words if self.asked else self.whole.words

    @cached_property
    def dates(self) -> set[str]:
        return dates(self.words)

    def window(self, best: int, also: int | None = None) -> Span:
        """The best-matching sentence with its neighbours, and the next best match wherever it is (a claim
        of a long answer may join two passages: "Adults pay £14, and the crossing takes 50 minutes")."""
        picked = set(range(max(0, best - 1), min(len(self.premises), best + 2)))
        if also is not None:
            picked.add(also)
        return joined([span(self.premises[i]) for i in sorted(picked)])


@lru_cache(maxsize=4_096)
def _context_facts(premises: tuple[str, ...]) -> ContextFacts:
    return ContextFacts(premises, joined([span(p) for p in premises]))


def _is_number(word: str) -> bool:
    return word[0].isdigit() or word in NUMBER_WORDS


def replaced_numbers(claim_words: list[str], source: str) -> int:
    """How many numbers of a copied claim stand where its source sentence has another number: "issued within 16
    days" for "issued within 14 days", "from $4,200 to $4,700" for "from $4,200 to $4,650". The two words before a
    number place it. Such a number is a changed fact, whatever arithmetic might give it; a number the copy adds
    ("rise by $450, from $4,200 to $4,650") is not placed, and may be computed."""
    words = tokens(source)
    slots: dict[tuple[str, str], set[str]] = {}
    for i in range(2, len(words)):
        if _is_number(words[i]):
            slots.setdefault((words[i - 2], words[i - 1]), set()).add(words[i])
    return sum(1 for i in range(2, len(claim_words))
               if _is_number(claim_words[i]) and claim_words[i] not in slots.get((claim_words[i - 2], claim_words[i - 1]), {claim_words[i]}))


def anchors_reordered(claim_words: list[str], anchors: set[str], window: Span) -> float:
    """Share of pairs of anchors (numbers, names) found in the window that appear there in the other order."""
    placed = [window.positions[w] for w in dict.fromkeys(claim_words) if w in anchors and w in window.positions]
    pairs = [(a, b) for i, a in enumerate(placed) for b in placed[i + 1 :]]
    return sum(a > b for a, b in pairs) / len(pairs) if pairs else 0.0


# Words of a silence sentence that name no topic: "I couldn't find anything in the documents about how much ..."
_SILENCE_FILLER = frozenset(
    "whether anything information details detail mention mentioned documents document context passages passage sources text "
    "find much many long often exactly specific specifically regarding".split()
)


def silence_contradicted(sentence: str, context: ContextFacts) -> float:
    """How much of what a silence sentence says the context leaves out one context sentence (with its
    neighbours) does give: "The documents do not say how long the crossing takes" beside "The crossing takes
    50 minutes" is 1.0. The best window's share of the topic's content words."""
    topic = {s for s in content_stems(silence_topic(sentence)) if s not in _SILENCE_FILLER}
    if not topic:
        return 0.0
    return max(len(topic & context.window(i).stems) / len(topic) for i in range(len(context.premises)))


def silence_features(sentence: str, context: ContextFacts, cosine: float = 0.0) -> list[float]:
    """A silence sentence claims nothing about the world, so the evidence about a claim does not apply:
    it is checked only for what the context does say about its topic (the other values: a verbatim copy's)."""
    values = [0.0] * len(AGAINST) + [1.0] * len(FOR)
    values[AGAINST.index("silence_contradicted")] = silence_contradicted(sentence, context) * cosine
    return values


def claim_features(claim: str, context: ContextFacts, similarities: np.ndarray) -> list[float]:
    """`similarities`: the claim's cosine to each of the context's sentences. Values in FEATURES order."""
    if is_silence(claim):
        return silence_features(claim, context, float(np.clip(similarities.max(), 0.0, 1.0)))
    order = np.argsort(-similarities, kind="stable")
    best = int(order[0])
    also = int(order[1]) if len(order) > 1 else None
    match, window, whole = span(context.premises[best]), context.window(best, also), context.whole
    words = tokens(claim)
    stems = content_stems(claim)
    claim_names = names(claim)
    given = context.given(whole)
    near = context.given(window)
    numbers, not_in_context, units_not_in_context = number_checks(claim, given)
    _, not_near_match, _ = number_checks(claim, near)
    claim_negations = negations(claim)
    anchors = {w for w in words if w[0].isdigit()} | claim_names
    qualifiers = {w for w in words if w in QUALIFIERS}
    claim_bigrams = bigrams(words)
    copied = len(claim_bigrams & window.bigrams) / max(len(claim_bigrams), 1)
    if copied < COPY:  # a new number in a claim of its own wording may be computed: a sum, difference, share of the context's
        not_in_context -= min(computed_numbers(claim, given), not_in_context)
        not_near_match -= min(computed_numbers(claim, near), not_near_match)
    elif not_near_match:  # a copy: a number where the matched sentence has another is a changed fact; one it adds may be computed
        replaced = replaced_numbers(words, match.text)
        not_in_context -= min(computed_numbers(claim, given, own_operands=False), max(not_in_context - replaced, 0))
        not_near_match -= min(computed_numbers(claim, near, own_operands=False), max(not_near_match - replaced, 0))
    polarity_differs = claim_negations != match.negations
    cosine = float(np.clip(similarities[best], 0.0, 1.0))
    new_share = len(stems - whole.stems) / max(len(stems), 1)
    return [
        min(not_in_context, MAX_COUNT),
        min(not_near_match, MAX_COUNT),
        min(units_not_in_context, MAX_COUNT),
        min(len(dates(words) - context.dates), MAX_COUNT),
        min(len(claim_names - context.words), MAX_COUNT),
        new_share,
        len(stems - window.stems) / max(len(stems), 1),
        float(polarity_differs),
        float(claim_negations > window.negations),
        min(len(qualifiers - window.words), MAX_COUNT),
        anchors_reordered(words, anchors, window),
        min(not_near_match, 1) * copied,
        float(polarity_differs) * copied,
        min(len(stems - window.stems) + len(qualifiers - window.words), 1) * copied,
        0.0,  # silence_contradicted: only for silence sentences
        new_share * (1.0 - cosine),  # new words in a claim close to no context sentence: another topic
        cosine,
        len(claim_bigrams & whole.bigrams) / max(len(claim_bigrams), 1),
        min(numbers - not_in_context, MAX_COUNT),  # numbers the context gives (or computes): specific facts matched
    ]
