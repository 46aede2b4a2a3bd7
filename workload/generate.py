"""Seeded generator of a realistic evalstream workload: one JSON event per line, some lines malformed.

Three tenants run eight apps (RAG Q&A, support chat, summarisation, code help) on a skewed mix of
models. RAG and chat events retrieve three passages from a shared knowledge base, so passages repeat.
Each knowledge-base passage marks one fact as `[true|wrong]`: faithful answers use the true value and
about 8% of answers state the wrong one. Everything comes from one `random.Random(seed)`, and the file
is gzipped with mtime=0, so the same arguments give the same bytes.

Beside OUT it writes OUT's truth (`sample_events.jsonl.gz` -> `sample_truth.jsonl.gz`): one line per
input line with what the generator did to that event: the fact it changed (true and wrong value),
an answer taken from a passage that is not in the context (off topic), a refusal, a toxic reply,
a truncated or failed answer, a malformed line. Recording it draws nothing from the random stream,
so the events are the same bytes with or without it.

    .venv/bin/python -m evalstream.workload.generate OUT.jsonl.gz [--events 3000] [--seed 7] [--malformed 12]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from evalstream.workload.corpus import (  # noqa: F401  (MODELS, PASSAGES, RUDE are read by bench/ and evaluation/)
    ABUSE,
    ANSWER_CLOSERS,
    ANSWER_OPENERS,
    APPS,
    ASK_CLOSERS,
    ASK_OPENERS,
    App,
    CHAT_GREETINGS,
    CODE,
    FOLLOW_UPS,
    INCIDENTS,
    KB,
    LOOP,
    MALFORMED_KINDS,
    MIXES,
    MODELS,
    PASSAGES,
    REFUSALS,
    RUDE,
    SERVICES,
    SUMMARY_ASKS,
    SUMMARY_INTROS,
    TITLES,
    _FACT,
)


def _sentences(passage: str) -> list[str]:
    return re.split(r"(?<=\.)\s+", passage.split(": ", 1)[1])


def _fact_answer(rng: random.Random, entry: int, wrong: bool) -> tuple[str, str]:
    """An answer taken from one passage: its marked fact, maybe with more of the passage, true or changed.
    Also the answer's text up to the end of the marked fact's value (what a truncation must keep for it to stay)."""
    sentences = _sentences(KB[entry][2])
    key = next(s for s in sentences if "[" in s)
    roll = rng.random()
    parts = [key] if roll < 0.45 else [key, rng.choice([s for s in sentences if s != key])] if roll < 0.8 else sentences
    joined = " ".join(parts)
    text = _FACT.sub(r"\2" if wrong else r"\1", joined)
    fact = _FACT.search(joined)
    value_end = fact.start() + len(fact.group(2 if wrong else 1))
    opener = rng.choice(ANSWER_OPENERS)
    if opener.endswith(", ") and text[1:2].islower():
        text = text[0].lower() + text[1:]
    return opener + text, text[:value_end]


def _changed_fact(entry: int) -> dict[str, Any]:
    true, wrong = _FACT.search(KB[entry][2]).groups()
    return {"passage": entry, "true": true, "wrong": wrong}


def _rag(rng: random.Random, app: App, chat: bool, truth: dict[str, Any]) -> tuple[str, list[str], str]:
    entries = [i for i, (domain, _, _) in enumerate(KB) if domain in app.domains]
    entry = rng.choice(entries)
    question = rng.choice(KB[entry][1].split("|"))
    closers = ASK_CLOSERS if KB[entry][0] == "cust" else ASK_CLOSERS[:-2]
    prompt = rng.choice(ASK_OPENERS) + question + rng.choice(closers).format(n=rng.randint(10000, 99999))
    pool = rng.sample(range(len(KB)), 6) if rng.random() < 0.15 else entries
    context = [entry] + rng.sample([i for i in pool if i != entry], 2)
    if rng.random() < 0.4:
        rng.shuffle(context)
    roll = rng.random()
    if roll < 0.05:
        other = rng.choice([i for i in range(len(KB)) if i not in context])
        answer, kept_if = _fact_answer(rng, other, False)
        truth.update(off_topic=True, answer_from_passage=other, unfaithful_if_kept=kept_if)
    else:
        answer, kept_if = _fact_answer(rng, entry, wrong=roll < 0.13)
        if roll < 0.13:
            truth.update(changed_fact=_changed_fact(entry), unfaithful_if_kept=kept_if)
    if chat:
        answer = rng.choice(CHAT_GREETINGS) + answer
    return prompt, [PASSAGES[i] for i in context], answer + rng.choice(ANSWER_CLOSERS)


def _summary(rng: random.Random, app: App, when: datetime, truth: dict[str, Any]) -> tuple[str, list[str], str]:
    wrong = rng.random() < 0.08
    if rng.random() < 0.5:
        domain = rng.choice(app.domains)
        picked = rng.sample([i for i, (d, _, _) in enumerate(KB) if d == domain], rng.randint(3, 5))
        revised = (when - timedelta(days=rng.randint(3, 400))).strftime("%d %B %Y")
        doc = f"{TITLES[domain]} - excerpt (revised {revised})\n\n" + "\n\n".join(PASSAGES[i] for i in picked)
        bad = rng.choice(picked) if wrong else -1
        facts = [_FACT.sub(r"\2" if i == bad else r"\1", next(s for s in _sentences(KB[i][2]) if "[" in s)) for i in picked]
        body = "\n".join("- " + f for f in facts) if rng.random() < 0.7 else " ".join(facts)
        if wrong:
            changed = facts[picked.index(bad)]
            truth.update(changed_fact=_changed_fact(bad), unfaithful_if_kept=changed)
        return rng.choice(SUMMARY_ASKS), [doc], rng.choice(SUMMARY_INTROS) + "\n" + body
    day = (when - timedelta(days=rng.randint(1, 20))).strftime("%d %B %Y")
    service, (cause, fix), follow = rng.choice(SERVICES), rng.choice(INCIDENTS), rng.sample(FOLLOW_UPS, 2)
    minutes, share, region, hour = rng.randint(6, 95), rng.randint(2, 60), rng.choice(app.regions), rng.randint(0, 22)
    doc = (f"Incident report INC-{rng.randint(1000, 9999)} - {day}\n\nBetween {hour:02d}:{rng.randint(0, 59):02d} and "
           f"{hour + 1:02d}:{rng.randint(0, 59):02d} UTC the {service} returned elevated error rates for {minutes} minutes, "
           f"affecting roughly {share}% of requests in {region}. The root cause was {cause}. The on-call engineer {fix}, "
           f"after which error rates returned to normal. {rng.randint(3, 180)} customer tickets were opened and affected "
           f"Enterprise customers will receive service credits. Follow-up actions: {follow[0]}; {follow[1]}. "
           f"Owner: platform team, due {(when + timedelta(days=rng.randint(7, 30))).strftime('%d %B %Y')}.")
    told = minutes * rng.choice([2, 3]) if wrong else minutes
    answer = (f"On {day}, the {service} had a {told}-minute incident affecting about {share}% of requests in {region}, "
              f"caused by {cause}. The on-call engineer {fix}. Follow-ups: {follow[0]} and {follow[1]}.")
    if wrong:
        truth.update(changed_fact={"passage": "incident", "true": f"{minutes}-minute", "wrong": f"{told}-minute"},
                     unfaithful_if_kept=answer[: answer.index(f"{told}-minute") + len(f"{told}-minute")])
    return rng.choice(SUMMARY_ASKS), [doc], answer


def _code(rng: random.Random) -> tuple[str, None, str]:
    question, answer = rng.choice(CODE)
    prompt = rng.choice(["", "", "Quick one: ", "Can you help? ", "I'm stuck. "]) + question
    return prompt + rng.choice(["", "", " Thanks!", " Please keep it short."]), None, answer


def _event(rng: random.Random, when: datetime, frac: float, rollouts: dict[tuple[str, str, str], float], truth: dict[str, Any]) -> dict[str, Any]:
    app = rng.choices(APPS, weights=[a.weight for a in APPS])[0]
    prompt_id, old, new, system_tokens = rng.choice(app.prompts)
    newer = rng.random() < min(1.0, max(0.0, (frac - rollouts[app.tenant, app.name, prompt_id]) / 0.1))
    model = rng.choices(list(MODELS), weights=MIXES[app.mix])[0]
    provider, base_ms, per_token_ms = MODELS[model]
    if app.use_case in ("rag-qa", "support-chat"):
        prompt, context, response = _rag(rng, app, chat=app.use_case == "support-chat", truth=truth)
    elif app.use_case == "summarization":
        prompt, context, response = _summary(rng, app, when, truth)
    else:
        prompt, context, response = _code(rng)
    finish, error = "stop", None
    roll = rng.random()
    if roll < 0.015:
        prompt = rng.choice(ABUSE) + prompt
        if rng.random() < 0.6:
            response, finish = rng.choice([("", "content_filter"), (rng.choice(REFUSALS), "stop")])
        else:
            response = "I understand you're frustrated. " + response
    elif roll < 0.02:
        response, finish = rng.choice([("", "content_filter"), (rng.choice(REFUSALS), "stop")])
    elif roll < 0.04:
        rude = rng.choice(RUDE)
        response = rude if rng.random() < 0.5 else rude + " " + response
    elif roll < 0.05:
        response, finish = response[: rng.randint(20, max(21, len(response) - 10))], "length"
    elif roll < 0.06:
        response, finish, error = "", None, "timeout"
    _record_outcome(truth, roll, response, finish, error)
    system = round(system_tokens * (1.15 if newer else 1.0))
    text_chars = len(prompt) + sum(len(p) for p in context or [])
    usage = {"input_tokens": system + math.ceil(text_chars / 4 * rng.uniform(0.9, 1.1)),
             "output_tokens": math.ceil(len(response) / 4 * rng.uniform(0.9, 1.1)),
             "cached_input_tokens": 0, "reasoning_tokens": 0}
    if provider != "selfhosted" and usage["input_tokens"] >= 1024 and rng.random() < 0.55:
        usage["cached_input_tokens"] = system // 128 * 128
    if model == "o3-mini" and error is None:
        usage["reasoning_tokens"] = rng.randint(2, 20) * 64
        usage["output_tokens"] += usage["reasoning_tokens"]
    latency = (base_ms + per_token_ms * usage["output_tokens"] + 0.04 * usage["input_tokens"]) * rng.lognormvariate(0, 0.3)
    event = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "ts": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z",
        "tenant": app.tenant, "app": app.name,
        "environment": "staging" if rng.random() < 0.08 else "prod",
        "region": rng.choice(app.regions), "use_case": app.use_case, "provider": provider, "model": model,
        "prompt_id": prompt_id, "prompt_version": new if newer else old,
        "prompt": prompt, "context": context, "response": response, "usage": usage,
        "latency_ms": 30000.0 if error else round(min(6000.0, max(200.0, latency)), 1),
        "finish_reason": finish, "error_type": error,
        "metadata": {"user_tier": rng.choices(["free", "pro", "enterprise"], weights=[50, 35, 15])[0]},
    }
    if error or rng.random() < 0.04:
        del event["usage"]
    if rng.random() < (0.7 if app.use_case == "support-chat" else 0.3):
        event["metadata"]["session_id"] = f"sess_{rng.getrandbits(48):012x}"
    if rng.random() < 0.003:
        event["trace_id"] = f"{rng.getrandbits(128):032x}"
    return event


def _record_outcome(truth: dict[str, Any], roll: float, response: str, finish: str | None, error: str | None) -> None:
    """What the event's answer is, now that it may have been replaced, prefixed or cut."""
    truth["abusive_prompt"] = roll < 0.015
    truth["refused"] = finish == "content_filter" or response in REFUSALS
    truth["toxic"] = any(response.startswith(rude) for rude in RUDE)
    truth["truncated"] = finish == "length"
    truth["failed"] = error
    # A changed fact (or another passage's fact) counts only if the answer still states it: a
    # refusal replaces the answer and a truncation may cut the fact off.
    kept = truth.pop("unfaithful_if_kept", None)
    truth["unfaithful"] = kept is not None and kept.lower() in response.lower()
    truth["off_topic"] = truth.get("off_topic", False) and truth["unfaithful"]


def _malform(rng: random.Random, kind: str, event: dict[str, Any]) -> bytes:
    if kind == "not_json":
        return b"upstream connect error or disconnect/reset before headers. reset reason: connection termination"
    if kind == "truncated_json":
        raw = json.dumps(event).encode()
        return raw[: len(raw) * rng.randint(30, 80) // 100]
    if kind == "json_array":
        return json.dumps([event]).encode()
    if kind.startswith("missing_"):
        del event[kind.removeprefix("missing_")]
    elif kind == "usage_not_object":
        event["usage"] = "lots"
    elif kind == "latency_not_number":
        event["latency_ms"] = "fast"
    elif kind == "context_not_list":
        event["context"] = rng.choice(PASSAGES)
    elif kind == "naive_ts":
        event["ts"] = event["ts"].removesuffix("Z")
    elif kind == "cached_over_input":
        tokens = rng.randint(300, 900)
        event["usage"] = {"input_tokens": tokens, "output_tokens": rng.randint(40, 300),
                          "cached_input_tokens": tokens + rng.randint(64, 512), "reasoning_tokens": 0}
    elif kind == "oversized":
        event["response"] = LOOP * (1_500_000 // len(LOOP))
        event["finish_reason"] = "length"
        event["usage"] = {"input_tokens": 1410, "output_tokens": len(event["response"]) // 4,
                          "cached_input_tokens": 1280, "reasoning_tokens": 0}
    return json.dumps(event, ensure_ascii=False).encode()


def generate(n_events: int, seed: int, start: datetime, hours: float, malformed: int, truths: list[dict] | None = None) -> list[bytes]:
    """`n_events` valid events plus `malformed` bad lines (exactly one oversized), in time order, without newlines.
    `truths`, if given, receives one record per line: what was done to that event (see the module's doc)."""
    rng = random.Random(seed)
    rollouts = {(app.tenant, app.name, p[0]): rng.uniform(0.3, 0.6) for app in APPS for p in app.prompts}
    total = n_events + malformed
    kinds = (["oversized"] + [MALFORMED_KINDS[i % len(MALFORMED_KINDS)] for i in range(malformed - 1)]) if malformed else []
    rng.shuffle(kinds)
    slots = [int((k + rng.uniform(0.2, 0.8)) * total / malformed) for k in range(malformed)]
    bad = dict(zip(slots, kinds))
    step = timedelta(hours=hours) / max(total, 1)
    lines = []
    for i in range(total):
        when = start + step * (i + 0.5 + rng.uniform(-0.45, 0.45))
        truth: dict[str, Any] = {"line": i}
        event = _event(rng, when, i / total, rollouts, truth)
        truth.update(event_id=event["event_id"], use_case=event["use_case"], has_context=bool(event["context"]))
        truth["malformed"] = bad.get(i)
        if truths is not None:
            truths.append(truth)
        lines.append(_malform(rng, bad[i], event) if i in bad else json.dumps(event, ensure_ascii=False).encode())
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output file, .jsonl.gz (gzip, mtime=0) or .jsonl")
    parser.add_argument("--events", type=int, default=3000, help="number of valid events")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--malformed", type=int, default=12, help="malformed lines added; one of them is oversized")
    parser.add_argument("--start", default="2026-11-20T08:00:00Z", help="window start, ISO-8601 UTC")
    parser.add_argument("--hours", type=float, default=6.0, help="window length")
    args = parser.parse_args(argv)
    start = datetime.fromisoformat(args.start)
    start = start.replace(tzinfo=timezone.utc) if start.tzinfo is None else start.astimezone(timezone.utc)
    truths: list[dict] = []
    data = b"".join(line + b"\n" for line in generate(args.events, args.seed, start, args.hours, args.malformed, truths))
    _write(args.out, data)
    _write(truth_path(args.out), b"".join(json.dumps(t, sort_keys=True).encode() + b"\n" for t in truths))


def truth_path(events_path: Path) -> Path:
    """Where the truth of a generated file lies: `x_events.jsonl.gz` -> `x_truth.jsonl.gz`, else `x.truth.jsonl(.gz)`."""
    name = events_path.name
    if "_events." in name:
        return events_path.with_name(name.replace("_events.", "_truth.", 1))
    stem, dot, suffix = name.partition(".")
    return events_path.with_name(f"{stem}.truth.{suffix}" if dot else f"{stem}.truth")


def _write(path: Path, data: bytes) -> None:
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(data)
    else:
        path.write_bytes(data)


if __name__ == "__main__":
    main()
