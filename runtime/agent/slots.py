"""What a customer's message names, in Romanian or English: a service of the catalogue, a
day ("mâine", "luni", "on Monday", "12 December"), a time ("la 10", "at 10:30", "3pm"), a
number of nights, and the customer's name. Pure functions of the text and today's date."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from rapidfuzz.distance import DamerauLevenshtein

from simptu.runtime.core.language import strip_diacritics

WEEKDAYS = {
    "luni": 0, "marti": 1, "miercuri": 2, "joi": 3, "vineri": 4, "sambata": 5, "duminica": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}
RELATIVE_DAYS = {"azi": 0, "astazi": 0, "today": 0, "tonight": 0, "diseara": 0,
                 "maine": 1, "tomorrow": 1, "tmrw": 1, "tmr": 1, "tomorow": 1, "poimaine": 2}
# Holidays customers name instead of a date (month, day).
HOLIDAYS = {"craciun": (12, 25), "christmas": (12, 25), "revelion": (12, 31),
            "anul nou": (1, 1), "new year": (1, 1)}
MONTHS = {
    "ianuarie": 1, "februarie": 2, "martie": 3, "aprilie": 4, "mai": 5, "iunie": 6,
    "iulie": 7, "august": 8, "septembrie": 9, "octombrie": 10, "noiembrie": 11,
    "decembrie": 12, "january": 1, "february": 2, "march": 3, "april": 4, "may": 5,
    "june": 6, "july": 7, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
NUMBER_WORDS = {"o": 1, "una": 1, "un": 1, "one": 1, "a": 1, "doua": 2, "doi": 2, "two": 2,
                "trei": 3,
                "three": 3, "patru": 4, "four": 4, "cinci": 5, "five": 5, "sase": 6, "six": 6,
                "sapte": 7, "seven": 7}

_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
DAYS_OF_MONTH = re.compile(rf"\b(\d{{1,2}})\s*-\s*(\d{{1,2}})\s+({_MONTH_NAMES})\b")
DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s*(?:-?(?:a|lea))?\s+({_MONTH_NAMES})\b")
MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
NUMERIC_DATE = re.compile(r"\b(\d{1,2})[./](\d{1,2})(?:[./](\d{4}))?\b(?![:.]\d)")
TIME_AFTER_WORD = re.compile(
    r"\b(?:la|ora|orele|at|around)\s+(?:ora\s+)?(\d{1,2})(?:[:.h](\d{2}))?(?![\d./])"
    rf"\s*(am|pm)?(?!\s*(?:nopti|noapte|nights?|zile|days?|persoane|people|{_MONTH_NAMES})\b)")
DAY_OF_MONTH = re.compile(r"\b(?:pe|on the|the)\s+(\d{1,2})(?:st|nd|rd|th)?\b(?![:.]\d)")
CLOCK_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b")
MERIDIEM_TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b")
NIGHTS = re.compile(r"\b(\d{1,2}|o|una|doua|trei|patru|cinci|sase|sapte|one|a|two|three|four"
                    r"|five|six|seven)\s+(?:nopti|noapte|nights?)\b")
NAME_WORDS = r"([A-ZĂÂÎȘŞȚŢ][a-zăâîșşțţ'-]+(?:\s+[A-ZĂÂÎȘŞȚŢ][a-zăâîșşțţ'-]+){0,2})"
NAME = re.compile(
    r"(?i:\bmă numesc|\bma numesc|\bnumele meu (?:este|e)|\bmy name is|\bmy name's|"
    r"\bname is|\bsunt|\bI am|\bI'm|\bthis is)\s+" + NAME_WORDS)
HALF_PAST = re.compile(r"\b(?:si|și) jumatate\b|\bhalf past\b")
# Parts of the day as customers say them; "buna seara" is a greeting, not an evening.
PARTS_OF_DAY = (
    ("morning", re.compile(r"(?<!buna )(?<!good )\b(dimineata|dimineaa|morning)\b")),
    ("afternoon", re.compile(r"\b(dupa[- ]?amiaza|dupa[- ]?masa|afternoon)\b")),
    ("evening", re.compile(r"(?<!buna )\b(seara|diseara|evening|tonight|tonite)\b")),
)
WEEKEND = re.compile(r"\b(?:(weekendul|weekend-ul)\s*(asta|acesta|viitor|urmator)?|"
                     r"(this|next|the)\s+weekend)\b")
# A price question's object: what is asked for, when the catalogue has no such service.
PRICE_OF = re.compile(r"\b(?:cat (?:ar |mai )?costa|cat e|how much (?:is|are|for|does)?|"
                      r"price (?:of|for)|charge for|rate for)\s+([^?!.,]+)")
# A question whether the business offers something ("aveti zumba?", "do you do braces").
OFFER_OF = re.compile(r"\b(?:aveti|oferiti|faceti|do you (?:have|offer|do)|have you got)\s+"
                      r"([^?!.,]+)")
# Words of such a question that are not the thing asked for.
NOT_ASKED_FOR = frozenset({
    "si", "also", "any", "ceva", "something", "anything", "classes", "class", "clase", "clasa",
    "cursuri", "curs", "ore", "de", "voi", "you", "there", "here", "aici", "acolo", "va", "rog",
    "loc", "locuri", "liber", "libere", "free", "space", "room", "rooms", "camere", "time",
})
NOT_A_THING = frozenset({
    "un", "o", "a", "an", "the", "for", "pt", "pentru", "pe", "per", "la", "de", "it", "this",
    "that", "asta", "aia", "one", "my", "me", "some", "si", "and", "pls", "please", "va", "rog",
    "cost", "costs", "costa", "night", "noapte", "nopti", "nights", "pret", "price", "prices",
    "preturi", "tarife", "list", "lista", "tot", "everything", "all"
})
# A misspelt service: "detartrj" is 0.89 from "detartraj", "spining" 0.88 from "spinning";
# words shorter than this are too easily near another ("camere" is not a misspelt "camera").
MISSPELT_SIMILARITY = 0.8
MISSPELT_MIN_LETTERS = 7
# A move from one day to another: what follows "de"/"din"/"from", and what follows "pe"/"to".
FROM_DAY_TO_DAY = re.compile(r"\b(?:de|din|from)\b(.+?)\b(?:pe|to|into)\b(.+)$")
PARTY = re.compile(r"\b(\d{1,2}|o|un|una|doua|doi|trei|patru|cinci|sase|one|a|two|three|four|"
                   r"five|six)\s+(persoane|persoana|people|persons|adulti|adults|copii|copil|"
                   r"children|child|kids|kid|guests|locuri|spots|places)\b")


@dataclass(frozen=True)
class Slots:
    """What one message named; None for what it did not."""

    service: str | None = None  # the catalogue's name of the service
    date: dt.date | None = None
    time: dt.time | None = None
    nights: int | None = None
    name: str | None = None
    part_of_day: str | None = None  # morning, afternoon or evening
    date_range: str | None = None  # "start/end", ISO dates
    party_size: int | None = None
    unoffered: str | None = None  # what a price question names that is not in the catalogue
    asked_for: str | None = None  # what "do you have X?" names that is not in the catalogue

    def named(self) -> dict[str, object]:
        return {key: value for key, value in self.__dict__.items() if value is not None}


def find_date(text: str, today: dt.date) -> dt.date | None:
    """The day a message names, relative to `today` (a weekday means the next one after it);
    of a move from one day to another ("de joi pe vineri", "from the 10th to the 12th"), the
    day it goes to."""
    plain = strip_diacritics(text.lower())
    if (move := FROM_DAY_TO_DAY.search(plain)) and _one_date(move[1], today) is not None:
        # the day it leaves, then the day it goes to
        return _one_date(move[2], today) or _one_date(plain, today)
    return _one_date(plain, today)


def _one_date(plain: str, today: dt.date) -> dt.date | None:
    for found in (_calendar_date(plain, today), _relative_date(plain, today)):
        if found is not None:
            return found
    return None


def _calendar_date(plain: str, today: dt.date) -> dt.date | None:
    if match := ISO_DATE.search(plain):
        return _valid_date(int(match[1]), int(match[2]), int(match[3]))
    if match := DAY_MONTH.search(plain):
        return _next_date(today, MONTHS[match[2]], int(match[1]))
    if match := MONTH_DAY.search(plain):
        return _next_date(today, MONTHS[match[1]], int(match[2]))
    if (match := NUMERIC_DATE.search(plain)) and match[3]:
        return _valid_date(int(match[3]), int(match[2]), int(match[1]))
    if match and (found := _next_date(today, int(match[2]), int(match[1]))):
        return found
    if match := DAY_OF_MONTH.search(plain):
        day = int(match[1])
        this_month = _valid_date(today.year, today.month, day)
        if this_month is not None and this_month >= today:
            return this_month
        following = today.replace(day=1) + dt.timedelta(days=32)
        return _valid_date(following.year, following.month, day)
    return None


def _relative_date(plain: str, today: dt.date) -> dt.date | None:
    words = re.findall(r"[a-z]+", plain)
    if re.search(r"\bseara asta\b", plain):
        return today
    for holiday, (month, day) in HOLIDAYS.items():
        if re.search(rf"\b{holiday}\b", plain):
            return _next_date(today, month, day)
    if "after" in words and "tomorrow" in words:
        return today + dt.timedelta(days=2)
    for word in words:
        if word in RELATIVE_DAYS:
            return today + dt.timedelta(days=RELATIVE_DAYS[word])
    for word in words:
        if word in WEEKDAYS:
            ahead = (WEEKDAYS[word] - today.weekday() - 1) % 7 + 1
            return today + dt.timedelta(days=ahead)
    return None


def _valid_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _next_date(today: dt.date, month: int, day: int) -> dt.date | None:
    """That day and month this year, or next year once it has passed."""
    found = _valid_date(today.year, month, day)
    if found is not None and found < today:
        found = _valid_date(today.year + 1, month, day)
    return found


def find_time(text: str) -> dt.time | None:
    """The time of day a message names ("la 10" is 10:00; "la 3" in the afternoon is 15:00
    only when it says pm)."""
    plain = strip_diacritics(text.lower())
    match = MERIDIEM_TIME.search(plain) or TIME_AFTER_WORD.search(plain) or CLOCK_TIME.search(
        plain)
    if match is None:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    meridiem = (match[3] if match.re.groups >= 3 else None) or ""
    if meridiem.startswith("p") and hour < 12:
        hour += 12
    elif meridiem.startswith("a") and hour == 12:
        hour = 0
    if minute == 0 and HALF_PAST.search(plain):
        minute = 30
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def find_stay(text: str, today: dt.date) -> tuple[dt.date, int] | None:
    """A stay said as days of a month ("5-7 decembrie"): its check-in and nights."""
    match = DAYS_OF_MONTH.search(strip_diacritics(text.lower()))
    if match is None or int(match[2]) <= int(match[1]):
        return None
    check_in = _next_date(today, MONTHS[match[3]], int(match[1]))
    return (check_in, int(match[2]) - int(match[1])) if check_in else None


def find_nights(text: str) -> int | None:
    plain = strip_diacritics(text.lower())
    match = NIGHTS.search(plain)
    if match is None:
        return None
    count = match[1]
    return int(count) if count.isdigit() else NUMBER_WORDS[count]


def find_name(text: str) -> str | None:
    """A name the customer gives ("mă numesc Ana Pop", "my name is John"), capitalised."""
    match = NAME.search(text)
    return match[1].strip() if match else None


def find_service(text: str, vocabulary: Mapping[str, Iterable[str]]) -> str | None:
    """The service a message names: `vocabulary` maps each catalogue name to the words
    customers use for it (any language, without diacritics); the longest match wins, and
    without one, the word nearest to a misspelt one ("detartrj", "consultaite")."""
    plain = _words_of(text)
    best: tuple[int, str] | None = None
    for service, needle in _needles(vocabulary):
        if f" {needle} " in f" {plain} " and (best is None or len(needle) > best[0]):
            best = (len(needle), service)
    return best[1] if best else _misspelt_service(plain.split(), vocabulary)


def _words_of(text: str) -> str:
    """`text` as lowercase words without diacritics, separated by one space."""
    return re.sub(r"[^a-z0-9]+", " ", strip_diacritics(text.lower())).strip()


def _needles(vocabulary: Mapping[str, Iterable[str]]) -> Iterator[tuple[str, str]]:
    for service, words in vocabulary.items():
        for word in (service, *words):
            if needle := _words_of(word):
                yield service, needle


def _misspelt_service(words: list[str], vocabulary: Mapping[str, Iterable[str]]) -> str | None:
    """The service whose word (of seven letters or more) is nearest to as many words of the
    message, within one or two typing errors (rapidfuzz's Damerau-Levenshtein)."""
    best: tuple[float, str] | None = None
    for service, needle in _needles(vocabulary):
        size = needle.count(" ") + 1
        if len(needle) < MISSPELT_MIN_LETTERS:
            continue
        for start in range(len(words) - size + 1):
            said = " ".join(words[start:start + size])
            score = DamerauLevenshtein.normalized_similarity(said, needle)
            if score >= MISSPELT_SIMILARITY and (best is None or score > best[0]):
                best = (score, service)
    return best[1] if best else None


def find_part_of_day(text: str) -> str | None:
    plain = strip_diacritics(text.lower())
    return next((part for part, pattern in PARTS_OF_DAY if pattern.search(plain)), None)


def find_weekend(text: str, today: dt.date) -> tuple[dt.date, dt.date] | None:
    """Saturday and Sunday of "this weekend" (the coming one) or "next weekend" (a week on)."""
    match = WEEKEND.search(strip_diacritics(text.lower()))
    if match is None:
        return None
    saturday = today + dt.timedelta(days=(5 - today.weekday()) % 7)
    if today.weekday() == 6:
        saturday = today - dt.timedelta(days=1)
    if match[2] in ("viitor", "urmator") or match[3] == "next":
        saturday += dt.timedelta(days=7)
    return saturday, saturday + dt.timedelta(days=1)


def find_party_size(text: str) -> int | None:
    """How many people ("2 adulti si un copil" is 3, "for two people" 2)."""
    counts = PARTY.findall(strip_diacritics(text.lower()))
    if not counts:
        return None
    return sum(int(n) if n.isdigit() else NUMBER_WORDS.get(n, 2) for n, _ in counts)


def find_unoffered(text: str) -> str | None:
    """What a price question asks about in its own words ("albirea dintilor"), for the
    honest answer when the catalogue has no service by that name."""
    match = PRICE_OF.search(strip_diacritics(text.lower()))
    if match is None:
        return None
    words = [w for w in re.findall(r"[a-z]+", match[1]) if w not in NOT_A_THING]
    return " ".join(words[:3]) or None


def find_asked_for(text: str) -> str | None:
    """What a question whether the business offers something names ("aveti zumba?" is
    "zumba"), in its own words."""
    match = OFFER_OF.search(strip_diacritics(text.lower()))
    if match is None:
        return None
    words = [w for w in re.findall(r"[a-z]+", match[1])
             if w not in NOT_A_THING and w not in NOT_ASKED_FOR]
    return " ".join(words[:3]) or None


def extract(text: str, today: dt.date, vocabulary: Mapping[str, Iterable[str]]) -> Slots:
    part, weekend = find_part_of_day(text), find_weekend(text, today)
    time, stay = find_time(text), find_stay(text, today)
    if time is not None and time.hour < {"afternoon": 8, "evening": 12}.get(part or "", 0):
        time = time.replace(hour=time.hour + 12)  # "joi seara la 7" is 19:00
    service = find_service(text, vocabulary)
    date = stay[0] if stay else None if weekend else find_date(text, today)
    nights = stay[1] if stay else find_nights(text)
    # "aveti loc maine?" asks about a time, not whether "loc" is offered.
    says_when = any(found is not None for found in (date, time, nights, part, weekend))
    return Slots(service=service, unoffered=None if service else find_unoffered(text),
                 asked_for=None if service or says_when else find_asked_for(text),
                 date=date, time=time, nights=nights, name=find_name(text), part_of_day=part,
                 date_range=f"{weekend[0]}/{weekend[1]}" if weekend else None,
                 party_size=find_party_size(text))
