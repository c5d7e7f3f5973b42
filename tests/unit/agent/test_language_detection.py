"""Which language a customer writes in, from diacritics and common words."""

from __future__ import annotations

import pytest

from simptu.runtime.core.language import detect_language, strip_diacritics


@pytest.mark.parametrize("text", ["Bună ziua!", "Cât costă o detartrare?", "mâine la 10",
                                  "vreau o programare pentru luni", "Salut, aveti loc la yoga?"])
def test_romanian_is_recognised_with_or_without_diacritics(text: str) -> None:
    assert detect_language(text, fallback="en") == "ro"


@pytest.mark.parametrize("text", ["Hello!", "How much is a filling?", "tomorrow at 10",
                                  "I would like to book a room for two nights"])
def test_english_is_recognised(text: str) -> None:
    assert detect_language(text, fallback="ro") == "en"


@pytest.mark.parametrize("fallback", ["ro", "en"])
def test_a_message_in_no_language_keeps_the_conversations_language(fallback: str) -> None:
    assert detect_language("10:30 ?", fallback=fallback) == fallback  # type: ignore[arg-type]


def test_diacritics_are_stripped_for_matching() -> None:
    assert strip_diacritics("Mâine, marți, ștergem țața") == "Maine, marti, stergem tata"
