"""What a caller who asks for a person hears: put through to the tenant's staff number, or,
with none, asked for a message that staff will call back about."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from simptu.runtime.channels.twilio.voice import put_through
from simptu.runtime.channels.twilio.webhook import Caller
from simptu.runtime.core.channels.accounts import ChannelAccount
from simptu.runtime.core.registry import TenantRecord

CLINIC = TenantRecord(slug="zambet", status="Ready", business_type="dental-clinic",
                      display_name="Zâmbet", schema_name="t_zambet", transit_key="t-zambet",
                      locale="ro-RO", timezone="Europe/Bucharest")


def twiml(document: str) -> ET.Element:
    return ET.fromstring(document)  # noqa: S314 - our own TwiML


def caller(**credentials: str) -> Caller:
    return Caller(CLINIC, ChannelAccount("sms", "AC" + "0" * 32,
                                         {"authToken": "token", **credentials}))


def test_a_caller_is_put_through_to_the_staff_number() -> None:
    document = twiml(put_through(caller(staffPhoneNumber="+40364100299"),
                                         "Vă fac legătura."))
    assert [verb.tag for verb in document] == ["Say", "Dial"]
    assert document.findtext("Dial") == "+40364100299"


def test_without_a_staff_number_the_caller_leaves_a_message_then_hears_goodbye() -> None:
    document = twiml(put_through(caller(), "Vă fac legătura cu un coleg."))
    assert [verb.tag for verb in document] == ["Say", "Gather", "Say", "Hangup"]
    gather = document.find("Gather")
    assert gather is not None
    assert gather.attrib["action"] == "/v1/webhooks/twilio/voice/message"
    assert (gather.attrib["input"], gather.attrib["language"]) == ("speech", "ro-RO")
    assert "mesajul" in (gather.findtext("Say") or "")
    assert "suna înapoi" in (document.findall("Say")[-1].text or "")
