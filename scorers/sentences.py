"""Split text into sentences, and pick out the claims among them: the unit a response is checked in.

A claim is something checkable about the world. Greetings, thanks, apologies, offers of more
help, questions back to the user, sign-offs and meta sentences ("Here's a summary:") are not;
a meta prefix ("Based on the provided documents, ...") is stripped and the claim after it kept.
An answer that says the sources are silent ("The documents do not say ...") claims nothing
about the world either.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or a line break) followed by whitespace and an upper-case letter,
# digit or quote; common abbreviations and decimals do not end one.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9À-Ý])|\n+")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|Prof|Inc|Ltd|Co|No|approx|incl|St)\.$", re.IGNORECASE)

MAX_CLAIMS = 24  # longer answers are judged on their first claims; bounds the work per event

_SOURCE = (
    r"(?:the|our|your|this|these|those|my|provided|attached|available|retrieved|given|supplied|shared|above|below|relevant|\s)*"
    r"(?:documents?|documentation|docs|context|passages?|sources?|information|info|text|excerpts?|materials?|records?"
    r"|policy|policies|handbook|guide|guidelines|faq|article|knowledge base|help cent(?:er|re)|report|terms|page|data|notes?)"
)
# Openers that attribute what follows to the sources, or only clear the throat.
_META_PREFIX = re.compile(
    r"^(?:(?:based on|according to|per|as per|from|in|going by|looking at|checking|as (?:stated|described|mentioned|noted|explained|outlined|set out|specified) in)"
    rf"\s+{_SOURCE}[^,:;]{{0,40}}[,:;]\s*"
    rf"|{_SOURCE}\s+(?:says?|states?|shows?|notes?|mentions?|explains?|indicates?|confirms?)(?:\s+that)?[,:]?\s+"
    r"|(?:sure|certainly|of course|absolutely|yes|great question|good question|okay|ok|alright|well|so|in short|to summari[sz]e|to be precise|in summary|overall|short answer)[,:!.]?\s+(?=\S)"
    r"|(?:here(?:'s| is| are)|below (?:is|are))\s+(?:a |the |what |some )?[^,:.]{0,40}:\s*"
    r"|[-*•·]\s+|\d+[.)]\s+)",
    re.IGNORECASE,
)
_COURTESY = re.compile(
    r"^(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening)|welcome|thanks|thank you|many thanks|cheers|sure|certainly"
    r"|of course|absolutely|no problem|no worries|you're welcome|you are welcome|happy to help|glad to help|great question|good question"
    r"|hope (?:this|that|it) helps|i hope|let me know|feel free|please (?:let|feel|don't|do not|reach|contact)|don't hesitate|do not hesitate"
    r"|if you (?:have|need|want|'d like|would like)|(?:is|was) there anything|anything else|i(?:'m| am) (?:sorry|happy|glad|here)|sorry"
    r"|i apologi[sz]e|apologies|i understand|i see|i can help|i(?:'d| would) be happy|i(?:'ll| will) (?:check|look)|let me (?:check|look|see|help|explain)"
    r"|have a (?:great|nice|good|lovely|wonderful)|best(?: regards| wishes)?\b|kind regards|regards|warm(?:est)? regards|all the best|take care"
    r"|talk soon|stay safe|good luck|enjoy|-- ?|— ?|the (?:support|customer) team|your (?:support|customer) team)\b",
    re.IGNORECASE,
)
# "Here's a summary:", "Key points:", "Summary", "TL;DR" alone: a heading, not a claim.
_HEADING = re.compile(r"^[^.!?]{0,50}:$|^(?:summary|key points|tl;?dr|in short|answer|note)[:.]?$", re.IGNORECASE)
_SILENT_SOURCES = re.compile(
    rf"^(?:unfortunately,?\s+)?(?:{_SOURCE}|it)\s+(?:do(?:es)?n't|do(?:es)? not|did not|didn't)\s+(?:say|mention|specify|state|include|contain|cover|address|give|provide|list|tell|explain|describe)"
    r"|^(?:unfortunately,?\s+)?i (?:could(?: not|n't)|can(?:not|'t)|did(?: not|n't)|do(?: not|n't)) (?:find|see|tell|say|know|confirm|determine)"
    r"|^(?:there is|there's) no (?:information|mention|detail)",
    re.IGNORECASE,
)


def split_sentences(text: str, *, min_chars: int = 3) -> list[str]:
    parts: list[str] = []
    carry = ""
    for piece in _BOUNDARY.split(text.strip()):
        piece = (carry + " " + piece).strip() if carry else piece.strip()
        if _ABBREVIATIONS.search(piece):
            carry = piece
            continue
        carry = ""
        if len(piece) >= min_chars:
            parts.append(piece)
    if carry:
        parts.append(carry)
    return parts


def strip_meta(sentence: str) -> str:
    """The sentence without its openers ("Based on the documents, ", "Sure, ", "- "), first letter restored."""
    stripped = sentence.strip()
    for _ in range(4):  # "Sure! Based on the policy, - ..." peels one opener at a time
        shorter = _META_PREFIX.sub("", stripped, count=1)
        if shorter == stripped or not shorter:
            break
        stripped = shorter
    return stripped[:1].upper() + stripped[1:] if stripped else stripped


def is_claim(sentence: str) -> bool:
    text = sentence.strip()
    if text.endswith("?") or _HEADING.match(text) or _COURTESY.match(text) or _SILENT_SOURCES.match(text):
        return False
    return len(re.findall(r"\w+", text)) >= 3


def claims_of(response: str) -> list[str]:
    claims = []
    for sentence in split_sentences(response):
        if _COURTESY.match(sentence) or sentence.rstrip().endswith("?"):
            continue  # "Sure, happy to help!" is courtesy even though "Sure, " is also an opener
        claim = strip_meta(sentence)
        if is_claim(claim):
            claims.append(claim)
    return claims[:MAX_CLAIMS]
