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

import re

import numpy as np

_FIRST_PERSON_DECLINE = re.compile(
    r"\b(?:i|we)(?:'m| am|'re| are)?\s*(?:really\s+|truly\s+)?"
    r"(?:can't|cannot|can not|won't|will not|couldn't|could not|unable to|not able to|not allowed to|not permitted to"
    r"|not in a position to|don't have access|do not have access|have no access|'d rather not|would rather not|must decline"
    r"|(?:do not|don't) (?:provide|give|offer|discuss)|(?:do not|don't) think i should|shouldn't|should not|(?:'ll| will) (?:have to )?(?:pass|decline)"
    r"|(?:'d|would) prefer not|(?:am|'m) not comfortable|(?:am|'m) going to have to decline)"
    r"|\blet's (?:keep|stick|focus|talk about something)|\b(?:isn't|is not|that's not|not) something i (?:can|could|am able|'m able)",
    re.IGNORECASE,
)
_DECLINE_OBJECT = re.compile(
    r"\b(?:help|assist|answer|respond|provide|discuss|share|give|offer|comply|support|advise|do that|do this|go into|get into"
    r"|that information|this information|with that|with this|that request|this request|that question|this question)\b",
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
_POLICY = re.compile(r"\b(?:against (?:my|our) (?:guidelines|policy|policies|usage)|outside (?:of )?(?:my|our|what i) (?:scope|can)|falls outside|not something i can)\b", re.IGNORECASE)
# "Sorry for the trouble" is empathy before an answer, not the opening of a refusal.
_APOLOGY_START = re.compile(
    r"^\W*(?:(?:sorry|i'm sorry|i am sorry|i apologi[sz]e|apologies)(?!\s+(?:for|about|to hear)\b)|unfortunately|i'm afraid|i am afraid)\b",
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

FEATURES = ("decline", "decline_first", "deflect", "ai_disclaimer", "policy", "apology_start", "prototype_cos", "content_sentences", "has_number")


def sentence_evidence(sentence: str) -> dict[str, bool]:
    decline = bool(_FIRST_PERSON_DECLINE.search(sentence)) and bool(_DECLINE_OBJECT.search(sentence) or len(sentence.split()) <= 8)
    return {"decline": decline, "deflect": bool(_DEFLECT.search(sentence)), "ai_disclaimer": bool(_AI_DISCLAIMER.search(sentence)), "policy": bool(_POLICY.search(sentence))}


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
        float(any(ch.isdigit() for s in sentences for ch in s)),
    ]
