"""What the scorers are handed: the event, its text bounded in sentences.

The contract bounds characters (200,000 per text, 64 passages); the scorers' work grows with
sentences (one embedding each, claims x premises for faithfulness). 200,000 characters of
4-character "sentences" are 50,000 embeddings for one text, and a batch of such events kills a
worker for memory, then again on every replay. So an event past these bounds is scored on its
first sentences; it is stored whole. A cut event without usage keeps the token estimate of its
whole text (the cost scorer estimates from characters), still flagged as estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

from evalstream.contracts import GenAIEvent
from evalstream.scorers.cost import estimate_usage
from evalstream.scorers.sentences import split_sentences

MAX_SENTENCES_PER_TEXT = 256
MAX_PREMISES_PER_EVENT = 512  # sentences over all context passages
_SHORTEST_SENTENCE = 4  # 3 characters and a separator: a text this short cannot be over the cap


@dataclass(frozen=True)
class ScoringView:
    event: GenAIEvent
    cut: bool  # the scorers see less than the event holds
    usage_estimated: bool  # the view carries the whole text's estimate as its usage


def scoring_view(event: GenAIEvent) -> ScoringView:
    prompt, prompt_cut = _first_sentences(event.prompt, MAX_SENTENCES_PER_TEXT)
    response, response_cut = _first_sentences(event.response, MAX_SENTENCES_PER_TEXT)
    context, context_cut = _first_premises(event.context)
    if not (prompt_cut or response_cut or context_cut):
        return ScoringView(event, cut=False, usage_estimated=False)
    usage = event.usage or estimate_usage(event)
    view = event.model_copy(update={"prompt": prompt, "response": response, "context": context, "usage": usage})
    return ScoringView(view, cut=True, usage_estimated=event.usage is None)


def _first_sentences(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit * _SHORTEST_SENTENCE:
        return text, False
    sentences = split_sentences(text)
    if len(sentences) <= limit:
        return text, False
    return "\n".join(sentences[:limit]), True  # a line break ends a sentence: the scorers split it the same way


def _first_premises(context: list[str] | None) -> tuple[list[str] | None, bool]:
    if not context or sum(len(p) for p in context) <= MAX_PREMISES_PER_EVENT * _SHORTEST_SENTENCE:
        return context, False
    kept: list[str] = []
    budget, cut = MAX_PREMISES_PER_EVENT, False
    for passage in context:
        if budget <= 0:
            cut = True
            break
        sentences = split_sentences(passage) or [passage]
        if len(sentences) > min(budget, MAX_SENTENCES_PER_TEXT):
            sentences, cut = sentences[: min(budget, MAX_SENTENCES_PER_TEXT)], True
            kept.append("\n".join(sentences))
        else:
            kept.append(passage)
        budget -= len(sentences)
    return kept, cut
