"""What a message names: services by the catalogue's names and their synonyms, days, times,
nights and names, in Romanian and in English."""

from __future__ import annotations

import datetime as dt

import pytest

from simptu.runtime.agent.business import DENTAL, HOTEL, BusinessProfile
from simptu.runtime.agent.providers.base import ProviderContext
from simptu.runtime.agent.providers.local import slots_as_json
from simptu.runtime.agent.slots import (
    extract,
    find_date,
    find_name,
    find_nights,
    find_service,
    find_time,
)

MONDAY = dt.date(2026, 11, 23)
DENTAL_WORDS = DENTAL.vocabulary(["Consultation", "Cleaning", "Filling"])
HOTEL_WORDS = HOTEL.vocabulary(["Double room", "Family suite"])


@pytest.mark.parametrize(("text", "expected"), [
    ("azi", MONDAY), ("mâine", dt.date(2026, 11, 24)), ("poimâine", dt.date(2026, 11, 25)),
    ("tomorrow", dt.date(2026, 11, 24)), ("the day after tomorrow", dt.date(2026, 11, 25)),
    ("marți", dt.date(2026, 11, 24)), ("on Friday", dt.date(2026, 11, 27)),
    ("luni", dt.date(2026, 11, 30)),  # a weekday is the next one, never today
    ("pe 12 decembrie", dt.date(2026, 12, 12)), ("December 12th", dt.date(2026, 12, 12)),
    ("12.01", dt.date(2027, 1, 12)), ("2027-03-01", dt.date(2027, 3, 1)),
    ("pe 28", dt.date(2026, 11, 28)), ("on the 2nd", dt.date(2026, 12, 2)),
    ("10 ianuarie", dt.date(2027, 1, 10)),  # a day already past this year is next year's
])
def test_days_are_found_relative_to_today(text: str, expected: dt.date) -> None:
    assert find_date(text, MONDAY) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("mutati-ma de joi pe vineri", dt.date(2026, 11, 27)),
    ("move it from the 2nd to the 4th", dt.date(2026, 12, 4)),
    ("o camera de maine pe numele Pop", dt.date(2026, 11, 24)),  # a name, not a day
])
def test_of_a_move_from_one_day_to_another_the_day_it_goes_to(text: str,
                                                            expected: dt.date) -> None:
    assert find_date(text, MONDAY) == expected


def test_a_message_without_a_day_names_none() -> None:
    assert find_date("Vreau o programare la 10", MONDAY) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("la 10", dt.time(10)), ("la ora 15", dt.time(15)), ("la 10:30", dt.time(10, 30)),
    ("la 10.30", dt.time(10, 30)), ("la 10 și jumătate", dt.time(10, 30)),
    ("at 9", dt.time(9)), ("at 3pm", dt.time(15)), ("7am", dt.time(7)),
    ("12 am", dt.time(0)), ("around 18:45", dt.time(18, 45)),
])
def test_times_are_found_in_both_languages(text: str, expected: dt.time) -> None:
    assert find_time(text) == expected


@pytest.mark.parametrize("text", ["pe 12 decembrie", "for 3 nights", "la 12 decembrie",
                                  "la 25:00"])
def test_days_and_counts_are_not_mistaken_for_times(text: str) -> None:
    assert find_time(text) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("2 nopți", 2), ("o noapte", 1), ("trei nopti", 3), ("for three nights", 3),
    ("one night", 1), ("for 5 nights", 5)])
def test_nights_are_counted(text: str, expected: int) -> None:
    assert find_nights(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Mă numesc Ana Pop", "Ana Pop"), ("numele meu este Radu", "Radu"),
    ("My name is John Smith", "John Smith"), ("I'm Emma", "Emma"),
    ("sunt interesat de o programare", None), ("this is great", None)])
def test_names_are_the_capitalised_words_after_an_introduction(text: str,
                                                               expected: str | None) -> None:
    assert find_name(text) == expected


@pytest.mark.parametrize(("text", "vocabulary", "expected"), [
    ("Cât costă o detartrare?", DENTAL_WORDS, "Cleaning"),
    ("am o carie", DENTAL_WORDS, "Filling"),
    ("I need a check-up", DENTAL_WORDS, "Consultation"),
    ("o cameră dublă", HOTEL_WORDS, "Double room"),
    ("the family suite please", HOTEL_WORDS, "Family suite"),
    ("aveți parcare?", DENTAL_WORDS, None),
    ("vreau un detartrj joi", DENTAL_WORDS, "Cleaning"),  # misspelt
    ("o consultaite maine", DENTAL_WORDS, "Consultation"),
    ("apartamnet de familie", HOTEL_WORDS, "Family suite"),
    ("ce camere aveti", HOTEL_WORDS, None),  # a room, not which one
    ("cat costa o camera single", HOTEL_WORDS, None),
])
def test_services_are_found_by_their_name_or_the_words_customers_use(
        text: str, vocabulary: dict[str, tuple[str, ...]], expected: str | None) -> None:
    assert find_service(text, vocabulary) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("maine dimineata", {"date": dt.date(2026, 11, 24), "part_of_day": "morning"}),
    ("Aveți loc mâine după-amiază?", {"date": dt.date(2026, 11, 24), "part_of_day": "afternoon"}),
    ("joi seara la 7", {"date": dt.date(2026, 11, 26), "part_of_day": "evening",
                        "time": dt.time(19)}),  # "la 7" in the evening is 19:00
    ("buna seara", {}),  # a greeting, not an evening
    ("weekendul asta", {"date_range": "2026-11-28/2026-11-29"}),
    ("next weekend", {"date_range": "2026-12-05/2026-12-06"}),
    ("dubla 5-7 decembrie", {"service": "Double room", "date": dt.date(2026, 12, 5),
                             "nights": 2}),
    ("de craciun", {"date": dt.date(2026, 12, 25)}),
    ("2 adulti si un copil", {"party_size": 3}),
    ("for two people", {"party_size": 2}),
])
def test_parts_of_the_day_ranges_holidays_and_party_sizes(text: str,
                                                          expected: dict[str, object]) -> None:
    assert extract(text, MONDAY, HOTEL_WORDS).named() == expected


def test_a_price_question_about_something_not_offered_names_it() -> None:
    assert extract("Cât costă albirea dinților?", MONDAY, DENTAL_WORDS).named() == {
        "unoffered": "albirea dintilor"}
    assert extract("price list pls", MONDAY, DENTAL_WORDS).named() == {}


def test_a_question_whether_something_is_offered_names_it() -> None:
    assert extract("aveți zumba?", MONDAY, DENTAL_WORDS).named() == {"asked_for": "zumba"}
    assert extract("do you do braces", MONDAY, DENTAL_WORDS).named() == {"asked_for": "braces"}
    assert "asked_for" not in extract("aveți detartraj?", MONDAY, DENTAL_WORDS).named()


def test_a_stay_has_no_part_of_the_day_tonight_says_the_day() -> None:
    def said(text: str, business: BusinessProfile) -> dict[str, str | int]:
        context = ProviderContext(business=business, display_name="Demo", today=MONDAY,
                                  vocabulary=business.vocabulary(list(business.synonyms)))
        return slots_as_json(text, context)

    assert said("do you have a double for tonight", HOTEL) == {
        "service": "Double room", "date": str(MONDAY)}
    assert said("a cleaning tonight", DENTAL)["part_of_day"] == "evening"
