"""The local model's replies: one template per answer and language, filled with what the
actions found, and cut into pieces so it streams like a hosted model's reply."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

from simptu.runtime.core.language import Locale

TEMPLATES: dict[str, dict[Locale, str]] = {
    "greeting": {
        "ro": "Bună ziua! Sunt asistentul virtual al {business}. Vă pot ajuta cu programări, "
              "prețuri și programul nostru. Cu ce vă pot ajuta?",
        "en": "Hello! I am the virtual assistant of {business}. I can help with bookings, prices "
              "and our opening hours. How can I help you?"},
    "hours": {"ro": "Programul nostru: {hours}.", "en": "Our opening hours: {hours}."},
    "hours_on": {"ro": "{date} suntem deschiși între {opens} și {closes}.",
                 "en": "On {date} we are open from {opens} to {closes}."},
    "closed_on": {"ro": "{date} suntem închiși. Programul nostru: {hours}.",
                  "en": "On {date} we are closed. Our opening hours: {hours}."},
    "not_offered": {"ro": "Nu oferim {asked}. Vă putem ajuta cu: {services}.",
                    "en": "We do not offer {asked}. We offer: {services}."},
    "not_listed": {"ro": "Nu găsesc {asked} printre serviciile noastre. Vă putem ajuta cu: "
                         "{services}.",
                   "en": "I cannot find {asked} among our services. We offer: {services}."},
    "prices": {"ro": "Prețurile noastre: {prices}.", "en": "Our prices: {prices}."},
    "price_of": {"ro": "{service} costă {price}.", "en": "{service} costs {price}."},
    "services": {"ro": "Vă putem ajuta cu: {services}. Doriți o programare?",
                 "en": "We offer: {services}. Would you like to book?"},
    "ask_service": {"ro": "Pentru ce serviciu? Avem: {services}.",
                    "en": "For which service? We have: {services}."},
    "ask_date": {"ro": "Ce zi v-ar conveni pentru {service}?",
                 "en": "Which day would suit you for {service}?"},
    "ask_check_in": {"ro": "Din ce zi doriți să vă cazați și pentru câte nopți?",
                     "en": "From which day would you like to stay, and for how many nights?"},
    "ask_time": {"ro": "{date} avem liber pentru {service} la: {times}. Ce oră preferați?",
                 "en": "On {date} {service} is free at: {times}. Which time do you prefer?"},
    "time_taken": {"ro": "Ora {time} nu este liberă {date}. Avem liber la: {times}. "
                         "Ce oră preferați?",
                   "en": "{time} is not free on {date}. We are free at: {times}. "
                         "Which time do you prefer?"},
    "day_full": {"ro": "Din păcate, {date} nu mai avem locuri pentru {service}. "
                       "Vă convine altă zi?",
                 "en": "Sorry, there is no place left for {service} on {date}. "
                       "Would another day suit you?"},
    "part_full": {"ro": "{date} {part} nu mai avem locuri pentru {service}. Avem liber la: "
                        "{times}. Ce oră preferați?",
                  "en": "On {date} {service} has no place left {part}. We are free at: "
                        "{times}. Which time do you prefer?"},
    "no_room": {"ro": "Din păcate, nu avem {service} liberă {nights} nopți de {date}. "
                      "Vă convin alte date?",
                "en": "Sorry, no {service} is free for {nights} night(s) from {date}. "
                      "Would other dates suit you?"},
    "ask_name": {"ro": "Pe ce nume fac {noun}?", "en": "What name should I put the {noun} under?"},
    "propose_book": {
        "ro": "Confirmați {noun}: {service}, {when}, cu {resource}, pe numele {name}? (da/nu)",
        "en": "Shall I book {service} on {when} with {resource} for {name}? (yes/no)"},
    "propose_stay": {
        "ro": "Confirmați {noun}: {service} ({resource}), {nights} nopți de {when}, "
              "pe numele {name}? (da/nu)",
        "en": "Shall I reserve {service} ({resource}) for {nights} night(s) from {when} "
              "for {name}? (yes/no)"},
    "booked": {"ro": "Gata, {noun} este confirmată: {service}, {when}. Vă așteptăm!",
               "en": "Done, your {noun} is confirmed: {service}, {when}. See you then!"},
    "declined": {"ro": "Bine, nu am schimbat nimic. Cu ce altceva vă pot ajuta?",
                 "en": "All right, I changed nothing. What else can I do for you?"},
    "no_booking": {"ro": "Nu găsesc nicio {noun_plain} viitoare în această conversație.",
                   "en": "I cannot find an upcoming {noun} in this conversation."},
    "propose_cancel": {"ro": "Anulez {noun} pentru {service}, {when}? (da/nu)",
                       "en": "Shall I cancel your {noun} for {service} on {when}? (yes/no)"},
    "cancelled": {"ro": "Am anulat {noun} pentru {service}, {when}.",
                  "en": "Your {noun} for {service} on {when} is cancelled."},
    "ask_new_time": {"ro": "Pe ce zi și oră mutăm {noun} pentru {service} ({when})?",
                     "en": "To which day and time shall I move your {noun} for {service} "
                           "({when})?"},
    "ask_new_check_in": {"ro": "Din ce zi mutăm {noun} pentru {service} (acum de {when})?",
                         "en": "To which check-in day shall I move your {service} {noun} "
                               "(now from {when})?"},
    "propose_move_stay": {"ro": "Mut {noun} pentru {service} ({resource}) de {old} pe {nights} "
                                "nopți de {when}? (da/nu)",
                          "en": "Shall I move your {service} {noun} ({resource}) from {old} to "
                                "{nights} night(s) from {when}? (yes/no)"},
    "propose_reschedule": {"ro": "Mut {noun} pentru {service} de {old} pe {when}? (da/nu)",
                           "en": "Shall I move your {service} {noun} from {old} to {when}? "
                                 "(yes/no)"},
    "rescheduled": {"ro": "Gata, {noun} pentru {service} este acum {when}.",
                    "en": "Done, your {service} {noun} is now on {when}."},
    "failed": {"ro": "Nu am putut face asta: {reason}. Încercăm altă oră?",
               "en": "I could not do that: {reason}. Shall we try another time?"},
    "handoff": {"ro": "Vă transfer la un coleg, care vă va răspunde aici cât de curând.",
                "en": "I am handing you over to a colleague, who will answer here shortly."},
    "thanks": {"ro": "Cu plăcere! O zi bună!", "en": "You are welcome! Have a nice day!"},
    "answer": {"ro": "{answer}", "en": "{answer}"},
    "unknown": {"ro": "Nu sunt sigur că am înțeles. Vă pot ajuta cu programări, prețuri și "
                      "programul nostru, sau vă pot transfera la un coleg.",
                "en": "I am not sure I understood. I can help with bookings, prices and our "
                      "opening hours, or hand you over to a colleague."},
    "nothing_changed": {
        "ro": "Nu am schimbat nimic: alegerea trimisă nu (mai) este printre orele oferite. "
              "Alegeți una dintre orele oferite acum sau scrieți-mi ce oră doriți.",
        "en": "Nothing changed: that choice is not (or no longer) among the times on offer. "
              "Please pick one of the times offered now, or tell me which time you would "
              "like."},
    "busy": {"ro": "Încă vă răspund la mesajul anterior; vă rog să-mi scrieți din nou după "
                   "ce primiți răspunsul.",
             "en": "I am still answering your previous message; please write again once you "
                   "have my answer."},
}

WEEKDAY_NAMES: dict[Locale, tuple[str, ...]] = {
    "ro": ("luni", "marți", "miercuri", "joi", "vineri", "sâmbătă", "duminică"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")}
MONTH_NAMES: dict[Locale, tuple[str, ...]] = {
    "ro": ("ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august",
           "septembrie", "octombrie", "noiembrie", "decembrie"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")}
AND: dict[Locale, str] = {"ro": "și", "en": "and"}
# A piece ends after a sentence, a clause or a list item: small enough to appear at once.
PIECE = re.compile(r"[^.!?,;:]+[.!?,;:]*\s*")


def render(key: str, locale: Locale, params: Mapping[str, object]) -> str:
    return TEMPLATES[key][locale].format_map(dict(params))


def pieces(text: str) -> list[str]:
    """`text` cut into the deltas it is streamed as; joined, they are `text` again."""
    found = PIECE.findall(text)
    return found if "".join(found) == text else [text]


def say_date(day: dt.date, locale: Locale) -> str:
    weekday, month = WEEKDAY_NAMES[locale][day.weekday()], MONTH_NAMES[locale][day.month - 1]
    return f"{weekday}, {day.day} {month}" if locale == "ro" else f"{weekday} {day.day} {month}"


def say_when(start: dt.datetime, locale: Locale) -> str:
    at = "la" if locale == "ro" else "at"
    return f"{say_date(start.date(), locale)} {at} {start:%H:%M}"


def say_list(items: Iterable[str], locale: Locale) -> str:
    items = list(items)
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {AND[locale]} {items[-1]}"


PARTS_OF_DAY_SAID: dict[Locale, dict[str, str]] = {
    "ro": {"morning": "dimineața", "afternoon": "după-amiaza", "evening": "seara"},
    "en": {"morning": "in the morning", "afternoon": "in the afternoon",
           "evening": "in the evening"}}


def say_part_of_day(part: str, locale: Locale) -> str:
    return PARTS_OF_DAY_SAID[locale].get(part, part)
