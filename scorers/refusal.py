"""Refusal evidence: did the model decline or deflect instead of answering?

Patterns find the first-person decline ("I can't help with that", "I'm not able to provide"),
the deflection ("please contact your account manager") and the AI disclaimer; an embedding match
against a few canonical refusals catches other phrasings. A statement that something cannot be
done ("gift cards cannot be returned", "we can't ship to PO boxes") is an answer, not a refusal:
the decline patterns need a first person AND an object like help/assist/answer/provide, and
`content_sentences` counts what the response says besides declining. A logistic head over these
features (trained with the relevance head, `training/train_relevance.py`) gives the flag.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources

import numpy as np

_FIRST_PERSON_DECLINE = re.compile(
    r"\b(?:i|we)(?:'m| am|'re| are)?\s*(?:really\s+|truly\s+)?"
    r"(?:can't(?! wait)|cannot(?! wait)|can not|won't|will not|couldn't|could not|unable to|not able to|not allowed to|not permitted to"
    r"|not in a position to|don't have access|do not have access|have no access|have no (?:visibility|way)|don't have (?:visibility|the ability|permission|the authority)"
    r"|'d rather not|would rather not|must decline|'d (?:steer|stay) (?:clear|away)|(?:do not|don't) (?:provide|give|offer|discuss|tell|make|share)"
    r"|(?:do not|don't) think i should|shouldn't|should not|(?:'ll| will) (?:have to )?(?:pass|decline)|try to stay neutral"
    r"|(?:'d|would) prefer not|(?:am|'m) not comfortable|(?:am|'m) going to have to decline|(?:am|'m) not (?:qualified|a (?:doctor|lawyer|medical|legal|financial|licensed)))"
    r"|\blet's (?:keep|stick|focus|talk about something)"
    r"|\b(?:isn't|is not|that's not|not|isn't really|not really) (?:something|anything|a thing) (?:i|we)(?:\s+(?:can|could|am able|will|am going to|do)|'m able|'ll|'m going to)"
    r"|\b(?:isn't|is not|that's not|not) (?:really )?(?:my place|for me to (?:say|judge|decide))",
    re.IGNORECASE,
)
# What a decline is about: a verb of answering or giving, within a few words of the decline.
_DECLINE_OBJECT = re.compile(
    r"^\W*(?:\w+\W+){0,4}?(?:help|assist|answer|respond|provide|discuss|share|give|offer|comply|support|advise|comment|disclose|reveal|recommend|predict"
    r"|diagnose|assess|evaluate|view|see|access|make|book|approve|modify|change|release|create|write|draft|tell you|guess|unlock|fill|process"
    r"|do that|do this|go into|get into|that information|this information|with that|with this|that request|this request|that question|this question)\b",
    re.IGNORECASE,
)
# Sharing or giving out something, said to be forbidden or secret: a policy decline without "I".
_IMPERSONAL_DECLINE = re.compile(
    r"\b(?:sharing|disclosing|providing|releasing|giving out|revealing)\b.{0,60}\b(?:isn't|is not|aren't|are not) (?:permitted|allowed|possible)"
    r"|\b(?:(?:is|are|that's|those are|that is) (?:strictly )?(?:confidential|proprietary|restricted))\b"
    r"|\b(?:cannot|can't|can not) be (?:released|shared|disclosed|given out)\b"
    r"|\b(?:unable|not able|not in a position) to (?:comment|disclose|share)\b",
    re.IGNORECASE,
)
# A hand-over to a person: the assistant passes the question on instead of answering it.
_HANDOFF = re.compile(
    r"\b(?:that's|that is|this is) (?:a question|a matter|one) (?:for|(?:that )?(?:your|the|a|an) (?:\w+ ){1,3}(?:should|can|would|could|will) (?:answer|advise))"
    r"|\b(?:transferring you|transfer you|passed (?:your (?:chat|question|request)|you|this) (?:on )?to|connect(?:ing)? you (?:with|to) (?:a|an|one of)"
    r"|(?:a|one of our) (?:human|live) (?:agent|colleague|person)|needs? (?:a|one of) (?:our|the) (?:team|staff|colleagues))\b",
    re.IGNORECASE,
)
_DEFLECT = re.compile(
    r"\b(?:contact|reach out to|consult|call|check with|speak (?:to|with)|talk to|ask|refer to|get in touch with|direct (?:this|that|your question) to)\s+your\s+\w+"
    r"|\b(?:contact|reach out to|consult|call|check with|speak (?:to|with)|talk to|ask|refer to|get in touch with|recommend)\b.{0,50}?"
    r"\b(?:support|team|department|hr|professional|specialist|doctor|physician|lawyer|attorney|advis[oe]r|manager|hotline|helpdesk"
    r"|documentation|representative|agent|expert|administrator|admin|pharmacist|accountant)\b",
    re.IGNORECASE,
)
_AI_DISCLAIMER = re.compile(r"\b(?:as an ai|language model|virtual assistant|just a bot|i'm (?:only|just) an? (?:ai|assistant|bot))\b", re.IGNORECASE)
_POLICY = re.compile(
    r"\b(?:against (?:my|our) (?:guidelines|policy|policies|usage)|outside (?:of )?(?:my|our|what i) (?:scope|can|do)|outside what (?:i|we) (?:can|do)"
    r"|falls outside|not something i can|i(?:'m| am) (?:only )?(?:set up|designed|here|built) to (?:answer|help|handle|assist))\b",
    re.IGNORECASE,
)
# "Sorry for the trouble" is empathy before an answer, not the opening of a refusal.
_APOLOGY_START = re.compile(
    r"^\W*(?:(?:sorry|i'm sorry|i am sorry|i apologi[sz]e|apologies)(?!\s+(?:for|about|to hear|to see)\b)|unfortunately|i'm afraid|i am afraid)\b",
    re.IGNORECASE,
)
# A deflection inside a longer instruction ("wait 48 hours and check with your neighbours before
# contacting support") still tells the user something: a sentence this long counts as content.
CONTENT_WORDS_DESPITE_DEFLECTION = 14
# Courtesy and offers that say nothing about the question ("Is there anything else...?").
COURTESY = re.compile(
    r"^\W*(?:sure|certainly|of course|absolutely|great question|good question|thanks|thank you|happy to help|glad to help|hope (?:this|that|it) helps"
    r"|let me know|feel free|i hope|no problem|you're welcome|is there anything else|anything else|have a (?:great|nice|good)"
    r"|i understand|i see|hi|hello|hey|good (?:morning|afternoon|evening)|sorry for|sorry about|we appreciate|i'll look into|let me check)\b",
    re.IGNORECASE,
)

# Canonical refusals and deflections, written apart from the training data; the embedding match
# against them generalises the patterns to other phrasings.
PROTOTYPES = (
    "I'm sorry, but I can't help with that.",
    "I am unable to assist with this request.",
    "I cannot answer that question.",
    "I'm not able to provide that information.",
    "That is not something I am allowed to discuss.",
    "Please contact customer support for help with this.",
    "You should ask a qualified professional about this.",
    "As an AI, I cannot give advice on this.",
    "I won't do that.",
    "This request is outside the scope of what I can do.",
)

FEATURES = (
    "decline", "decline_first", "deflect", "ai_disclaimer", "policy", "apology_start", "prototype_cos", "content_sentences", "has_number",
    "embedding_logit",
)
EMBEDDING_HEAD = "models/refusal_embedding_head.json"
EMBEDDING_LOGIT_CLIP = 8.0


@functools.lru_cache(maxsize=1)
def _embedding_head() -> tuple[np.ndarray, float]:
    spec = json.loads(resources.files("evalstream.scorers").joinpath(EMBEDDING_HEAD).read_text())
    return np.array(spec["coef"], dtype=np.float32), float(spec["intercept"])


def response_vector(sentence_vectors: np.ndarray) -> np.ndarray:
    """The response as the unit mean of its sentences' unit embeddings."""
    mean = sentence_vectors.mean(axis=0)
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def embedding_logit(sentence_vectors: np.ndarray) -> float:
    """A logistic direction in embedding space learned from whole refusals and answers
    (training/train_relevance.py): it reads declining in phrasings no pattern lists."""
    coef, intercept = _embedding_head()
    return float(np.clip(response_vector(sentence_vectors) @ coef + intercept, -EMBEDDING_LOGIT_CLIP, EMBEDDING_LOGIT_CLIP))


def _declines(sentence: str) -> bool:
    """A first-person decline of an act of answering or giving ("I can't share...", "I'd rather not write..."),
    or of anything in a short sentence ("I won't do it."); or a decline without "I" ("Sharing ... isn't permitted")."""
    if _IMPERSONAL_DECLINE.search(sentence):
        return True
    matches = list(_FIRST_PERSON_DECLINE.finditer(sentence))
    return bool(matches) and (len(sentence.split()) <= 8 or any(_DECLINE_OBJECT.search(sentence[m.end():]) for m in matches))


def sentence_evidence(sentence: str) -> dict[str, bool]:
    deflect = bool(_DEFLECT.search(sentence) or _HANDOFF.search(sentence))
    return {"decline": _declines(sentence), "deflect": deflect, "ai_disclaimer": bool(_AI_DISCLAIMER.search(sentence)), "policy": bool(_POLICY.search(sentence))}


def _says_something(sentence: str, evidence: dict[str, bool]) -> bool:
    words = len(sentence.split())
    if evidence["decline"] or evidence["ai_disclaimer"] or evidence["policy"] or COURTESY.match(sentence) or words < 4:
        return False
    return not evidence["deflect"] or words >= CONTENT_WORDS_DESPITE_DEFLECTION


def refusal_features(sentences: list[str], sentence_vectors: np.ndarray, prototype_vectors: np.ndarray) -> list[float]:
    """One row of FEATURES for a response given as its sentences and their unit embeddings."""
    if not sentences:
        return [0.0] * len(FEATURES)
    evidence = [sentence_evidence(s) for s in sentences]
    content = sum(1 for s, e in zip(sentences, evidence) if _says_something(s, e))
    prototype_cos = float((sentence_vectors @ prototype_vectors.T).max()) if len(sentence_vectors) else 0.0
    return [
        float(any(e["decline"] for e in evidence)),
        float(evidence[0]["decline"] or (len(evidence) > 1 and COURTESY.match(sentences[0]) is not None and evidence[1]["decline"])),
        float(any(e["deflect"] for e in evidence)),
        float(any(e["ai_disclaimer"] for e in evidence)),
        float(any(e["policy"] for e in evidence)),
        float(_APOLOGY_START.match(sentences[0]) is not None),
        prototype_cos,
        float(min(content, 3)),
        # A number in a sentence that answers, not in a phone number or opening hours of a deflection.
        float(any(ch.isdigit() for s, e in zip(sentences, evidence) if _says_something(s, e) for ch in s)),
        embedding_logit(sentence_vectors) if len(sentence_vectors) else 0.0,
    ]
