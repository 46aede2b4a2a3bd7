"""Quantities: restatements match their source, and numbers computed from the context's numbers
(sums, differences, multiples, shares, ratios) are recognised as computed; wrong arithmetic is not."""

from __future__ import annotations

import pytest

from evalstream.scorers.quantities import computed_numbers, context_quantities, number_checks, quantities

FERRY = context_quantities(
    "A single adult ticket costs £14 and a return costs £24. Bicycles cost £3 each way. "
    "Between November and March there are two sailings a day, and in summer four."
)
BREAD = context_quantities("Mix 500 g of flour with 350 g of water. Bake for 20 minutes with the lid on and 25 minutes with it off.")
CANAL = context_quantities("Construction began in 1887 and the canal opened in 1895. It was widened between 1907 and 1914.")
MORTGAGE = context_quantities("The early repayment charge is 5% in years 1 and 2 and 4% in year 3. The rate is 4.29%; the variable rate is 7.49%.")


def test_restated_quantities_match_their_source() -> None:
    context = context_quantities("Items can be returned within 14 days. Express delivery costs 35 dollars.")
    for claim in ("You have two weeks to return items.", "Express delivery costs $35."):
        assert number_checks(claim, context)[1] == 0, claim


def test_digits_inside_names_and_number_words_inside_words_are_not_numbers() -> None:
    assert quantities("The H100 and the A100 are often busy.") == ()
    assert [v for v, _ in quantities("Someone paid 40 dollars.")] == [40.0]


@pytest.mark.parametrize(
    "claim, context",
    [
        ("A return saves you £4 over two singles at £28.", FERRY),  # 2 x 14 = 28, 28 - 24 = 4
        ("A return costs £10 more than a single.", FERRY),  # 24 - 14
        ("The loaf bakes for 45 minutes in total.", BREAD),  # 20 + 25
        ("The dough is 70% water relative to the flour.", BREAD),  # 350 / 500
        ("Building the canal took 8 years.", CANAL),  # 1895 - 1887
        ("The variable rate is 3.2 percentage points higher than the fixed rate.", MORTGAGE),  # 7.49 - 4.29
    ],
)
def test_a_number_computed_from_the_context_is_recognised(claim: str, context) -> None:
    unmatched = number_checks(claim, context)[1]
    assert unmatched >= 1 and computed_numbers(claim, context) >= unmatched, claim


@pytest.mark.parametrize(
    "claim, context",
    [
        ("A return costs £12 more than a single.", FERRY),
        ("The loaf bakes for 50 minutes in total.", BREAD),
        ("The dough is 75% water relative to the flour.", BREAD),
        ("Building the canal took 10 years.", CANAL),
        ("The variable rate is 2.8 percentage points higher than the fixed rate.", MORTGAGE),
    ],
)
def test_wrong_arithmetic_is_not_computed(claim: str, context) -> None:
    assert computed_numbers(claim, context) < number_checks(claim, context)[1], claim


def test_a_share_of_an_amount_the_claim_supposes_is_computed() -> None:
    """The £200,000 is the claim's own supposition (unsupported); the £8,000 is 4% of it."""
    claim = "Repaying £200,000 early in year 3 would cost £8,000."
    assert number_checks(claim, MORTGAGE)[1] == 2 and computed_numbers(claim, MORTGAGE) == 1
    assert computed_numbers("Repaying £200,000 early in year 3 would cost £9,000.", MORTGAGE) == 0


def test_numbers_the_context_gives_are_not_counted_as_computed() -> None:
    assert computed_numbers("A single adult ticket costs £14.", FERRY) == 0
