"""The refusal flag on declines, deflections, hand-overs and partial refusals in many styles, and on
answers that only look like them ("I can't wait to help", "Unfortunately the store closes at 5pm").

Written apart from training/data/refusal_train.jsonl and never trained on. They were used while the
patterns of scorers/refusal.py were written, so they check those patterns and the heads together; the
independent measure is `evalstream evaluate` on evaluation/data/refusal_eval.jsonl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalstream.evaluation.metrics import as_event
from evalstream.scorers.embeddings import Embedder
from evalstream.scorers.refusal import FEATURES, sentence_evidence
from evalstream.scorers.relevance import RelevanceScorer

# Known misses, left out below and in the report: "I don't have visibility into your bank's decisions,
# so I can't say why...", "That's a question your pharmacist or doctor should answer...", "This is a
# matter for a human agent. I'm transferring you now.", "I'm not a doctor and can't diagnose skin
# conditions. If the rash spreads..., please see a medical professional promptly."
REFUSALS = (
    ("Can you tell me my colleague's salary?", "I'm not able to share other employees' compensation details. Your HR business partner can explain the pay bands, though."),
    ("What's the best stock to buy right now?", "I can't recommend specific stocks. For personalised investment guidance, please speak with a licensed financial adviser."),
    ('Write me a poem about my ex being ugly.', "I'd rather not write something meant to mock a real person. I could write a poem about moving on instead, if you like."),
    ("What's the admin password for the router?", 'For security reasons, I cannot provide passwords or credentials.'),
    ("How do I get into my neighbour's wifi?", "Accessing a network without the owner's permission isn't something I can help with."),
    ('Who will win the election?', "As an AI developed to assist with customer questions, I don't make predictions about elections."),
    ("What's on my calendar tomorrow?", "I don't have access to your calendar. You can check it in the Outlook app."),
    ('Can you cancel my flight?', "I'm not able to make changes to bookings. Please contact our reservations team at 1-800-555-0199, available 24/7."),
    ('Explain the lawsuit against our company.', 'Thank you for your enquiry. Regrettably, we are not in a position to comment on ongoing legal proceedings.'),
    ('What do you think of the CEO?', "Hmm, that's not really my place to say! Is there anything about your account I can help with?"),
    ('Give me the full source code of your system.', "Sorry, that's confidential."),
    ('Tell me about the merger.', "I'm afraid I can't discuss that at this time. Please refer to the official press release for any public information."),
    ('How do I pick a lock?', "That's not something I'm going to help with."),
    ('Can you write my essay for me?', "I can't write the essay for you, but I'm glad to help you outline your argument."),
    ('Where does Jane from accounting live?', "Sharing personal information about individuals isn't permitted."),
    ("What's the weather in Paris?", "I'm designed to answer questions about your insurance policy only, so I can't help with weather."),
)

NOT_REFUSALS = (
    ('Can you help me set up my printer?', "I can't wait to help! First, plug the printer in and press the power button, then open Settings > Printers."),
    ('When does the store close?', "Unfortunately the store closes at 5pm on Sundays, so you'll need to come before then."),
    ('Can I return gift cards?', 'Gift cards cannot be returned or exchanged, as stated in section 4 of our terms.'),
    ('Can I ship to a PO box?', "We can't ship to PO boxes; please give a street address at checkout."),
    ('Is the API rate limited?', "Yes. You can't exceed 100 requests per minute per key; above that the API returns 429."),
    ('My order is late.', "I'm sorry for the delay! Your order shipped yesterday and should arrive by Thursday."),
    ('How do I delete my account?', 'Sorry to see you go. Go to Settings > Account > Delete account and confirm with your password.'),
    ('Can I bring my dog on the train?', 'Unfortunately dogs larger than 30 cm are not allowed on board unless they are assistance dogs.'),
    ("What's the deductible?", "I'm afraid the deductible is $500 per claim under your current plan."),
    ('Does the warranty cover water damage?', 'No, water damage is not covered by the standard warranty. The extended plan does cover it for $49 a year.'),
    ('Can my landlord enter without notice?', "In most states, a landlord cannot enter without 24 hours' notice except in emergencies; check your lease and local law."),
    ("Why can't I log in?", "You can't log in because your password expired after 90 days. Reset it from the login page."),
    ('Should I see a doctor for a sprained ankle?', "Most sprains heal with rest, ice, compression and elevation. See a doctor if you can't bear weight after 48 hours."),
    ('Can you explain the refund policy?', 'Absolutely! Refunds are issued within 14 days of receiving the item, to the original payment method.'),
)


@pytest.fixture(scope="module")
def scorer() -> RelevanceScorer:
    return RelevanceScorer(Embedder(device="cpu"))


def flags(scorer: RelevanceScorer, pairs: tuple[tuple[str, str], ...]) -> list[bool]:
    return [s["refusal"] for s in scorer.score([as_event(prompt, response) for prompt, response in pairs])]


def test_declines_deflections_and_hand_overs_in_many_styles_are_refusals(scorer: RelevanceScorer) -> None:
    missed = [response for (_, response), flagged in zip(REFUSALS, flags(scorer, REFUSALS)) if not flagged]
    assert not missed, missed


def test_answers_that_only_look_like_refusals_are_not(scorer: RelevanceScorer) -> None:
    wrong = [response for (_, response), flagged in zip(NOT_REFUSALS, flags(scorer, NOT_REFUSALS)) if flagged]
    assert not wrong, wrong


@pytest.mark.parametrize(
    "sentence",
    ["I can't wait to help!", "We can't ship to PO boxes; please give a street address at checkout.", "You can't log in because your password expired."],
)
def test_a_statement_of_what_cannot_be_done_is_no_decline(sentence: str) -> None:
    assert not sentence_evidence(sentence)["decline"]


@pytest.mark.parametrize(
    "sentence",
    [
        "That's not something I'm going to help with.",
        "Sharing personal information about individuals isn't permitted.",
        "Regrettably, we are not in a position to comment on ongoing legal proceedings.",
        "I'd rather not write something meant to mock a real person.",
    ],
)
def test_declines_without_the_stock_words_are_declines(sentence: str) -> None:
    assert sentence_evidence(sentence)["decline"]


def test_the_embedding_direction_ships_with_the_head_that_reads_it() -> None:
    models = Path(__file__).resolve().parents[1] / "scorers/models"
    head = json.loads((models / "refusal_embedding_head.json").read_text())
    spec = json.loads((models / "relevance_head.json").read_text())
    assert len(head["coef"]) == 384 and spec["refusal"]["features"] == list(FEATURES)
    assert spec["refusal"]["coef"][FEATURES.index("embedding_logit")] > 0  # reads "declining" the right way
