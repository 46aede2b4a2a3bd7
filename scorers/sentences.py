"""Split text into sentences, and pick out the claims among them: the unit a response is checked in.

A claim is something checkable about the world. Greetings, thanks, apologies, offers of more
help, questions back to the user, remarks about the user, sign-offs and meta sentences
("Here's a summary:") are not;
a meta prefix ("Based on the provided documents, ...") is stripped and the claim after it kept.
An answer that says the sources are silent ("The documents do not say ...") claims nothing
about the world either.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or a line break) followed by whitespace and an upper-case letter,
# digit or quote; common abbreviations and decimals do not end one.
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9À-Ý])|\n+")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|et al|etc|vs|Mr|Mrs|Ms|Dr|Prof|Inc|Ltd|Co|No|approx|incl|St)\.$", re.IGNORECASE)

MAX_CLAIMS = 24  # longer answers are judged on their first claims; bounds the work per event

_SOURCE = (
    r"(?:(?:the|our|your|this|these|those|my|provided|attached|available|retrieved|given|supplied|shared|above|below|relevant|official)\s+)*"
    r"(?:documents?|documentation|docs|context|passages?|sources?|information|info|text|excerpts?|materials?|records?"
    r"|policy|policies|handbook|guide|guidelines|faq|article|knowledge base|help cent(?:er|re)|report|terms|page|notes?)"
)
# Only what was handed to the model: "the policy does not cover X" is a claim, "the documents do not say" is not.
_RETRIEVED = (
    r"(?:(?:the|these|those|provided|attached|available|retrieved|given|supplied|shared|above|relevant)\s+)*"
    r"(?:documents?|documentation|docs|context|passages?|sources?|information|info|text|excerpts?|materials?|search results?)"
    r"(?:\s+(?:provided|given|above|here|supplied|shared|available|(?:you|I) (?:provided|shared|gave|was given)))?"
)
# Openers that attribute what follows to the sources, or only clear the throat: stripped, the rest kept.
_OPENER = re.compile(
    r"^(?:(?:based (?:on|upon)|according to|per|as per|from|in|going by|looking at|checking|after checking|as (?:stated|described|mentioned|noted|explained|outlined|set out|specified|shown) in)"
    rf"\s+{_SOURCE}[^,:;]{{0,40}}[,:;]\s*"
    rf"|{_SOURCE}\s+(?:says?|states?|shows?|notes?|mentions?|explains?|indicates?|confirms?|specifies|specify)(?:\s+that)?[,:]?\s+"
    r"|(?:sure|certainly|of course|absolutely|yes|great question|good question|okay|ok|alright|in short|to summari[sz]e|to be precise"
    r"|also|in addition|additionally|on top of that|beyond that|besides|furthermore|moreover|what's more|finally|lastly|first(?:ly)?|second(?:ly)?"
    r"|third(?:ly)?|next|then|however|that said|note|please note|keep in mind|importantly|in other words|in practice|for reference"
    r"|in a nutshell|all in all|bottom line|to answer your question|putting it (?:all )?together|long story short|in brief|basically"
    r"|simply put|so|well|right|great|perfect|no problem|sure thing|good morning|good afternoon|good evening"
    r"|in summary|overall|short answer|unfortunately|sadly|good news|(?:i'm |i am |so |very )?sorry(?: to hear that)?(?:,? but)?"
    r"|thanks(?: for [^,.!]{0,30})?|thank you(?: for [^,.!]{0,30})?)\s*[,:!.—-]\s*(?:but\s+)?(?=\S)"
    r"|(?:hi|hello|hey|dear|good (?:morning|afternoon|evening))(?:\s+[A-Z][a-z]+)?\s*[,!]\s*(?=\S)"
    r"|(?:here(?:'s| is| are)|below (?:is|are))\s+(?:a |the |what |some )?[^,:.]{0,40}:\s*"
    r"|(?:from what i can (?:see|tell)|as far as i can (?:see|tell)|regarding|as for|when it comes to)\b[^,:;]{0,60}[,:;]\s*"
    r"|[-*•·]\s+|\d+[.)]\s+|[a-h]\)\s+|#+\s+)",
    re.IGNORECASE,
)
# Whole sentences that make no claim: greetings, thanks, offers of more help, empathy, sign-offs, refusals.
_COURTESY = re.compile(
    r"^(?:(?:hi|hello|hey|dear|greetings|good (?:morning|afternoon|evening)|welcome)(?:\s+(?:there|[A-Z][a-z]+))?\s*[,.!]*$|welcome (?:to|back)\b"
    r"|(?:thanks|thank you|many thanks|cheers)\b|(?:happy|glad|pleased) to (?:help|assist|explain|clarify)|hope (?:this|that|it) helps|i hope\b"
    r"|hope (?:this|that|it|you)\b|you're welcome|you are welcome|great to hear|nice to hear|enjoy (?:your|the) (?:trip|stay|visit|day|weekend|race|meal|holiday|time|event|show|ride|flight|course|class|new)\b|happy \w+ing[!.]*$"
    r"|if (?:anything|there's anything|you think of anything) else|(?:that's|that is|what) a (?:great|good|fair) question"
    r"|let's see|(?:so,? )?here(?:'s| is) (?:what (?:i|we) found|the deal|how it works)[.:!]*$|i(?:'d| would) (?:recommend|suggest) (?:checking|contacting|confirming|double-checking|calling)"
    r"|(?:hi|hello|hey|good (?:morning|afternoon|evening))\b[^.!?]{0,20}\b(?:thanks|thank you)\b"
    r"|(?:please\s+)?(?:let me know|feel free|reach out|don't hesitate|do not hesitate|contact us|get in touch)"
    r"|if you (?:have|need|want|'d like|would like|require)|(?:is|was) there anything|anything else|what else"
    r"|i(?:'m| am) (?:happy|glad|here|always)|i(?:'d| would) be (?:happy|glad)|i can help\b"
    r"|(?:i'm |i am |so |very )?sorry (?:for|about|to hear)|my apologies|apologies for|i apologi[sz]e|i understand|i see\b|i hear you"
    r"|i(?:'ll| will) (?:check|look)|let me (?:check|look|see|help|explain|know)"
    r"|have a (?:great|nice|good|lovely|wonderful)|(?:best|kind|warm|warmest) (?:regards|wishes)|best,?$|regards,?$|all the best"
    r"|take care|talk soon|stay safe|good luck|enjoy[!.]*$|-{2}|—|the (?:support|customer|help) team[.!]*$|your (?:support|customer) team"
    r"|i(?: can(?:no|')t| am not able to|'m not able to| won't| will not| am unable to|'m unable to) (?:help|assist|answer|provide|share|do that|support))",
    re.IGNORECASE,
)
# Remarks about the user or the question ("What a ridiculous question.", "Learn to read."): rude
# perhaps (the toxicity scorer's business), but nothing about the world to check.
_REMARK = re.compile(
    r"^(?:what a\b|(?:learn to|try using|figure it out|stop wasting|use your|read the (?:manual|docs|documentation)|google it)\b"
    r"|(?:that's|that is|this is|it's|what an?)\b[^.!?]{0,30}\b(?:stupid|ridiculous|dumb|silly|obvious|basic|embarrassing|pointless)\b)",
    re.IGNORECASE,
)
# "Here's a summary:", "Key points:", "Summary", "TL;DR" alone: a heading, not a claim.
_HEADING = re.compile(r"^[^.!?]{0,50}:$|^(?:summary|key points|tl;?dr|in short|answer|note)[:.]?$", re.IGNORECASE)
_SILENT_VERB = r"(?:say|mention|specify|specifies|state|include|contain|cover|address|give|provide|list|tell|explain|describe|discuss)s?"
_SILENT_SOURCES = re.compile(
    rf"^(?:{_RETRIEVED})\s+(?:do(?:es)?n't|do(?:es)? not|did not|didn't)\s+{_SILENT_VERB}"
    r"|^(?:it|they)\s+(?:do(?:es)?n't|do(?:es)? not|did not|didn't)\s+(?:say|mention|specify|state)"
    rf"|^(?:{_RETRIEVED})\s+(?:says?|mentions?|states?|specif(?:y|ies)) nothing"
    rf"|^(?:neither (?:document|passage|source|excerpt)|none of {_RETRIEVED})\s+{_SILENT_VERB}"
    r"|^i (?:could(?: not|n't)|can(?:not|'t)|did(?: not|n't)|do(?: not|n't)|was(?: not|n't) able to) (?:find|see|tell|say|know|confirm|determine|locate)"
    rf"|^(?:there is|there's|there are) no (?:information|mention|details?|data)|^(?:nothing|no information) in {_RETRIEVED}"
    rf"|^{_RETRIEVED}\s+(?:is|are) silent|^{_RETRIEVED}\s+(?:only )?(?:has|have|give|gives|contain|contains) no (?:information|mention|details?|data)"
    rf"|^i (?:don't|do not|didn't|did not) see (?:any(?:thing)?|no) (?:mention|information|details?|data|reference)?"
    rf"|^(?:there is|there's) nothing (?:in|about|on)|^no (?:details?|information|figures?|mention) (?:is|are|was|were) (?:given|provided|included|made)",
    re.IGNORECASE,
)
# "Whether pets are allowed isn't mentioned in the documents.": the topic first, the silence after it.
_SILENT_AFTER = re.compile(
    rf"\b(?:is|are|was|were)(?:n't| not)(?: (?:actually|explicitly|clearly))? (?:mentioned|specified|stated|covered|addressed|listed|given|provided|included|described)"
    rf"(?: anywhere)? in {_RETRIEVED}",
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


_MARKDOWN = re.compile(r"\*\*|__|`")


def strip_meta(sentence: str) -> str:
    """The sentence without its openers ("Based on the documents, ", "Sure, ", "- ") and markdown emphasis, first letter restored."""
    stripped = _MARKDOWN.sub("", sentence).strip()
    for _ in range(4):  # "Sure, based on the policy, ..." peels one opener at a time
        shorter = _OPENER.sub("", stripped, count=1)
        if shorter == stripped or not shorter:
            break
        stripped = shorter
    return stripped[:1].upper() + stripped[1:] if stripped else stripped


def is_claim(sentence: str) -> bool:
    text = sentence.strip()
    if text.endswith("?") or any(p.match(text) for p in (_HEADING, _COURTESY, _SILENT_SOURCES, _REMARK)) or _SILENT_AFTER.search(text):
        return False
    return len(re.findall(r"\w+", text)) >= 3


def claims_of(response: str) -> list[str]:
    claims = []
    for sentence in split_sentences(response):
        if not is_claim(sentence):
            continue  # checked before stripping too: "Sure, happy to help!" is courtesy, not the claim "Happy to help!"
        claim = strip_meta(sentence)
        if is_claim(claim):
            claims.append(claim)
    return claims[:MAX_CLAIMS]


def is_silence(sentence: str) -> bool:
    """"The documents do not say whether X": no claim about the world, but one about the context, checkable
    against it (wrong where the context does say)."""
    return bool(_SILENT_SOURCES.match(sentence.strip()) or _SILENT_AFTER.search(sentence))


def silence_topic(sentence: str) -> str:
    """What a silence sentence says the context is silent about: the words after the silence (or before it)."""
    text = sentence.strip()
    match = _SILENT_SOURCES.match(text)
    if match:
        return text[match.end() :]
    after = _SILENT_AFTER.search(text)
    return text[: after.start()] if after else ""


def checked_sentences(response: str) -> list[str]:
    """What a support model that can check silences is given: the claims and the silence sentences, in order."""
    return [checked for _, checked in checked_with_sentences(response)]


def checked_with_sentences(response: str) -> list[tuple[str, str]]:
    """(the sentence as written, what is checked of it) for each claim and silence sentence, in order.
    The sentence as written is what the other scorers embed already (a cache hit): openers barely move it."""
    out = []
    for sentence in split_sentences(response):
        stripped = strip_meta(sentence)
        if is_silence(sentence) or is_silence(stripped):
            out.append((sentence.strip(), stripped if is_silence(stripped) else sentence.strip()))
        elif is_claim(sentence) and is_claim(stripped):
            out.append((sentence.strip(), stripped))
    return out[:MAX_CLAIMS]
