"""What a message asks for by the keyword rules, yes/no answers, and the templates the local
model replies with."""

from __future__ import annotations

import datetime as dt

import pytest

from simptu.runtime.agent.intents import answer_to_question, classify_by_rules, named_request
from simptu.runtime.agent.templates import TEMPLATES, pieces, render, say_date, say_when


@pytest.mark.parametrize(("text", "intent"), [
    ("Bună ziua!", "greeting"), ("Hello", "greeting"),
    ("Cât costă o detartrare?", "prices"), ("How much is a filling?", "prices"),
    ("Care este programul?", "hours"), ("When are you open?", "hours"),
    ("Vreau o programare mâine", "book"), ("I'd like to book a room", "book"),
    ("Aveți ceva liber joi?", "availability"), ("Is anything available on Friday?",
                                                "availability"),
    ("Vreau să anulez programarea", "cancel"), ("Please cancel my booking", "cancel"),
    ("Pot să reprogramez?", "reschedule"), ("I need to reschedule", "reschedule"),
    ("Vreau să vorbesc cu un om", "handoff"), ("Can I talk to a real person?", "handoff"),
    ("Mulțumesc!", "thanks"), ("Ce servicii aveți?", "services"),
])
def test_rules_recognise_what_customers_ask_in_both_languages(text: str, intent: str) -> None:
    assert classify_by_rules(text) == intent


def test_what_no_rule_knows_is_left_to_the_model_and_the_faq() -> None:
    assert classify_by_rules("Aveți parcare?") is None


@pytest.mark.parametrize(("text", "intent"), [
    ("cancle my apointment", "cancel"), ("vreau sa vorbesc cu receptioa", "handoff"),
    ("can i reschedlue", "reschedule"), ("whats the prise", "prices"),
])
def test_a_misspelt_rule_word_is_read_as_the_word(text: str, intent: str) -> None:
    assert classify_by_rules(text) == intent


@pytest.mark.parametrize(("text", "intent"), [
    ("i want an appointment, my tooth hurts", "book"),  # "hurts" is not "hours"
    ("pot sa reprogramez pe luni", "reschedule"),  # a form of "reprogram", not "programez"
])
def test_real_words_are_not_corrected_into_another_intent(text: str, intent: str) -> None:
    assert classify_by_rules(text) == intent


@pytest.mark.parametrize(("text", "intent"), [
    # a change said with its verb and what changes a few words apart, or as another day
    ("as vrea sa mut si eu programarea de joi", "reschedule"),
    ("can i change the day of my session", "reschedule"),
    ("nu pot joi, ma puteti muta pe vineri?", "reschedule"),
    ("I'd like to come on friday instead of thursday", "reschedule"),
    ("trebuie sa amanam vizita", "reschedule"),
    ("pot sa schimb detartrajul de miercuri pe vineri?", "reschedule"),
    # whether there is room, and when one could come
    ("ar fi vreun loc sambata?", "availability"), ("cand as putea veni?", "availability"),
    ("what times do you have on monday", "availability"),
    ("have you got a room free on the 20th", "availability"),
    # what kinds of things the business sells, and whether it does one
    ("ce tipuri de camere sunt", "services"), ("what kind of treatments are there", "services"),
    ("faceti implanturi?", "services"), ("do you offer massages", "services"),
    ("hi, do you have any dance classes?", "services"),
])
def test_rules_recognise_the_ways_people_put_it(text: str, intent: str) -> None:
    assert classify_by_rules(text) == intent


def test_a_greeting_before_a_question_is_not_the_intent() -> None:
    assert classify_by_rules("hello, is there parking nearby?") is None
    assert classify_by_rules("Buna, am o intrebare") == "greeting"
    assert classify_by_rules("aveti loc de parcare?") is None


def test_a_service_and_a_day_ask_whether_it_is_free_or_book_it() -> None:
    named = {"service": "Yoga", "date": "2026-12-02"}
    assert named_request("yoga miercuri?", named) == "availability"
    assert named_request("do you have yoga on wednesday", named) == "availability"
    assert named_request("yoga miercuri la 18", {**named, "time": "18:00"}) == "book"
    assert named_request("miercuri?", {"date": "2026-12-02"}) is None


@pytest.mark.parametrize(("text", "said"), [
    ("Da", "yes"), ("da, vă rog", "yes"), ("Yes please", "yes"), ("ok", "yes"),
    ("Nu", "no"), ("no thanks", "no"), ("Mai bine joi la 10", None)])
def test_an_answer_to_a_yes_no_question(text: str, said: str | None) -> None:
    assert answer_to_question(text) == said


def test_every_template_exists_in_romanian_and_english() -> None:
    assert all(set(by_locale) == {"ro", "en"} for by_locale in TEMPLATES.values())


@pytest.mark.parametrize("text", [
    "Bună ziua! Sunt asistentul virtual. Cu ce vă pot ajuta?",
    "Our prices: Cleaning 250 RON, Filling 400 RON and Consultation 150 RON.", "Ok"])
def test_a_reply_streams_in_pieces_that_join_into_the_reply(text: str) -> None:
    assert "".join(pieces(text)) == text


def test_a_long_reply_streams_in_several_pieces() -> None:
    greeting = render("greeting", "ro", {"business": "Zâmbet Dental"})
    assert len(pieces(greeting)) >= 3


def test_dates_and_times_are_said_in_the_customers_language() -> None:
    start = dt.datetime(2026, 11, 24, 10, 30)
    assert say_date(start.date(), "ro") == "marți, 24 noiembrie"
    assert say_when(start, "en") == "Tuesday 24 November at 10:30"
