"""The redaction policy: per tenant or region, which entity types are redacted and how (mask or
a keyed hash). The shipped default (redaction_policy.yaml beside this file) masks everything."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import SecretStr

DEFAULT_POLICY = Path(__file__).with_name("redaction_policy.yaml")
ALL_ENTITIES = frozenset(
    {
        "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "MAC_ADDRESS", "CRYPTO",
        "US_SSN", "US_ITIN", "UK_NHS", "UK_NINO", "IN_AADHAAR", "IN_PAN", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "PL_PESEL",
        "FI_PERSONAL_IDENTITY_CODE", "SE_PERSONNUMMER", "SG_NRIC_FIN", "AU_TFN", "CA_SIN", "DE_TAX_ID", "KR_RRN",
        "API_KEY", "JWT", "PRIVATE_KEY", "SECRET", "PASSWORD", "PERSON", "LOCATION",
    }
)
ACTIONS = ("mask", "hash")
HASH_HEX_CHARS = 16


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Rule:
    entities: frozenset[str]
    action: str = "mask"
    hmac_key: bytes | None = field(default=None, repr=False)

    @cached_property
    def _operators(self) -> dict[str, Any]:
        from presidio_anonymizer.entities import OperatorConfig

        if self.action == "mask":
            return {e: OperatorConfig("replace", {"new_value": f"<{e}>"}) for e in self.entities}
        return {e: OperatorConfig("custom", {"lambda": self._hasher(e)}) for e in self.entities}

    def operators(self) -> dict[str, Any]:
        return self._operators

    def _hasher(self, entity: str) -> Any:
        key = self.hmac_key or b""
        return lambda value: f"<{entity}:{hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:HASH_HEX_CHARS]}>"


@dataclass(frozen=True)
class RedactionPolicy:
    default: Rule
    rules: tuple[tuple[Mapping[str, str], Rule], ...] = ()

    def rule_for(self, *, tenant: str, region: str) -> Rule:
        event = {"tenant": tenant, "region": region}
        for match, rule in self.rules:
            if all(event.get(key) == value for key, value in match.items()):
                return rule
        return self.default


def load_policy(path: Path | None = None, hmac_key: SecretStr | None = None) -> RedactionPolicy:
    data = yaml.safe_load((path or DEFAULT_POLICY).read_text()) or {}
    key = hmac_key.get_secret_value().encode() if hmac_key else None
    default = _rule(data.get("default") or {}, key, "default")
    rules = []
    for number, entry in enumerate(data.get("rules") or []):
        match = entry.get("match") or {}
        unknown = set(match) - {"tenant", "region"}
        if not match or unknown:
            raise PolicyError(f"redaction policy rule {number}: `match` needs tenant and/or region, got {sorted(match) or 'nothing'}")
        rules.append(({k: str(v) for k, v in match.items()}, _rule(entry, key, f"rule {number}")))
    return RedactionPolicy(default, tuple(rules))


def _rule(entry: Mapping[str, Any], key: bytes | None, where: str) -> Rule:
    action = entry.get("action", "mask")
    if action not in ACTIONS:
        raise PolicyError(f"redaction policy {where}: action must be one of {ACTIONS}, got {action!r}")
    if action == "hash" and not key:
        raise PolicyError(f"redaction policy {where} hashes: set EVALSTREAM_REDACT_HMAC_KEY (an unkeyed hash of a phone number is reversible)")
    listed = entry.get("entities", "all")
    entities = ALL_ENTITIES if listed == "all" else frozenset(listed)
    unknown = (entities | frozenset(entry.get("except") or ())) - ALL_ENTITIES
    if unknown:
        raise PolicyError(f"redaction policy {where}: unknown entity types {sorted(unknown)}")
    return Rule(entities - frozenset(entry.get("except") or ()), action, key)
