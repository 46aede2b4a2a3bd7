"""The keys that decide where a record goes: its Kafka partition and its drift statistics."""

from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple

from evalstream.producer.contract import event_key

# Events and score records share one partition key, so one app's records keep their order and
# all records of a drift key reach the same drift worker.
partition_key = event_key


class DriftKey(NamedTuple):
    """What drift statistics are kept per: one prompt version of one model, per region."""

    tenant: str
    app: str
    use_case: str
    model: str
    prompt_version: str
    region: str

    @classmethod
    def of(cls, source: Mapping[str, Any]) -> DriftKey:
        """The key of a mapping that has the key's fields (a record or an alert as a dict)."""
        return cls(*(str(source[f]) for f in cls._fields))

    @property
    def id(self) -> str:
        return json.dumps(list(self), separators=(",", ":"))

    @property
    def family(self) -> str:
        """The versions of one (tenant, app, use_case, region) succeed each other in a family."""
        return json.dumps([self.tenant, self.app, self.use_case, self.region], separators=(",", ":"))

    def label(self) -> str:
        return f"{self.tenant}/{self.app} / {self.model} / prompt v{self.prompt_version} in {self.region}"
