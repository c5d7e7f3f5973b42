"""Long replies by SMS are cut into messages of at most 10 segments, as Twilio counts them
(GSM-7, or UCS-2 as soon as one character is not GSM-7: Romanian diacritics, emoji)."""

from __future__ import annotations

import pytest

from simptu.devstack.standins.twilio_payloads import sms_segments
from simptu.runtime.channels.text_parts import split_text, utf16_units
from simptu.runtime.channels.twilio.sms import part_limit

SENTENCE = {
    "GSM-7": "Va asteptam la clinica noastra, la etajul doi, langa farmacie. ",
    "UCS-2": "Vă așteptăm la clinica noastră, la etajul doi, lângă farmacie. ",
    "UCS-2 with emoji": "Vă așteptăm cu drag 🦷😀 la etajul doi, lângă farmacie! ",
}


@pytest.mark.parametrize("kind", list(SENTENCE))
def test_every_part_of_a_long_reply_is_at_most_ten_segments(kind: str) -> None:
    reply = SENTENCE[kind] * 80
    parts = split_text(reply, part_limit(reply), utf16_units)
    assert len(parts) > 1
    assert all(sms_segments(part).count <= 10 for part in parts), [
        sms_segments(part) for part in parts]
    assert " ".join(parts) == reply.strip()  # cut between sentences, nothing lost


def test_a_short_reply_is_one_message() -> None:
    reply = "Consultația costă 150 RON. 🙂"
    assert split_text(reply, part_limit(reply), utf16_units) == [reply]
