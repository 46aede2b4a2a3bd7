"""Dead letters of large payloads: cut to what the letter can keep, then redacted (issue 13).

The redaction's work is counted (characters the redactor analyses), not timed: the time
budget of a 1 MiB payload is in bench/. A cut never leaves part of an entity unredacted.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from typing import Any

from evalstream.streams.dead_letters import TEXT_SAMPLE_CHARS, dead_letter_json
from evalstream.streams.redact import Redactor, Span
from evalstream.streams.redaction_policy import Rule

MIB = 1024 * 1024


class CountingRedactor(Redactor):
    """The real redactor, counting the characters it analyses: the work a dead letter costs."""

    analysed = 0

    def find(self, text: str, rule: Rule) -> list[Span]:
        self.analysed += len(text)
        return super().find(text, rule)


@cache
def counting_redactor() -> CountingRedactor:
    return CountingRedactor()


def letter(raw: bytes, **kwargs: Any) -> tuple[dict[str, Any], int]:
    """The dead letter of `raw` and how many characters the redactor analysed for it."""
    redactor = counting_redactor()
    before = redactor.analysed
    body = dead_letter_json(raw, error_kind="too_large", reason="event too large", source={"offset": 1}, redactor=redactor, **kwargs)
    return json.loads(body), redactor.analysed - before


def email_dense(chars: int, separator: str = " ") -> str:
    addresses, size, i = [], 0, 0
    while size < chars:
        address = f"user{i:07d}@mail{i % 97}.example.com"
        addresses.append(address)
        size += len(address) + 1
        i += 1
    return separator.join(addresses)[:chars]


def test_a_large_payload_is_cut_before_it_is_redacted_so_the_work_does_not_grow_with_it() -> None:
    one, work_one = letter(json.dumps({"prompt": email_dense(MIB)}).encode())
    four, work_four = letter(json.dumps({"prompt": email_dense(4 * MIB), "response": email_dense(MIB)}).encode())
    for record, work in ((one, work_one), (four, work_four)):
        assert record["payload_truncated"] is True and record["payload_kept_chars"] <= TEXT_SAMPLE_CHARS
        assert work <= TEXT_SAMPLE_CHARS + 4096  # the kept text, the look around the cut and the reason
        assert "@" not in json.dumps(record) and record["redactions"]["EMAIL_ADDRESS"] > 5_000
    assert work_four <= work_one * 1.05  # four times the payload, the same work
    print(f"\n1 MiB e-mail-dense payload: {work_one:,} characters analysed ({work_one / MIB:.2f} of the payload)")


def test_the_cut_also_fits_a_smaller_dead_letter_topic() -> None:
    record, work = letter(email_dense(MIB).encode(), max_bytes=64 * 1024)
    assert record["payload_encoding"] == "text" and record["payload_truncated"] is True
    assert work <= 64 * 1024 + 4096


def only_placeholders(payload: str, separator: str) -> bool:
    """Nothing but whole `<EMAIL_ADDRESS>` placeholders between separators (and the last may be cut)."""
    return re.fullmatch(rf"(<EMAIL_ADDRESS>{re.escape(separator)})*(<EMAIL_ADDRESS>)?{re.escape(separator)}?", payload) is not None


def test_a_cut_never_leaves_half_an_email_address_unredacted() -> None:
    limit = 16 * 1024  # the smallest DLQ limit allowed: the cut falls inside the first few hundred addresses
    for separator in (" ", ",", ";"):  # with no whitespace near the cut, the cut itself must avoid the address
        for shift in range(0, 40, 7):  # the cut falls at a different place of an address each time
            text = "x" * shift + separator + email_dense(3 * limit, separator)
            record, _ = letter(json.dumps({"prompt": text}).encode(), max_bytes=limit)
            payload = record["payload"]["prompt"] if record["payload_encoding"] == "json" else record["payload"]
            assert record["payload_truncated"] is True
            kept = payload[shift + 1 :] if payload.startswith("x" * shift) else payload
            assert only_placeholders(kept, separator), (separator, shift, kept[-80:])


def test_a_cut_never_leaves_part_of_a_spaced_card_number() -> None:
    limit = 16 * 1024
    cards = " and ".join(["4111 1111 1111 1111"] * 2_000)  # a Luhn-valid test number, spaced
    for shift in range(0, 20, 3):
        record, _ = letter(("y" * shift + " " + cards).encode(), max_bytes=limit)
        assert record["payload_truncated"] is True
        assert not re.search(r"\d", record["payload"]), record["payload"][-80:]


def test_a_short_payload_is_kept_whole_and_not_marked_cut() -> None:
    record, _ = letter(json.dumps({"prompt": "write to jane@example.com"}).encode())
    assert record["payload"] == {"prompt": "write to <EMAIL_ADDRESS>"}
    assert record["payload_truncated"] is False and "payload_kept_chars" not in record


def test_a_long_reason_is_cut_before_it_is_redacted_without_halving_an_address() -> None:
    reason = "x" * 2_030 + " jane.doe@example.com is not a valid tenant"
    body = dead_letter_json(b"{}", error_kind="invalid", reason=reason, source={}, redactor=counting_redactor())
    kept = json.loads(body)["reason"]
    assert "jane" not in kept and "@" not in kept and kept.endswith("…")
