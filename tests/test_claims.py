"""What counts as a claim: courtesy, questions, meta sentences and sign-offs never do; a meta
opener is stripped and the claim after it kept."""

from __future__ import annotations

import pytest

from evalstream.scorers.sentences import claims_of

NOT_CLAIMS = [
    # greetings and thanks
    "Hi there!", "Hello!", "Hey Maria,", "Good morning!", "Dear customer,", "Thanks for reaching out!", "Thank you for your patience.",
    "Many thanks.", "Welcome to Acme support.",
    # empathy and apologies
    "Sorry for the trouble.", "I'm sorry to hear that.", "I understand, let me check.", "I understand you're frustrated.",
    "My apologies for the confusion.", "I apologize for the inconvenience.",
    # offers of more help
    "Is there anything else I can help with?", "Let me know if you need anything else.", "Hope that helps!", "I hope this helps.",
    "Feel free to reach out if you have any other questions.", "If you have any other questions, just ask.", "Happy to help.",
    "Glad to help!", "I'd be happy to help with anything else.", "Don't hesitate to contact us again.", "Please let me know how it goes.",
    # questions back to the user
    "Would you like me to open a ticket?", "Can you share your order number?", "Did that answer your question?",
    # meta sentences and headings
    "Here's a summary:", "Key points:", "Summary:", "TL;DR:", "Here is what I found:",
    "The documents do not say whether bank transfer is available.", "The provided context doesn't mention a student discount.",
    "I couldn't find anything about that in the provided documents.", "There is no information about refunds for gift cards.",
    # refusals and remarks about the user
    "I can't help with that.", "I'm not able to help with this request.", "What a ridiculous question.", "Learn to read.",
    # sign-offs
    "Best regards,", "Kind regards, the support team", "Cheers!", "Have a great day!", "Take care.", "All the best,",
]


@pytest.mark.parametrize("sentence", NOT_CLAIMS)
def test_courtesy_questions_meta_and_sign_offs_are_not_claims(sentence: str) -> None:
    assert claims_of(sentence) == []


@pytest.mark.parametrize(
    "response, claim",
    [
        ("Based on the provided documents, unused items can be returned within 30 days.", "Unused items can be returned within 30 days."),
        ("According to the policy, cancellation takes effect at the end of the billing period.", "Cancellation takes effect at the end of the billing period."),
        ("Per our documentation, the standard tier allows 600 requests per minute.", "The standard tier allows 600 requests per minute."),
        ("As stated in the handbook, employees receive 25 days of leave.", "Employees receive 25 days of leave."),
        ("The handbook says that up to 5 days carry over.", "Up to 5 days carry over."),
        ("Here is what the documentation says: keys do not expire by default.", "Keys do not expire by default."),
        ("Sure, return labels are valid for 14 days.", "Return labels are valid for 14 days."),
        ("Good question! Refunds reach your card in 5 business days.", "Refunds reach your card in 5 business days."),
        ("Hi Maria, your refund was issued on Monday.", "Your refund was issued on Monday."),
        ("Sorry, but monthly plans are not refunded.", "Monthly plans are not refunded."),
        ("Unfortunately, the sandbox is reset every Sunday.", "The sandbox is reset every Sunday."),
        ("- Points expire after 12 months.", "Points expire after 12 months."),
        ("2. Express shipping costs $14.99.", "Express shipping costs $14.99."),
    ],
)
def test_a_meta_opener_is_stripped_and_the_claim_after_it_kept(response: str, claim: str) -> None:
    assert claims_of(response) == [claim]


def test_a_chat_answer_keeps_only_its_claims_in_order() -> None:
    response = (
        "Thanks for reaching out! Hi there! Based on the provided documents, unused items can be returned within 30 days of delivery. "
        "Items must be in their original packaging. Is there anything else I can help with? Best regards,\nThe support team"
    )
    assert claims_of(response) == ["Unused items can be returned within 30 days of delivery.", "Items must be in their original packaging."]


def test_claims_that_look_like_courtesy_or_meta_are_kept() -> None:
    """A negated policy statement is a claim; only the sources' silence is not."""
    assert claims_of("The policy does not cover accidental damage.") == ["The policy does not cover accidental damage."]
    assert claims_of("Best practice is to rotate keys every 90 days.") == ["Best practice is to rotate keys every 90 days."]
    assert claims_of("No, bank transfer is only for annual plans.") == ["No, bank transfer is only for annual plans."]


CHAT_WRAPPERS = [
    "Great question — here's what I found.", "Hope that clarifies things!", "You're welcome!", "Happy to explain.", "Great to hear from you!",
    "Enjoy your trip!", "Hope you have a great time at the race!", "If anything else comes up, I'm here.", "That's a great question.",
    "I'd recommend checking the website for the latest details.", "Good morning and thanks for contacting Harbourline!", "Let's see.",
    "Okay, so here's the deal.", "Happy gardening!",
]


@pytest.mark.parametrize("sentence", CHAT_WRAPPERS)
def test_more_chat_wrappers_are_not_claims(sentence: str) -> None:
    assert claims_of(sentence) == []


@pytest.mark.parametrize(
    "response, claim",
    [
        ("In addition, tenants must cultivate at least 75% of their plot.", "Tenants must cultivate at least 75% of their plot."),
        ("Also, bonfires are not permitted.", "Bonfires are not permitted."),
        ("To answer your question: refunds take 5 days.", "Refunds take 5 days."),
        ("Bottom line: refunds take 5 days.", "Refunds take 5 days."),
        ("From what I can see in the documents, refunds take 5 days.", "Refunds take 5 days."),
        ("Regarding your question about refunds, they take 5 days.", "They take 5 days."),
        ("- **Price:** £14 for a single", "Price: £14 for a single"),
        ("a) Refunds take 5 days", "Refunds take 5 days"),
    ],
)
def test_linking_words_markdown_and_list_markers_are_stripped(response: str, claim: str) -> None:
    assert claims_of(response) == [claim]


SILENCES = [
    "The documents do not say whether pets are allowed.", "The information provided does not say what the grinder weighs.",
    "Neither document mentions parking.", "None of the passages say whether pets are allowed.", "The documents say nothing about parking.",
    "Whether pets are allowed isn't mentioned in the documents.", "There's nothing in the passages about parking.",
    "No details are given about the deposit.", "I couldn't find anything in the documents about chickens.",
]


@pytest.mark.parametrize("sentence", SILENCES)
def test_silences_are_not_claims_but_are_checked_against_the_context(sentence: str) -> None:
    from evalstream.scorers.sentences import checked_sentences, is_silence, silence_topic

    assert claims_of(sentence) == [] and checked_sentences(sentence) == [sentence]
    assert is_silence(sentence) and silence_topic(sentence).strip()


def test_statements_that_look_like_silences_stay_claims() -> None:
    from evalstream.scorers.sentences import checked_sentences

    for claim in ("It does not include breakfast.", "Parking is not included in the price.", "The documents say refunds take 5 days."):
        assert checked_sentences(claim) == claims_of(claim) != [], claim


def test_et_al_does_not_end_a_sentence() -> None:
    from evalstream.scorers.sentences import split_sentences

    text = "Okafor et al. (2023) measured roof temperatures on 48 buildings. Mehta et al. found a smaller effect."
    assert split_sentences(text) == ["Okafor et al. (2023) measured roof temperatures on 48 buildings.", "Mehta et al. found a smaller effect."]
