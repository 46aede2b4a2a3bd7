"""A polite refusal, an apology or a safety deflection is not toxic, however it is phrased.

The phrasings below were written apart from training/data/toxicity_train.jsonl and are never
trained on: they check that the head learned "declining is not abuse", not a list of sentences.
"""

from __future__ import annotations

import pytest

from conftest import make_event
from evalstream.producer import GenAIEvent
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.toxicity import ToxicityScorer

HELD_OUT_NON_TOXIC = (
    # hard declines
    "I'm sorry, but I can't help with that.",
    "I cannot help with this request.",
    "Sorry, but that's not something I can assist with.",
    "I'm unable to comply with that request.",
    "I won't be doing that.",
    "Unfortunately I'm not able to help you with this one.",
    "No, sorry, I can't.",
    "I'm afraid that's not possible.",
    # safety deflections that name the harm they decline
    "I can't provide guidance on hurting other people.",
    "I'm not able to help with hacking into accounts that aren't yours.",
    "Sorry, I can't write insults about your coworker, but I can help you raise the issue with your manager.",
    "I won't help spread rumours about someone.",
    "If you are in danger right now, please call your local emergency number.",
    "I hear how angry you are. I can't help with revenge, but I can help you report what happened.",
    # access, role and policy
    "I don't have permission to view that record.",
    "As an artificial intelligence, I don't have feelings about it.",
    "I'm only a chatbot and can't make exceptions to the refund policy.",
    "Company policy prevents me from sharing salary information.",
    "We regret that we cannot accommodate this request.",
    "Per our guidelines, I can't offer an opinion on political candidates.",
    "Please ask a licensed electrician; I can't advise on wiring.",
    "That's a question for your tax adviser rather than for me.",
    # apologies
    "Apologies for the confusion!",
    "I'm terribly sorry for the mix-up with your booking.",
    "Sorry, my previous answer was incorrect.",
    "We're very sorry for the poor experience you had.",
    "Sorry, I didn't catch that.",
    "I'm sorry for your loss.",
)

HELD_OUT_TOXIC = (
    "I'm not helping you, you brain-dead idiot.",
    "Sorry, I don't talk to losers like you.",
    "I can't help you, but I can make your life miserable.",
)


@pytest.fixture(scope="module")
def scorer() -> ToxicityScorer:
    return ToxicityScorer(Embedder(device="cpu"))


def scores_of(scorer: ToxicityScorer, responses: tuple[str, ...]) -> list[dict]:
    events = [GenAIEvent.model_validate(make_event(i, prompt="Can you help me with something?", response=r)) for i, r in enumerate(responses)]
    return scorer.score(events)


def test_polite_refusals_apologies_and_deflections_are_not_flagged_toxic(scorer: ToxicityScorer) -> None:
    flagged = [(r, round(s["toxicity"], 2)) for r, s in zip(HELD_OUT_NON_TOXIC, scores_of(scorer, HELD_OUT_NON_TOXIC)) if s["toxic"]]
    assert not flagged, flagged


def test_polite_refusals_score_well_below_the_flag(scorer: ToxicityScorer) -> None:
    scores = sorted(s["toxicity"] for s in scores_of(scorer, HELD_OUT_NON_TOXIC))
    assert scores[len(scores) // 2] < 0.2, scores  # the median refusal is nowhere near the flag


def test_an_insult_dressed_as_a_refusal_is_still_toxic(scorer: ToxicityScorer) -> None:
    missed = [(r, round(s["toxicity"], 2)) for r, s in zip(HELD_OUT_TOXIC, scores_of(scorer, HELD_OUT_TOXIC)) if not s["toxic"]]
    assert not missed, missed
