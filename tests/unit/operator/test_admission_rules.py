"""The rules across Tenants the admission webhook enforces: one tenant per channel identifier."""

from __future__ import annotations

from simptu.operator.admission import channel_claims, clashes

CLINIC = {"channels": {"whatsapp": {"phoneNumberId": "104857600123456"},
                       "twilio": {"phoneNumbers": ["+40264000111", "+40264000112"]},
                       "email": {"addresses": ["Programari@Zambet.example"]},
                       "web": {"allowedOrigins": ["https://zambet.example"]}}}


def test_every_identifier_that_routes_messages_is_claimed_and_web_origins_are_not() -> None:
    assert set(channel_claims(CLINIC)) == {
        "whatsapp:104857600123456", "twilio:+40264000111", "twilio:+40264000112",
        "email:programari@zambet.example"}
    assert channel_claims({}) == {}


def test_a_claim_held_by_another_tenant_is_a_clash_in_words() -> None:
    owners = {"twilio:+40264000112": ["pulse-gym"], "email:programari@zambet.example": ["x"]}
    assert clashes("zambet", CLINIC, owners) == [
        "e-mail address Programari@Zambet.example is already used by Tenant x",
        "Twilio phone number +40264000112 is already used by Tenant pulse-gym"]


def test_a_tenant_keeping_its_own_identifiers_is_no_clash() -> None:
    owners = {claim: ["zambet"] for claim in channel_claims(CLINIC)}
    assert clashes("zambet", CLINIC, owners) == []
