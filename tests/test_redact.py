"""Personal data is masked before scoring and storage; facts the scorers need are not."""

from evalstream.streams.redact import redact_text


def test_emails_and_valid_card_numbers_are_masked() -> None:
    text = "Mail jane.doe+billing@example.co.uk, card 4111 1111 1111 1111, order 1234567890123."
    assert redact_text(text) == "Mail [EMAIL], card [CARD], order 1234567890123."


def test_numbers_that_are_facts_stay() -> None:
    text = "Refunds within 14 days; call 0800 123 4567; invoice 4111111111111112."
    assert redact_text(text) == text  # the last one fails the Luhn check: not a card
