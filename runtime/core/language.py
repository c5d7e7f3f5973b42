"""Which language a customer writes in (Romanian or English), from diacritics and common
words: cheap, offline, and right for the short messages of a chat."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Locale = Literal["ro", "en"]
LOCALES: tuple[Locale, ...] = ("ro", "en")

ROMANIAN_LETTERS = set("ăâîșşțţĂÂÎȘŞȚŢ")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ROMANIAN_WORDS = _words("""
    buna bună salut vreau o un si și sa să la pe de din cu nu da este e sunt am aveti aveți
    cat cât costa costă programare programez rezerv rezervare maine mâine azi astazi astăzi
    luni marti marți miercuri joi vineri sambata sâmbătă duminica duminică ora orele pentru
    multumesc mulțumesc mersi va vă pot puteti puteți mi ma mă meu mea numele numesc ce cand
    când unde cum care doresc doriti doriți anulez anulati anulați mut camera cameră nopti nopți
    noapte clasa clasă ziua seara dimineata dimineața bine rog poimaine poimâine
""")
ENGLISH_WORDS = _words("""
    hello hi hey i a an the and to on at is are am my me you your we can could would like want
    book booking appointment please thanks thank how much what when where which do does have
    tomorrow today monday tuesday wednesday thursday friday saturday sunday for of it this that
    yes no cancel reschedule name room night nights class price prices open hours available
    free good morning evening afternoon there need
""")
WORD = re.compile(r"[a-zăâîșşțţ]+", re.IGNORECASE)


def strip_diacritics(text: str) -> str:
    """`text` without accents and cedillas (`mâine` → `maine`), for matching what people type."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def detect_language(text: str, fallback: Locale = "ro") -> Locale:
    """`ro` or `en`; `fallback` (the session's or tenant's language) when the text says neither."""
    if any(c in ROMANIAN_LETTERS for c in text):
        return "ro"
    words = [w.lower() for w in WORD.findall(text)]
    ro = sum(1 for w in words if w in ROMANIAN_WORDS)
    en = sum(1 for w in words if w in ENGLISH_WORDS)
    if ro == en:
        return fallback
    return "ro" if ro > en else "en"
