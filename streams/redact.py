"""Personal data and secrets out of every text field of an event, before anything is scored,
stored or published: prompt, response, context passages, metadata values (recursively),
finish_reason and error_type.

Microsoft Presidio finds them (streams/pii_recognizers.py: its checksum-validated recognizers
plus credential ones) and replaces them, per the tenant's or region's policy
(streams/redaction_policy.yaml): masked as "<EMAIL_ADDRESS>" or hashed with a keyed HMAC.
Numbers the faithfulness scorer compares (prices, dates, durations, quantities, order and
version numbers, UUIDs) stay: no recognizer for them runs.

Cost: a cheap linear pre-filter decides which entity types a text can hold at all (an "@" for an
e-mail, seven digits for a phone or card, ...); clean text never reaches Presidio. Long text is
analysed in windows of a few KiB cut at whitespace, so the time is linear in the text's length
whatever it holds.

Without a spaCy NER model (none ships here) names and places are not found: the NLP pipeline is
a blank tokenizer built at run time (no download, ever). EVALSTREAM_REDACT_SPACY_MODEL=/path loads
a local spaCy pipeline instead and adds PERSON and LOCATION.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Iterator

from presidio_anonymizer.operators import OperatorType

from evalstream.config.settings import RedactionSettings
from evalstream.contracts import GenAIEvent
from evalstream.streams.redaction_policy import RedactionPolicy, Rule, load_policy

WINDOW_CHARS = 4096
OVERLAP_CHARS = 256  # longer than any entity spanning whitespace (a spaced IBAN, a phone number)
MIN_SCORE = 0.5
MIN_SCORE_BY_ENTITY = {"PHONE_NUMBER": 0.4}  # phonenumbers already checked the number plan
NER_ENTITIES = ("PERSON", "LOCATION")
MAX_DEPTH = 64  # of metadata and dead-lettered JSON


# -- the pre-filter: which entity types a text can hold (each regex linear: bounded, no nesting) --
_DIGIT_RUN = re.compile(r"\d(?:[ \t.\-/()]{0,2}\d){6}")  # seven digits: the shortest phone or digit id
_DIGIT_ENTITIES = (
    "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "US_ITIN", "UK_NHS", "IN_AADHAAR", "ES_NIF", "ES_NIE",
    "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER", "SG_NRIC_FIN", "AU_TFN", "CA_SIN", "DE_TAX_ID", "KR_RRN",
)
# Those that need a digit, tried only on text that has one.
TRIGGERS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (_DIGIT_RUN, _DIGIT_ENTITIES),
    (re.compile(r"[A-Za-z]{2}\d\d[ \-]?[A-Za-z0-9]{4}"), ("IBAN_CODE",)),
    (re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|:[0-9A-Fa-f]{0,4}:"), ("IP_ADDRESS",)),
    (re.compile(r"[0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}[:\-][0-9A-Fa-f]{2}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\."), ("MAC_ADDRESS",)),
    (re.compile(r"\b[13][a-km-zA-HJ-NP-Z1-9]{25}|\bbc1[a-z0-9]{25}"), ("CRYPTO",)),
    (re.compile(r"[A-Za-z]{5}\d{4}[A-Za-z]"), ("IN_PAN",)),
    (re.compile(r"[A-Za-z]{2} ?\d\d ?\d\d ?\d\d ?[A-Da-d]"), ("UK_NINO",)),
    (re.compile(r"[A-Za-z]{6}\d\d[A-Za-z]\d\d[A-Za-z]\d{3}[A-Za-z]"), ("IT_FISCAL_CODE",)),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5}"), ("JWT",)),
)
KEY_PREFIXES = (
    "sk-", "AKIA", "ASIA", "ABIA", "ACCA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "xoxa-", "xoxb-", "xoxp-",
    "xoxo-", "xoxs-", "xoxr-", "AIza", "glpat-", "hf_", "rk_live_", "rk_test_", "pk_live_", "pk_test_",
)
PASSWORD_WORDS = ("pass", "pwd", "pin", "secret", "api", "token")
SPELLED_AT = (" at ", "(at)", "[at]", "{at}", "<at>", "( at )", "[ at ]")
_SPELLED_DOT_OR_DOMAIN = re.compile(r" dot |[(\[{<] ?dot ?[)\]}>]| at [a-z0-9-]{1,63}\.[a-z]{2}")


def entities_present(text: str) -> set[str]:
    """The entity types `text` could hold: a superset of what the recognizers find, at the cost
    of a few scans (tens of microseconds for a 1,500-character text)."""
    found: set[str] = set()
    if "@" in text:
        found.add("EMAIL_ADDRESS")
    lowered = text.lower()
    if any(at in lowered for at in SPELLED_AT) and _SPELLED_DOT_OR_DOMAIN.search(lowered):
        found.add("EMAIL_ADDRESS")
    if any(word in lowered for word in PASSWORD_WORDS):
        found.add("PASSWORD")
    if any(prefix in text for prefix in KEY_PREFIXES):
        found.add("API_KEY")
    if "PRIVATE KEY-----" in text:
        found.add("PRIVATE_KEY")
    if len(text) >= 24 and max(map(len, text.split()), default=0) >= 24:
        found.add("SECRET")
    if any(c in text for c in "0123456789"):
        for trigger, entities in TRIGGERS:
            if not found.issuperset(entities) and trigger.search(text):
                found.update(entities)
    return found


_VERSION_BEFORE = re.compile(r"(?i)\b(?:v|version|release|build|firmware|kernel|python|node|ver\.?)\s{0,2}$")


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    score: float


class Redactor:
    """Finds and replaces; built once per process (loading Presidio takes about a second)."""

    def __init__(self, settings: RedactionSettings | None = None, policy: RedactionPolicy | None = None) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_anonymizer.operators import OperatorsFactory

        from evalstream.streams.pii_recognizers import IndexedContextEnhancer, credential_recognizers, presidio_recognizers

        settings = settings or RedactionSettings()
        self.policy = policy or load_policy(settings.policy, settings.hmac_key)
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in presidio_recognizers() + credential_recognizers():
            registry.add_recognizer(recognizer)
        self.with_ner = settings.spacy_model is not None
        if self.with_ner:
            from presidio_analyzer.predefined_recognizers import SpacyRecognizer

            registry.add_recognizer(SpacyRecognizer(supported_entities=list(NER_ENTITIES)))
        self.analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=_local_spacy_engine(settings.spacy_model), supported_languages=["en"],
            context_aware_enhancer=IndexedContextEnhancer(),
        )
        self.operators = OperatorsFactory()
        self._lock = threading.Lock()  # spaCy and the context enhancer are not documented thread-safe

    def find(self, text: str, rule: Rule) -> list[Span]:
        spans: list[Span] = []
        for offset, window in _windows(text):
            wanted = entities_present(window) & rule.entities
            if self.with_ner:
                wanted |= set(NER_ENTITIES) & rule.entities
            if wanted:
                with self._lock:
                    found = self._analyze(window, sorted(wanted))
                spans.extend(Span(r.entity_type, r.start + offset, r.end + offset, r.score) for r in found if _keep_result(window, r.entity_type, r.start))
        return _merge_overlaps(spans)

    def _analyze(self, text: str, entities: list[str]) -> list[Any]:
        """Presidio's analysis (its recognizers, then its context enhancer), with the context step
        only for findings too weak to stand alone: Presidio would copy and re-score every
        finding, about a millisecond each, which a text dense with findings paid per finding."""
        recognizers = self.analyzer.registry.get_recognizers(language="en", entities=entities)
        artifacts = self.analyzer.nlp_engine.process_text(text, "en") if self.with_ner else None
        results = [r for recognizer in recognizers for r in recognizer.analyze(text, entities, artifacts) if r.entity_type in entities]
        strong = [r for r in results if r.score >= _min_score(r.entity_type)]
        weak = [r for r in results if 0 < r.score < _min_score(r.entity_type)]
        if weak:
            artifacts = artifacts or self.analyzer.nlp_engine.process_text(text, "en")
            enhanced = self.analyzer.context_aware_enhancer.enhance_using_context(text, weak, artifacts, recognizers)
            strong += [r for r in enhanced if r.score >= _min_score(r.entity_type)]
        return strong

    def redact(self, text: str, rule: Rule, counts: Counter[str]) -> str:
        if not text:
            return text
        spans = self.find(text, rule)
        if not spans:
            return text
        # Presidio's operators make each replacement; the text is assembled here in one pass
        # (AnonymizerEngine rebuilds the whole string per finding: quadratic in findings).
        parts, done = [], 0
        for span in spans:
            config = rule.operators()[span.entity]
            operator = self.operators.create_operator_class(config.operator_name, OperatorType.Anonymize)
            parts += [text[done:span.start], operator.operate(text[span.start : span.end], config.params)]
            done = span.end
            counts[span.entity] += 1
        parts.append(text[done:])
        return "".join(parts)

    def redact_value(self, value: Any, rule: Rule, counts: Counter[str], depth: int = 0) -> Any:
        """Every string inside a JSON-like value (dict values, list items); keys and numbers stay.
        Below MAX_DEPTH levels a value is dropped whole (never kept unread): no recursion error."""
        if isinstance(value, str):
            return self.redact(value, rule, counts)
        if isinstance(value, (dict, list, tuple)) and depth >= MAX_DEPTH:
            counts["TOO_DEEP"] += 1
            return "<TOO_DEEP>"
        if isinstance(value, dict):
            return {key: self.redact_value(item, rule, counts, depth + 1) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_value(item, rule, counts, depth + 1) for item in value]
        return value


def _min_score(entity: str) -> float:
    return MIN_SCORE_BY_ENTITY.get(entity, MIN_SCORE)


def _keep_result(window: str, entity: str, start: int) -> bool:
    """A version string shaped like an IPv4 address ("version 1.2.3.4") is a fact, not an address."""
    return entity != "IP_ADDRESS" or not _VERSION_BEFORE.search(window, max(0, start - 12), start)


def _merge_overlaps(spans: list[Span]) -> list[Span]:
    """Overlapping findings become one span over their union, named after the most certain."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = _better(last, span)
            merged[-1] = Span(best.entity, last.start, max(last.end, span.end), max(last.score, span.score))
        else:
            merged.append(span)
    return merged


GENERIC_ENTITIES = frozenset({"PHONE_NUMBER", "SECRET"})


def _better(a: Span, b: Span) -> Span:
    """The name for two overlapping findings: the one containing the other ("+1 415 555 2671"
    over the 10 digits that pass an NHS check), else the specific over the generic (an SSN
    that also reads as a phone number, a key that is also a high-entropy token)."""
    if a.start <= b.start and b.end <= a.end and (a.start, a.end) != (b.start, b.end):
        return a
    if b.start <= a.start and a.end <= b.end and (a.start, a.end) != (b.start, b.end):
        return b
    rank = lambda s: (s.entity not in GENERIC_ENTITIES, s.score, s.end - s.start)  # noqa: E731
    return a if rank(a) >= rank(b) else b


def _windows(text: str) -> Iterator[tuple[int, str]]:
    """Overlapping windows of about WINDOW_CHARS, cut at whitespace where there is some, so a
    token is never split and an entity shorter than the overlap lies whole in one window."""
    if len(text) <= WINDOW_CHARS + OVERLAP_CHARS:
        yield 0, text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + WINDOW_CHARS)
        if end < len(text):
            cut = text.rfind(" ", end - OVERLAP_CHARS, end)
            end = cut if cut > start else end
        yield start, text[start:end]
        if end >= len(text):
            return
        following = text.find(" ", end - OVERLAP_CHARS, end)
        start = following + 1 if following > start else end - OVERLAP_CHARS


def _local_spacy_engine(model_path: Path | None) -> Any:
    """Presidio's spaCy engine on a pipeline built here: a blank English tokenizer, or a spaCy
    pipeline from a local directory. Presidio's own loader would download a missing model."""
    import spacy
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class LocalSpacyNlpEngine(SpacyNlpEngine):
        def load(self) -> None:
            if model_path is None:
                nlp = spacy.blank("en")
                nlp.add_pipe("evalstream_lower_lemmas")
            else:
                if not model_path.is_dir():
                    raise FileNotFoundError(f"EVALSTREAM_REDACT_SPACY_MODEL: no spaCy pipeline at {model_path}")
                nlp = spacy.load(model_path)
            self.nlp = {"en": nlp}

    engine = LocalSpacyNlpEngine(models=[{"lang_code": "en", "model_name": str(model_path or "blank:en")}])
    engine.load()
    return engine


@cache
def _register_lemma_component() -> None:
    from spacy.language import Language

    # Presidio boosts a match found near a context word ("SSN", "phone"), comparing lemmas; a blank
    # pipeline has none, so the lower-cased token stands in.
    @Language.component("evalstream_lower_lemmas")
    def lower_lemmas(doc: Any) -> Any:
        for token in doc:
            token.lemma_ = token.lower_
        return doc


_register_lemma_component()


@cache
def default_redactor() -> Redactor:
    return Redactor()


@dataclass(frozen=True)
class RedactedEvent:
    event: GenAIEvent
    counts: dict[str, int]  # redactions per entity type, over all of the event's fields


def redact_event(event: GenAIEvent, redactor: Redactor | None = None) -> RedactedEvent:
    redactor = redactor or default_redactor()
    rule = redactor.policy.rule_for(tenant=event.tenant, region=event.region)
    counts: Counter[str] = Counter()
    update: dict[str, Any] = {
        "prompt": redactor.redact(event.prompt, rule, counts),
        "response": redactor.redact(event.response, rule, counts),
        "context": redactor.redact_value(event.context, rule, counts) if event.context is not None else None,
        "metadata": redactor.redact_value(event.metadata, rule, counts),
    }
    for name in ("finish_reason", "error_type"):
        value = getattr(event, name)
        if value:
            update[name] = redactor.redact(value, rule, counts)
    return RedactedEvent(event.model_copy(update=update), dict(counts))


def redact_text(text: str, redactor: Redactor | None = None, *, tenant: str = "", region: str = "") -> str:
    redactor = redactor or default_redactor()
    return redactor.redact(text, redactor.policy.rule_for(tenant=tenant, region=region), Counter())
