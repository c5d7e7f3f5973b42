"""The dialogue planner's branches, over an in-memory repository: what it answers, which
question of a booking comes next, and the change it proposes (one shape for all three)."""

from __future__ import annotations

import datetime as dt

import pytest

from simptu.runtime.agent.business import HOTEL, BusinessProfile
from simptu.runtime.agent.catalogue import Catalogue
from simptu.runtime.agent.dialogue import decide
from simptu.runtime.agent.intents import Intent
from simptu.runtime.agent.providers.base import Understanding
from simptu.runtime.agent.state import BookingFlow, ConversationState, PendingChange
from tests.unit.agent.in_memory import (
    CLEANING,
    CLINIC,
    CONSULTATION,
    CUSTOMER,
    DOUBLE,
    DR_ANA,
    DR_RADU,
    INN,
    ROOM_101,
    ROOM_102,
    SATURDAY,
    WEDNESDAY,
    MemoryRepository,
    booked,
    local,
    slot,
    turn_context,
)


def state(intent: Intent, text: str = "", flow: BookingFlow | None = None,
          guess: Intent | None = None, **slots: str | int) -> ConversationState:
    understanding = Understanding(intent=intent, slots=slots)
    if guess is not None:
        understanding["guess"] = guess
    said: ConversationState = {"inbound": {"text": text}, "locale": "ro",
                               "understanding": understanding}
    if flow is not None:
        said["booking"] = flow
    return said


async def plan(said: ConversationState, repository: MemoryRepository | None = None,
               business: BusinessProfile | None = None) -> ConversationState:
    repository = repository or MemoryRepository(CLINIC)
    ctx = turn_context(repository, business) if business else turn_context(repository)
    return await decide(said, ctx)


def reply_of(update: ConversationState) -> tuple[str, dict[str, str | int]]:
    return update["reply"]["key"], update["reply"]["params"]


@pytest.mark.parametrize(("intent", "key", "params"), [
    ("greeting", "greeting", {"business": "Zâmbet"}),
    ("hours", "hours", {"hours": "luni\N{EN DASH}vineri 09:00\N{EN DASH}17:00; sâmbătă "
                                 "10:00\N{EN DASH}14:00"}),
    ("prices", "prices", {"prices": "Consultation 150 RON și Cleaning 250 RON"}),
    ("services", "services", {"services": "Consultation și Cleaning"}),
    ("thanks", "thanks", {}),
    ("question", "unknown", {}),
])
async def test_questions_are_answered_from_the_catalogue(intent: Intent, key: str,
                                                         params: dict[str, str]) -> None:
    update = await plan(state(intent, "?"))
    assert reply_of(update) == (key, params)
    assert "booking" not in update
    assert "pending" not in update


async def test_the_price_of_a_named_service() -> None:
    update = await plan(state("prices", service="Cleaning"))
    assert reply_of(update) == ("price_of", {"service": "Cleaning", "price": "250 RON"})


async def test_a_question_no_rule_knows_is_answered_from_the_faq_first() -> None:
    repository = MemoryRepository(CLINIC, faq={"aveți parcare?": "Da, în curte."})
    update = await plan(state("question", "aveți parcare?", guess="hours"), repository)
    assert reply_of(update) == ("answer", {"answer": "Da, în curte."})


async def test_without_an_faq_answer_the_models_guess_is_followed() -> None:
    update = await plan(state("question", "când lucrați voi?", guess="hours"))
    assert reply_of(update)[0] == "hours"


async def test_asking_for_what_is_not_offered_is_answered_with_what_is() -> None:
    update = await plan(state("question", "aveti zumba?", guess="services", asked_for="zumba"))
    assert reply_of(update) == ("not_listed", {"asked": "zumba",
                                               "services": "Consultation și Cleaning"})
    faq = MemoryRepository(CLINIC, faq={"aveti parcare?": "Da, în curte."})
    answered = await plan(state("question", "aveti parcare?", asked_for="parcare"), faq)
    assert reply_of(answered) == ("answer", {"answer": "Da, în curte."})
    # the FAQ's nearest entry to "aveti zumba?" may be another's: one naming zumba or nothing
    parking = ("Aveți parcare?", "Da, parcarea din curte este gratuită.")
    nearest = MemoryRepository(CLINIC, faq={"aveti zumba?": parking,
                                            "aveti locuri de parcare?": parking})
    zumba = await plan(state("question", "aveti zumba?", asked_for="zumba"), nearest)
    assert reply_of(zumba)[0] == "not_listed"
    park = await plan(state("question", "aveti locuri de parcare?", asked_for="locuri parcare"),
                      nearest)
    assert reply_of(park) == ("answer", {"answer": parking[1]})
    # whether it does something ("faceti albire?") is what it sells: the same honest answer
    asked = await plan(state("services", "faceti albire?", asked_for="albire"))
    assert reply_of(asked) == ("not_listed", {"asked": "albire",
                                              "services": "Consultation și Cleaning"})


async def test_asking_for_a_human_hands_the_conversation_off() -> None:
    repository = MemoryRepository(CLINIC)
    update = await plan(state("handoff", "vreau un om"), repository)
    assert reply_of(update) == ("handoff", {})
    assert repository.handed_off


async def test_a_booking_asks_for_the_service_then_the_day_then_the_time() -> None:
    repository = MemoryRepository(CLINIC, slots=[
        slot(CONSULTATION, DR_ANA, local(WEDNESDAY, hour)) for hour in range(9, 17)])
    asked = await plan(state("book"), repository)
    assert reply_of(asked) == ("ask_service", {"services": "Consultation și Cleaning"})
    assert asked["booking"] == {"action": "book", "name": None}

    asked = await plan(state("book", flow=asked["booking"], service="Consultation"), repository)
    assert reply_of(asked) == ("ask_date", {"service": "Consultation"})

    asked = await plan(state("question", flow=asked["booking"], date=WEDNESDAY.isoformat()),
                       repository)
    key, params = reply_of(asked)
    assert key == "ask_time"  # six times at most are offered
    assert params["times"] == "09:00, 10:00, 11:00, 12:00, 13:00 și 14:00"
    assert asked["booking"] == {"action": "book", "name": None, "service": "Consultation",
                                "date": "2026-12-09"}
    assert asked["pending"] is None


async def test_a_guest_is_asked_their_name_before_the_proposal() -> None:
    repository = MemoryRepository(CLINIC, slots=[slot(CONSULTATION, DR_ANA, local(WEDNESDAY, 10))])
    said = state("book", service="Consultation", date=WEDNESDAY.isoformat(), time="10:00")
    asked = await plan(said, repository)
    assert reply_of(asked) == ("ask_name", {"noun": "programarea"})

    proposed = await plan(state("question", flow=asked["booking"], name="Ana Pop"), repository)
    key, params = reply_of(proposed)
    assert key == "propose_book"
    assert params == {"noun": "programarea", "service": "Consultation",
                      "when": "miercuri, 9 decembrie la 10:00", "resource": "Dr. Ana",
                      "name": "Ana Pop", "nights": 1}
    assert proposed["pending"] == PendingChange(
        action="book", call_id=proposed["pending"]["call_id"] if proposed["pending"] else "",
        params=params, booking_id=None, service_id=str(CONSULTATION.id),
        resource_id=str(DR_ANA.id), start=local(WEDNESDAY, 10).isoformat(), nights=1,
        name="Ana Pop")


async def test_a_known_customer_gets_the_proposal_at_once_with_the_same_call_id() -> None:
    repository = MemoryRepository(CLINIC, customer_id=CUSTOMER,
                                  slots=[slot(CONSULTATION, DR_ANA, local(WEDNESDAY, 10))])
    said = state("question", service="Consultation", date=WEDNESDAY.isoformat(), time="10:00")
    first, again = await plan(said, repository), await plan(said, repository)
    assert reply_of(first)[0] == "propose_book"
    assert first["pending"] == again["pending"]  # a replayed turn proposes the same call


async def test_a_taken_time_is_forgotten_and_the_free_ones_offered() -> None:
    repository = MemoryRepository(CLINIC, customer_id=CUSTOMER,
                                  slots=[slot(CONSULTATION, DR_ANA, local(WEDNESDAY, 11))])
    said = state("book", service="Consultation", date=WEDNESDAY.isoformat(), time="10:00")
    update = await plan(said, repository)
    assert reply_of(update) == ("time_taken", {"time": "10:00",
                                               "date": "miercuri, 9 decembrie",
                                               "times": "11:00"})
    assert "time" not in update["booking"]
    assert update["booking"]["date"] == "2026-12-09"


async def test_a_full_day_is_forgotten_with_its_time() -> None:
    said = state("book", service="Cleaning", date=WEDNESDAY.isoformat(), time="10:00")
    update = await plan(said, MemoryRepository(CLINIC, customer_id=CUSTOMER))
    assert reply_of(update) == ("day_full", {"service": "Cleaning",
                                             "date": "miercuri, 9 decembrie"})
    assert update["booking"] == {"action": "book", "name": None, "service": "Cleaning"}
    assert update["pending"] is None


async def test_an_aside_in_a_booking_is_answered_and_the_booking_kept() -> None:
    flow = BookingFlow(action="book", name=None, service="Consultation")
    update = await plan(state("hours", flow=flow, date=WEDNESDAY.isoformat()))
    assert reply_of(update) == ("hours_on", {"date": "miercuri, 9 decembrie", "opens": "09:00",
                                             "closes": "17:00"})
    assert "booking" not in update  # the booking in progress stays as it was


async def test_hours_asked_for_a_closed_day_say_it_is_closed_and_when_it_opens() -> None:
    update = await plan(state("hours", date="2026-12-13"))  # a Sunday
    assert reply_of(update) == ("closed_on", {
        "date": "duminică, 13 decembrie",
        "hours": "luni\N{EN DASH}vineri 09:00\N{EN DASH}17:00; sâmbătă 10:00\N{EN DASH}14:00"})


async def test_hours_asked_for_a_holiday_say_it_is_closed() -> None:
    christmas = dt.date(2026, 12, 25)  # a Friday
    closed = Catalogue(CLINIC.services, CLINIC.resources,
                       {DR_ANA.id: frozenset({christmas}), DR_RADU.id: frozenset({christmas})})
    update = await plan(state("hours", date=christmas.isoformat()), MemoryRepository(closed))
    assert reply_of(update)[0] == "closed_on"
    assert reply_of(update)[1]["date"] == "vineri, 25 decembrie"
    open_day = await plan(state("hours", date="2026-12-18"), MemoryRepository(closed))
    assert reply_of(open_day) == ("hours_on", {"date": "vineri, 18 decembrie", "opens": "09:00",
                                               "closes": "17:00"})


async def test_a_service_not_offered_is_said_so_with_what_is_offered() -> None:
    update = await plan(state("prices", unoffered="albirea dintilor"))
    assert reply_of(update) == ("not_offered", {"asked": "albirea dintilor",
                                                "services": "Consultation și Cleaning"})


async def test_only_the_part_of_the_day_asked_for_is_offered() -> None:
    repository = MemoryRepository(CLINIC, slots=[
        slot(CONSULTATION, DR_ANA, local(WEDNESDAY, hour)) for hour in range(9, 17)])
    said = state("availability", service="Consultation", date=WEDNESDAY.isoformat(),
                 part_of_day="afternoon")
    update = await plan(said, repository)
    assert reply_of(update)[1]["times"] == "12:00, 13:00, 14:00, 15:00 și 16:00"
    assert update["booking"]["part_of_day"] == "afternoon"


async def test_a_day_with_one_free_time_takes_it_without_asking() -> None:
    repository = MemoryRepository(CLINIC, slots=[slot(CONSULTATION, DR_ANA, local(WEDNESDAY, 18))])
    update = await plan(state("book", service="Consultation", date=WEDNESDAY.isoformat()),
                        repository)
    assert reply_of(update) == ("ask_name", {"noun": "programarea"})
    assert update["booking"]["time"] == "18:00"


async def test_a_bare_name_answers_the_question_for_a_name() -> None:
    repository = MemoryRepository(CLINIC, slots=[slot(CONSULTATION, DR_ANA, local(WEDNESDAY, 10))])
    flow = BookingFlow(action="book", name=None, service="Consultation",
                       date=WEDNESDAY.isoformat(), time="10:00")
    said = state("question", "ana pop", flow=flow)
    said["reply"] = {"key": "ask_name", "params": {"noun": "programarea"}}
    update = await plan(said, repository)
    assert reply_of(update)[0] == "propose_book"
    assert update["pending"] is not None
    assert update["pending"]["name"] == "Ana Pop"


async def test_another_action_starts_afresh_but_keeps_the_name() -> None:
    flow = BookingFlow(action="book", name="Ana Pop", service="Consultation", date="2026-12-09")
    update = await plan(state("cancel", flow=flow), MemoryRepository(CLINIC))
    assert update["booking"] == {"action": "cancel", "name": "Ana Pop"}
    assert reply_of(update) == ("no_booking", {"noun": "programarea",
                                               "noun_plain": "programare"})


async def test_a_stay_asks_the_check_in_and_proposes_a_free_room() -> None:
    repository = MemoryRepository(INN, customer_id=CUSTOMER,
                                  slots=[slot(DOUBLE, ROOM_102, local(SATURDAY, 14), nights=3)])
    asked = await plan(state("book", service="Double room"), repository, HOTEL)
    assert reply_of(asked) == ("ask_check_in", {"service": "Double room"})

    proposed = await plan(state("book", flow=asked["booking"], date=SATURDAY.isoformat(),
                                nights=3), repository, HOTEL)
    key, params = reply_of(proposed)
    assert (key, params["resource"], params["nights"]) == ("propose_stay", "Room 102", 3)
    pending = proposed["pending"]
    assert pending is not None
    assert (pending["nights"], pending["resource_id"]) == (3, str(ROOM_102.id))

    full = await plan(state("book", flow=asked["booking"], date=SATURDAY.isoformat(),
                            nights=4), repository, HOTEL)
    assert reply_of(full) == ("no_room", {"service": "Double room", "nights": 4,
                                          "date": "sâmbătă, 12 decembrie"})


async def test_a_cancel_proposes_the_next_booking_in_the_same_shape() -> None:
    later = booked(CLEANING, DR_ANA, CUSTOMER, local(dt.date(2026, 12, 20), 9))
    next_one = booked(CONSULTATION, DR_ANA, CUSTOMER, local(WEDNESDAY, 10))
    repository = MemoryRepository(CLINIC, customer_id=CUSTOMER,
                                  bookings={b.id: b for b in (later, next_one)})
    update = await plan(state("cancel", "vreau să anulez"), repository)
    key, params = reply_of(update)
    assert (key, params) == ("propose_cancel", {"noun": "programarea", "service": "Consultation",
                                                "when": "miercuri, 9 decembrie la 10:00"})
    assert update["pending"] == PendingChange(
        action="cancel", call_id=update["pending"]["call_id"] if update["pending"] else "",
        params=params, booking_id=str(next_one.id), service_id=str(CONSULTATION.id),
        resource_id=str(DR_ANA.id), start=next_one.start.isoformat(), nights=1, name=None)


async def test_a_reschedule_asks_when_then_keeps_the_same_dentist_when_free() -> None:
    current = booked(CONSULTATION, DR_ANA, CUSTOMER, local(WEDNESDAY, 10))
    saturday_slots = [slot(CONSULTATION, DR_RADU, local(SATURDAY, 11)),
                      slot(CONSULTATION, DR_ANA, local(SATURDAY, 11))]
    repository = MemoryRepository(CLINIC, customer_id=CUSTOMER, slots=saturday_slots,
                                  bookings={current.id: current})
    asked = await plan(state("reschedule", date=SATURDAY.isoformat()), repository)
    assert reply_of(asked) == ("ask_new_time", {"noun": "programarea", "service": "Consultation",
                                                "when": "miercuri, 9 decembrie la 10:00"})

    proposed = await plan(state("question", flow=asked["booking"], time="11:00"), repository)
    key, params = reply_of(proposed)
    assert key == "propose_reschedule"
    assert (params["resource"], params["old"]) == ("Dr. Ana", "miercuri, 9 decembrie la 10:00")
    pending = proposed["pending"]
    assert pending is not None
    assert (pending["booking_id"], pending["resource_id"]) == (str(current.id), str(DR_ANA.id))
    assert repository.searched_moving == [current.id]  # its own slot does not block the move


async def test_a_moved_stay_keeps_its_nights_unless_others_are_named() -> None:
    stay = booked(DOUBLE, ROOM_101, CUSTOMER, local(WEDNESDAY, 14), nights=2)
    repository = MemoryRepository(INN, customer_id=CUSTOMER, bookings={stay.id: stay}, slots=[
        slot(DOUBLE, ROOM_101, local(SATURDAY, 14), nights=4)])
    kept = await plan(state("reschedule", date=SATURDAY.isoformat()), repository, HOTEL)
    assert reply_of(kept)[0] == "propose_move_stay"
    assert kept["booking"]["nights"] == 2
    assert kept["pending"] is not None
    assert kept["pending"]["nights"] == 2

    longer = await plan(state("reschedule", date=SATURDAY.isoformat(), nights=4), repository,
                        HOTEL)
    assert longer["pending"] is not None
    assert longer["pending"]["nights"] == 4


async def test_services_are_named_in_the_customers_language() -> None:
    named = [s.model_copy(update={"names": {"ro": "Detartraj"}}) if s.name == "Cleaning" else s
             for s in CLINIC.services]
    repository = MemoryRepository(Catalogue(named, CLINIC.resources))
    update = await plan(state("prices"), repository)
    assert reply_of(update) == ("prices", {"prices": "Consultation 150 RON și Detartraj 250 RON"})
    english = state("prices", service="Cleaning")
    english["locale"] = "en"
    assert reply_of(await plan(english, repository)) == ("price_of", {"service": "Cleaning",
                                                                       "price": "250 RON"})


async def test_the_part_of_the_day_asked_for_narrows_the_times_or_is_said_to_be_full() -> None:
    repository = MemoryRepository(CLINIC, slots=[
        slot(CONSULTATION, DR_ANA, local(WEDNESDAY, hour)) for hour in (9, 10, 15, 16)])
    afternoon = await plan(state("availability", "aveti loc dupa-amiaza?", service="Consultation",
                                 date=WEDNESDAY.isoformat(), part_of_day="afternoon"),
                           repository)
    assert reply_of(afternoon) == ("ask_time", {"service": "Consultation",
                                                "date": "miercuri, 9 decembrie",
                                                "times": "15:00 și 16:00"})
    evening = await plan(state("availability", "si seara?", service="Consultation",
                               date=WEDNESDAY.isoformat(), part_of_day="evening"), repository)
    assert reply_of(evening) == ("part_full", {
        "service": "Consultation", "date": "miercuri, 9 decembrie", "part": "seara",
        "times": "09:00, 10:00, 15:00 și 16:00"})
    # the time chosen next is booked without the part of the day that had nothing
    assert "part_of_day" not in evening["booking"]


@pytest.mark.parametrize(("text", "slots", "expected"), [
    ("anulati programarea de sambata", {"date": SATURDAY.isoformat()}, "Cleaning"),
    ("anulez detartrajul", {"service": "Cleaning"}, "Cleaning"),
    ("vreau sa anulez", {}, "Consultation"),  # nothing named: the next one
    ("anulati programarea de luni", {"date": "2026-12-14"}, "Consultation"),  # none that day
])
async def test_a_cancel_acts_on_the_booking_named_by_its_day_or_service(
        text: str, slots: dict[str, str | int], expected: str) -> None:
    on_saturday = booked(CLEANING, DR_ANA, CUSTOMER, local(SATURDAY, 11))
    next_one = booked(CONSULTATION, DR_ANA, CUSTOMER, local(WEDNESDAY, 10))
    repository = MemoryRepository(CLINIC, customer_id=CUSTOMER,
                                  bookings={b.id: b for b in (on_saturday, next_one)})
    understanding = Understanding(intent="cancel", slots=slots)
    update = await plan({"inbound": {"text": text}, "locale": "ro",
                         "understanding": understanding}, repository)
    key, params = reply_of(update)
    assert (key, params["service"]) == ("propose_cancel", expected)
