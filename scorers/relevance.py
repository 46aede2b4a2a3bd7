"""Relevance: the calibrated probability that the response addresses the prompt, and a refusal flag.

Cosine of prompt and response is a similarity, not a relevance probability (summaries of a
document averaged 0.16). Two small logistic heads (`scorers/models/relevance_head.json`, trained
by `training/train_relevance.py` on hand-labeled prompt/response pairs) read cheap features of
the all-MiniLM-L6-v2 sentence embeddings the other scorers compute anyway (cache hits, no new
transformer pass): the best prompt-sentence/response-sentence match, the prompt/response and
source/response cosines (the source is the context when the prompt asks to summarise it), word
overlap, length, truncation, how much of the response is courtesy, and the refusal evidence of
`scorers/refusal.py`. Each head's logit goes through a Platt scaling fitted on held-out
predictions, so `relevance` reads as a probability. `refusal` is True when the model declined
or deflected; a refusal is not a relevant answer.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from scipy.special import expit

from evalstream.contracts import GenAIEvent
from evalstream.scorers.base import Scores
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.refusal import COURTESY, FEATURES as REFUSAL_FEATURES, PROTOTYPES, refusal_features
from evalstream.scorers.sentences import split_sentences

MAX_PROMPT_SENTENCES = 40
MAX_RESPONSE_SENTENCES = 40
MAX_CONTEXT_SENTENCES = 80

SUMMARY_TASK = re.compile(
    r"\b(?:summar\w*|tl;?\s?dr|key (?:points|takeaways|facts)|main (?:points|takeaways|ideas)|recap|gist|overview|condense|bullet points?|in short|brief(?:ly)? describe)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'_-]+")
_STOP = frozenset(
    "the and for are but not you your with this that from have has had was were will would can could should what when where which who whom why how "
    "does did doing done its it's they them their there here then than into onto about over under again also just only very any all some such more most "
    "other our ours out off too can't don't i'm i've what's how's please thanks thank hello hey quick question bit urgent sorry bother wondering keep short".split()
)
# A question asking for a quantity, a time or a date, and the words that could answer it.
_TYPED_QUESTION = re.compile(r"\b(?:how (?:long|many|much|often|far|old|big|soon|fast|early|late|large|small)|when|what time|what year|which year|what date)\b", re.IGNORECASE)
_QUANTITY = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand|million|billion"
    r"|half|quarter|dozen|once|twice|few|several|many|no|none|daily|weekly|monthly|yearly|annually|never|always|immediately|instantly|soon|later"
    r"|seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies)|morning|afternoon|evening|night|today|tomorrow|yesterday"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|august|september|october"
    r"|november|december|spring|summer|autumn|fall|winter|before|after|until|within)\b",
    re.IGNORECASE,
)
_TERMINAL = tuple('.!?)"\'`*]>:;')
_LIST_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")

FEATURES = (
    "question_cos_best", "prompt_response_cos", "source_response_cos", "summary_task", "summary_x_source_cos", "word_overlap", "question_coverage",
    "log_words", "empty", "truncated", "courtesy_share", "typed_answer_missing", *(f"refusal_{name}" for name in REFUSAL_FEATURES),
)


@dataclass
class LogisticHead:
    """Standardised features -> logistic regression -> Platt scaling of its logit."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    platt_a: float
    platt_b: float
    threshold: float

    @classmethod
    def from_spec(cls, spec: dict) -> "LogisticHead":
        return cls(
            tuple(spec["features"]), np.array(spec["mean"]), np.array(spec["scale"]), np.array(spec["coef"]),
            float(spec["intercept"]), float(spec["platt"]["a"]), float(spec["platt"]["b"]), float(spec["threshold"]),
        )

    def logit(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.coef + self.intercept

    def predict(self, X: np.ndarray) -> np.ndarray:
        return expit(self.platt_a * self.logit(X) + self.platt_b)


class RelevanceModel:
    """Both heads of `relevance_head.json`: `relevance` and `refusal`."""

    def __init__(self, path: Path | None = None) -> None:
        text = path.read_text() if path else resources.files("evalstream.scorers").joinpath("models/relevance_head.json").read_text()
        spec = json.loads(text)
        self.version = spec["version"]
        self.relevance = LogisticHead.from_spec(spec["relevance"])
        self.refusal = LogisticHead.from_spec(spec["refusal"])
        if self.relevance.features != FEATURES or self.refusal.features != REFUSAL_FEATURES:
            raise ValueError("relevance_head.json was trained on other features: retrain with training/train_relevance.py")


def _sentences(text: str, limit: int) -> list[str]:
    if not text.strip():
        return []
    return (split_sentences(text) or [text.strip()])[:limit]


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:6]


def _words(text: str) -> set[str]:
    return {_stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 3 and w not in _STOP}


def question_sentences(prompt_sentences: list[str]) -> list[str]:
    """The sentences that ask: those ending in '?', else the whole prompt when it is short."""
    asked = [s for s in prompt_sentences if s.rstrip().endswith("?")]
    return asked or (prompt_sentences if sum(len(s.split()) for s in prompt_sentences) <= 40 else [])


def _unit_mean(vectors: np.ndarray) -> np.ndarray | None:
    if not len(vectors):
        return None
    mean = vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def typed_answer_missing(prompt_sentences: list[str], response: str) -> bool:
    """The question asks how long/many/much or when, and the response holds no quantity or time at all."""
    questions = question_sentences(prompt_sentences)
    return bool(response.strip()) and any(_TYPED_QUESTION.search(q) for q in questions) and not _QUANTITY.search(response)


def looks_truncated(response: str, finish_reason: str | None = None) -> bool:
    """Cut off: the provider says so, or the text stops mid-sentence (lists and code may end bare)."""
    text = response.rstrip()
    if not text:
        return False
    if finish_reason == "length":
        return True
    last_line = text.splitlines()[-1]
    return not text.endswith(_TERMINAL) and not _LIST_LINE.match(last_line) and "```" not in text[-4:]


class RelevanceFeaturizer:
    """Feature rows for events; every text goes through the shared embedder in one call."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.prototypes = embedder.encode(list(PROTOTYPES))

    def transform(self, events: Sequence[GenAIEvent]) -> tuple[np.ndarray, np.ndarray]:
        """(relevance features, refusal features), one row per event."""
        parts = []
        for e in events:
            # The context only matters when the prompt asks for a summary of it (see _relevance_row).
            context = " \n".join(p for p in e.context or [] if p.strip()) if SUMMARY_TASK.search(e.prompt) else ""
            parts.append((_sentences(e.prompt, MAX_PROMPT_SENTENCES), _sentences(e.response, MAX_RESPONSE_SENTENCES), _sentences(context, MAX_CONTEXT_SENTENCES)))
        flat = [s for trio in parts for group in trio for s in group]
        vectors = self.embedder.encode(flat) if flat else np.zeros((0, self.embedder.dim), np.float32)
        rel_rows, ref_rows, start = [], [], 0
        for event, trio in zip(events, parts):
            sizes = [len(g) for g in trio]
            p_vec, r_vec, c_vec = np.split(vectors[start : start + sum(sizes)], np.cumsum(sizes)[:2])
            start += sum(sizes)
            refusal = refusal_features(trio[1], r_vec, self.prototypes)
            rel_rows.append(self._relevance_row(event, trio, p_vec, r_vec, c_vec) + refusal)
            ref_rows.append(refusal)
        return np.array(rel_rows, dtype=np.float64).reshape(len(events), len(FEATURES)), np.array(ref_rows, dtype=np.float64).reshape(len(events), len(REFUSAL_FEATURES))

    @staticmethod
    def _relevance_row(event: GenAIEvent, trio, p_vec: np.ndarray, r_vec: np.ndarray, c_vec: np.ndarray) -> list[float]:
        prompt_s, response_s, context_s = trio
        summary_task = float(bool(SUMMARY_TASK.search(event.prompt)))
        p_doc, r_doc, c_doc = _unit_mean(p_vec), _unit_mean(r_vec), _unit_mean(c_vec)
        if r_doc is None or p_doc is None:
            best = doc_cos = 0.0
        else:
            best = float((p_vec @ r_vec.T).max())
            doc_cos = float(p_doc @ r_doc)
        # The context is what the prompt is about only when the prompt asks for a summary of it;
        # otherwise it is retrieved material, and matching it says nothing about the question.
        source_cos = float(c_doc @ r_doc) if (summary_task and c_doc is not None and r_doc is not None) else doc_cos
        prompt_words = _words(event.prompt) | (_words(" ".join(context_s)) if summary_task and context_s else set())
        response_words = _words(event.response)
        overlap = len(prompt_words & response_words) / max(1, min(len(prompt_words), len(response_words)))
        # How many of the words the question asks about come back in the response.
        asked = _words(" ".join(question_sentences(prompt_s)))
        coverage = len(asked & response_words) / len(asked) if asked else overlap
        n_words = len(event.response.split())
        courtesy = sum(1 for s in response_s if COURTESY.match(s)) / max(1, len(response_s))
        return [
            best, doc_cos, source_cos, summary_task, summary_task * source_cos, overlap, coverage,
            math.log1p(n_words) / 5.0, float(n_words == 0), float(looks_truncated(event.response, event.finish_reason)), courtesy,
            float(typed_answer_missing(prompt_s, event.response)),
        ]


class RelevanceScorer:
    name = "relevance"
    fields = ("relevance", "refusal")

    def __init__(self, embedder: Embedder, model: RelevanceModel | None = None, refusal_thresholds: Mapping[str, float] | None = None) -> None:
        """`refusal_thresholds`: per use case, the refusal probability at or above which an answer is a refusal (policy file)."""
        self.model = model or RelevanceModel()
        self.featurizer = RelevanceFeaturizer(embedder)
        self.threshold = self.model.relevance.threshold  # below it an answer reads as off-topic
        self.refusal_threshold = self.model.refusal.threshold
        self.refusal_thresholds = dict(refusal_thresholds or {})
        self.version = f"minilm-head-{self.model.version}"

    def raw(self, events: Sequence[GenAIEvent]) -> tuple[np.ndarray, np.ndarray]:
        """(relevance probability, refusal probability) per event, straight from the heads."""
        if not events:
            return np.zeros(0), np.zeros(0)
        X_rel, X_ref = self.featurizer.transform(events)
        return self.model.relevance.predict(X_rel), self.model.refusal.predict(X_ref)

    def predict(self, events: Sequence[GenAIEvent]) -> tuple[np.ndarray, np.ndarray]:
        """(relevance, refusal probability) per event, as `score` reports them (what evaluation measures)."""
        final = self._finalise(events, *self.raw(events))
        return np.array([f[0] for f in final]), np.array([f[1] for f in final])

    def score(self, events: Sequence[GenAIEvent]) -> list[Scores]:
        final = self._finalise(events, *self.raw(events))
        return [{"relevance": rel, "refusal": ref >= self.refusal_threshold_for(e.use_case)} for e, (rel, ref) in zip(events, final)]

    def refusal_threshold_for(self, use_case: str) -> float:
        return self.refusal_thresholds.get(use_case, self.refusal_threshold)

    def _finalise(self, events: Sequence[GenAIEvent], relevance: np.ndarray, refusal: np.ndarray) -> list[tuple[float, float]]:
        out = []
        for event, rel, ref in zip(events, map(float, relevance), map(float, refusal)):
            said = bool(event.response.strip())
            # A provider's content filter declining to answer is a refusal too, with an empty text.
            ref = 1.0 if event.finish_reason == "content_filter" else ref if said else 0.0
            # A refusal does not address the prompt, whatever words it shares with it.
            rel = 0.0 if not said else min(rel, 1.0 - ref) if ref >= self.refusal_threshold_for(event.use_case) else rel
            out.append((rel, ref))
        return out
