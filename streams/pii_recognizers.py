"""The recognizers redaction runs: Presidio's checksum-validated ones, and credentials.

Every pattern here runs in linear time: quantifiers are bounded and no two adjacent parts can
match the same characters, so a hostile 200,000-character text costs a scan, not a freeze.
Presidio's own e-mail pattern (`[...]{0,}` before the "@") backtracks quadratically on
"a" * N + "@": the e-mail recognizer keeps Presidio's validation (a known top-level domain,
from tldextract's bundled snapshot: no download) with a bounded pattern.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import phonenumbers
import regex
import tldextract
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer import EntityRecognizer, LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult
from presidio_analyzer import predefined_recognizers as presidio

# The public suffix list as the package ships it: suffix_list_urls=() never goes to the network.
_OFFLINE_TLDS = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

SECRET_ENTITIES = ("API_KEY", "JWT", "PRIVATE_KEY", "SECRET", "PASSWORD")


class OfflineEmailRecognizer(presidio.EmailRecognizer):
    PATTERNS = [
        Pattern(
            "Email (bounded)",
            r"(?<![\w.+%'-])[\w!#$%&'*+/=?^`{|}~-](?:[\w!#$%&'*+/=?^`{|}~.-]{0,62}[\w!#$%&'*+/=?^`{|}~-])?"
            r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.){1,8}[^\W\d_]{2,24}\b",
            0.5,
        )
    ]

    def __init__(self) -> None:
        super().__init__(patterns=self.PATTERNS)

    def validate_result(self, pattern_text: str) -> bool:
        return _OFFLINE_TLDS(pattern_text.rsplit("@", 1)[-1]).suffix != ""


_AT = r"(?:\s*[\[\(\{<]\s*at\s*[\]\)\}>]\s*|\s+at\s+)"
_DOT = r"(?:\s*[\[\(\{<]\s*dot\s*[\]\)\}>]\s*|\s+dot\s+|\.)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?"


class ObfuscatedEmailRecognizer(PatternRecognizer):
    """"john dot doe at example dot com", "jane[at]example[dot]org": written to dodge filters."""

    PATTERNS = [
        Pattern(
            "Email (spelled out)",
            rf"\b{_LABEL}(?:{_DOT}{_LABEL}){{0,3}}{_AT}{_LABEL}(?:{_DOT}{_LABEL}){{0,3}}{_DOT}"
            r"(?:com|org|net|edu|gov|io|co|de|fr|uk|in|es|it|nl|eu|info|biz|me|dev|ai|jp|cn|ru|br|au|ca|ch|at|se|no|pl|be|pt|mx|us)\b",
            0.6,
        )
    ]

    def __init__(self) -> None:
        super().__init__(supported_entity="EMAIL_ADDRESS", patterns=self.PATTERNS, name="ObfuscatedEmailRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        lowered = pattern_text.lower()
        return " at " in lowered or "at]" in lowered or "at)" in lowered or "at}" in lowered or "at>" in lowered


# Presidio's card pattern, plus Mastercard's 2221-2720 range it lacks; Luhn still decides.
CARD_PATTERNS = [
    *presidio.CreditCardRecognizer.PATTERNS,
    Pattern("Mastercard 2-series", r"\b2[2-7]\d{2}[- ]?\d{4}[- ]?\d{4}[- ]?\d{4}\b", 0.3),
]


class BoundedPhoneRecognizer(presidio.PhoneRecognizer):
    """Presidio's phone recognizer (phonenumbers' number plans, its score and context words) on
    candidates a bounded regex finds. Presidio runs phonenumbers' matcher over the whole text
    once per region, and its inner-match search parses each digit run ~20 times: a text dense
    with numbers took a minute per 200,000 characters. Here each candidate is parsed for the
    regions its shape allows, first valid wins, and repeated candidates come from a cache."""

    CANDIDATE = regex.compile(r"(?<![\w+./-])(?:\+|\()?\d[\d \t.()/-]{5,18}\d(?![\w/]|[.-]\d)")
    DATE_LIKE = regex.compile(r"\d{4}[-./]\d\d[-./]\d\d|\d\d?[-./]\d\d?[-./]\d{4}")
    TRUNK_ZERO_REGIONS = ("GB", "DE", "FR", "IN", "NL", "AU", "IT", "IL", "BR")
    OTHER_REGIONS = ("US", "IN", "ES", "IT", "BR", "FR")

    UNFORMATTED_SCORE = 0.3  # a bare digit run is as often an order number: a context word must back it
    CONTEXT = [*presidio.PhoneRecognizer.CONTEXT, "tel", "text", "sms", "whatsapp", "reach", "contact", "numéro", "nummer", "rückruf", "anrufen", "handy"]

    def __init__(self) -> None:
        super().__init__(context=self.CONTEXT)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        results = []
        for match in self.CANDIDATE.finditer(text):
            candidate = match.group()
            if not _phone_shaped(candidate):
                continue
            region = _phone_region(candidate)
            if region:
                span = SimpleNamespace(start=match.start(), end=match.end())
                result = self._get_recognizer_result(span, text, region, nlp_artifacts)
                if candidate.isdigit():
                    result.score = self.UNFORMATTED_SCORE
                results.append(result)
        return results


_YEAR_PREFIXED = regex.compile(r"(?:19|20)\d\d[-/.]")
_DOTTED_QUAD = regex.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")


def _phone_shaped(candidate: str) -> bool:
    """Grouped like a phone number, not like a date, a version or a year-prefixed reference."""
    if BoundedPhoneRecognizer.DATE_LIKE.fullmatch(candidate) or _YEAR_PREFIXED.match(candidate) or _DOTTED_QUAD.fullmatch(candidate):
        return False
    groups = [g for g in regex.split(r"\D+", candidate) if g]
    if len(groups[-1]) < 2:
        return False  # "20261104.7"
    return candidate.startswith(("+", "(")) or len(groups[0]) > 1 or groups[0] in ("0", "1")


@lru_cache(maxsize=65536)
def _phone_region(candidate: str) -> str | None:
    digits = sum(c.isdigit() for c in candidate)
    if not 7 <= digits <= 15:
        return None
    if candidate.startswith("+"):
        regions: tuple[str, ...] = ("ZZ",)
    else:
        regions = BoundedPhoneRecognizer.TRUNK_ZERO_REGIONS if candidate.startswith(("0", "(0")) else BoundedPhoneRecognizer.OTHER_REGIONS
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, None if region == "ZZ" else region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.region_code_for_number(number) or region
    return None


class IndexedContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer, with the token under a finding found by bisection: Presidio
    walks the spaCy tokens from the start for every finding (quadratic in findings per text)."""

    @staticmethod
    def _find_index_of_match_token(word: str, start: int, tokens: Any, tokens_indices: list[int]) -> int:
        i = bisect_right(tokens_indices, start) - 1
        if i >= 0 and start < tokens_indices[i] + len(tokens[i]):
            return i
        if i + 1 < len(tokens_indices):
            return i + 1
        raise ValueError(f"no token at offset {start}")


class ApiKeyRecognizer(PatternRecognizer):
    """Keys that announce themselves by a vendor prefix: a match is a key, no context needed."""

    PATTERNS = [
        Pattern("Anthropic key", r"\bsk-ant-[A-Za-z0-9_-]{20,200}", 1.0),
        Pattern("OpenAI-style key", r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,200}", 1.0),
        Pattern("Stripe key", r"\b(?:rk|pk)_(?:live|test)_[A-Za-z0-9]{16,120}\b", 1.0),
        Pattern("AWS access key id", r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", 1.0),
        Pattern("GitHub token", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,80}\b", 1.0),
        Pattern("GitHub fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{30,120}\b", 1.0),
        Pattern("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,120}", 1.0),
        Pattern("Google API key", r"\bAIza[A-Za-z0-9_-]{35}\b", 1.0),
        Pattern("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,80}\b", 1.0),
        Pattern("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,80}\b", 1.0),
    ]

    def __init__(self) -> None:
        super().__init__(supported_entity="API_KEY", patterns=self.PATTERNS, name="ApiKeyRecognizer", global_regex_flags=0)


class JwtRecognizer(PatternRecognizer):
    PATTERNS = [Pattern("JWT", r"\beyJ[A-Za-z0-9_-]{5,4000}\.eyJ[A-Za-z0-9_-]{5,8000}\.[A-Za-z0-9_-]{0,4000}", 1.0)]

    def __init__(self) -> None:
        super().__init__(supported_entity="JWT", patterns=self.PATTERNS, name="JwtRecognizer", global_regex_flags=0)


class PrivateKeyRecognizer(LocalRecognizer):
    """A PEM private key block, found by plain substring search (linear, any length). A key cut
    short (no END line) is redacted up to the end of its base64 body."""

    BEGIN, END = "-----BEGIN ", "-----END "

    def __init__(self) -> None:
        super().__init__(supported_entities=["PRIVATE_KEY"], name="PrivateKeyRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        results, position = [], 0
        while (start := text.find(self.BEGIN, position)) >= 0:
            header_end = text.find("-----", start + len(self.BEGIN))
            if header_end < 0:
                break
            if "PRIVATE KEY" not in text[start:header_end]:
                position = header_end + 5
                continue
            end = self._block_end(text, header_end + 5)
            results.append(RecognizerResult("PRIVATE_KEY", start, end, EntityRecognizer.MAX_SCORE))
            position = end
        return results

    def _block_end(self, text: str, body_start: int) -> int:
        footer = text.find(self.END, body_start)
        if footer >= 0:
            close = text.find("-----", footer + len(self.END))
            return close + 5 if close >= 0 else len(text)
        end = body_start
        while end < len(text) and (text[end].isalnum() or text[end] in "+/=\r\n \t:-"):
            end += 1
        return end


class SecretTokenRecognizer(PatternRecognizer):
    """A long token of mixed case and digits with high entropy: an unprefixed key or session
    secret. Hex-only strings (hashes, UUIDs) and single-case codes (tracking numbers) are kept."""

    PATTERNS = [Pattern("High-entropy token", r"(?<![A-Za-z0-9_+/=-])[A-Za-z0-9_+/=-]{24,512}(?![A-Za-z0-9_+/=-])", 0.5)]
    MIN_BITS_PER_CHAR = 3.5

    def __init__(self) -> None:
        super().__init__(supported_entity="SECRET", patterns=self.PATTERNS, name="SecretTokenRecognizer", global_regex_flags=0)

    def validate_result(self, pattern_text: str) -> bool:
        body = pattern_text.strip("=")
        if not (any(c.islower() for c in body) and any(c.isupper() for c in body) and any(c.isdigit() for c in body)):
            return False
        if sum(c.isdigit() for c in body) < 3 or "--" in body or body.count("-") > len(body) // 6:
            return False  # words-with-hyphens and slugs, not keys
        counts = Counter(body)
        bits = -sum(n / len(body) * math.log2(n / len(body)) for n in counts.values())
        return bits >= self.MIN_BITS_PER_CHAR


class PasswordRecognizer(LocalRecognizer):
    """The value after "password:", "pwd=", "my passcode is ..." and the like; the label stays.
    After "is"/"was" a plain lower-case word is prose ("the password is wrong"), not a secret."""

    PATTERN = (
        r"(?i)\b(?:pass(?:word|wd|code|phrase)?|pwd|pin|secret|api[_ -]?key|access[_ -]?token|token)"
        r"(?:\s{0,3}(?P<sign>=|:|:=|->)|\s{1,3}(?P<verb>is|was))\s{0,3}[\"'`]?(?P<value>[^\s\"'`,;]{4,128})"
    )

    def __init__(self) -> None:
        self._pattern = regex.compile(self.PATTERN)
        super().__init__(supported_entities=["PASSWORD"], name="PasswordRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        results = []
        for match in self._pattern.finditer(text):
            value = match.group("value").rstrip(".")
            if match.group("verb") and value.isalpha() and value.islower():
                continue
            results.append(RecognizerResult("PASSWORD", match.start("value"), match.start("value") + len(value), 0.9))
        return results


# Presidio ships these for their country's language ("es", "pl", ...); ids appear in English text too.
NATIONAL_ID_RECOGNIZERS = (
    presidio.UsSsnRecognizer, presidio.UsItinRecognizer, presidio.NhsRecognizer, presidio.UkNinoRecognizer,
    presidio.InAadhaarRecognizer, presidio.InPanRecognizer, presidio.EsNifRecognizer, presidio.EsNieRecognizer,
    presidio.ItFiscalCodeRecognizer, presidio.PlPeselRecognizer, presidio.FiPersonalIdentityCodeRecognizer,
    presidio.SePersonnummerRecognizer, presidio.SgFinRecognizer, presidio.AuTfnRecognizer, presidio.CaSinRecognizer,
    presidio.DeTaxIdRecognizer, presidio.KrRrnRecognizer,
)


def presidio_recognizers() -> list[EntityRecognizer]:
    """Presidio's recognizers whose matches are validated (checksum, a valid TLD or phone plan)
    or distinctive enough to stand alone. Left out: names, places, dates (no NER model ships
    here; dates are facts), URLs, UUIDs, and the weak digit-run ones (US bank and passport
    numbers, driver licences) that cannot tell an id from an order number."""
    return [
        OfflineEmailRecognizer(),
        BoundedPhoneRecognizer(),
        presidio.CreditCardRecognizer(patterns=CARD_PATTERNS),
        presidio.IbanRecognizer(),
        presidio.IpRecognizer(),
        presidio.MacAddressRecognizer(),
        presidio.CryptoRecognizer(),
        *(recognizer(supported_language="en") for recognizer in NATIONAL_ID_RECOGNIZERS),
    ]


def credential_recognizers() -> list[EntityRecognizer]:
    return [ApiKeyRecognizer(), JwtRecognizer(), PrivateKeyRecognizer(), SecretTokenRecognizer(), PasswordRecognizer(), ObfuscatedEmailRecognizer()]
